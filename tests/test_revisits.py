"""Revisits, removals, vanished entries, gzipped sitemaps, backfill and purges, on a living site.

Real stages (crawl subprocess with Scrapy, extraction, load) against ``tests.minisite`` on
loopback; time moves with ``NEWSFLOW_NOW``; the site records exactly what was requested.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from crawlers.revisits import next_due, plan_revisits, schedule_origin
from crawlers.state import Known
from pipeline.config import Limits
from pipeline.db.models import ArticlePurge
from pipeline.urls import url_hash
from tests.minisite import MiniSite
from tests.pipeline_runs import fetches, run_at, run_row

T0 = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)
SCHEDULE = Limits().revisit_ages()


def known(
    published: datetime, visited: datetime, *, article_id: int, url: str = "", **extra: object
) -> Known:
    return Known(
        '"e"',
        None,
        visited,
        published,
        published,
        "h",
        True,
        stored=True,
        url=url or f"http://x/news/{article_id}",
        article_id=article_id,
        **extra,  # type: ignore[arg-type]
    )


def test_schedule_origin_distrusts_a_bare_date() -> None:
    """A URL date (outlet's local day) must not shift the 1 d revisit before a 24 h edit."""
    url_date = datetime(2026, 9, 30, tzinfo=UTC)  # /2026/09/30/ of a story live at 10-01 03:25 UTC
    first_seen = datetime(2026, 10, 1, 4, tzinfo=UTC)
    assert schedule_origin(url_date, first_seen) == first_seen
    story = Known(
        '"e"', None, first_seen, first_seen, url_date, "h", True, stored=True, url="u", article_id=1
    )
    assert next_due(story, SCHEDULE) == first_seen + timedelta(hours=1)
    assert schedule_origin(url_date, url_date + timedelta(days=3)) == url_date  # found late: the date
    timed = datetime(2026, 10, 1, 3, 25, tzinfo=UTC)
    assert schedule_origin(timed, first_seen) == timed
    assert schedule_origin(first_seen + timedelta(hours=5), first_seen) == first_seen  # future-dated
    assert schedule_origin(None, first_seen) == first_seen
    # A backlog story (found days later): the page's modified time at first capture, when it
    # lies in the span the bare date allows, is the origin (the 5 d revisit then catches a 5 d edit).
    backlog_date = datetime(2026, 9, 29, tzinfo=UTC)
    truth = datetime(2026, 9, 30, 0, 47, tzinfo=UTC)
    assert schedule_origin(backlog_date, first_seen, truth) == truth
    assert schedule_origin(backlog_date, first_seen, truth + timedelta(days=3)) == backlog_date


def test_schedule_due_times_order_cap_and_end() -> None:
    now = T0
    young = known(now - timedelta(minutes=70), now - timedelta(minutes=60), article_id=1)  # due at 1 h
    day = known(now - timedelta(days=1, hours=2), now - timedelta(hours=14), article_id=2)  # 12 h -> 1 d
    fresh = known(now - timedelta(minutes=30), now - timedelta(minutes=25), article_id=3)  # 1 h not reached
    old = known(now - timedelta(days=40), now - timedelta(days=9), article_id=4)  # seen at 31 d: done
    gone = known(now - timedelta(hours=5), now - timedelta(hours=4), article_id=5, purged=True)
    assert next_due(young, SCHEDULE) == now - timedelta(minutes=10)
    assert next_due(day, SCHEDULE) == now - timedelta(hours=2)
    assert next_due(old, SCHEDULE) is None
    table = {str(i): k for i, k in enumerate((young, day, fresh, old, gone))}
    plan = plan_revisits(table, SCHEDULE, now=now, cap=5)
    # Oldest due first: the day-old story (due 2 h ago) before the young one (due 10 min ago).
    assert [d.known.article_id for d in plan.selected] == [2, 1] and not plan.deferred
    capped = plan_revisits(table, SCHEDULE, now=now, cap=1)
    assert [d.known.article_id for d in capped.selected] == [2]
    assert [d.known.article_id for d in capped.deferred] == [1]
    # One request per article: of two URLs that gave article 1, the one visited last.
    twin = known(young.published or now, now - timedelta(minutes=65), article_id=1, url="http://x/amp/1")
    single = plan_revisits({"a": young, "b": twin}, SCHEDULE, now=now, cap=5)
    assert [d.url for d in single.selected] == ["http://x/news/1"]
    assert plan_revisits({"a": young}, SCHEDULE, now=now, cap=5, purged={"a"}).selected == []


def test_revisits_come_from_the_database_in_due_order_capped(
    site: MiniSite, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for minutes, slug in ((55, "early-story"), (50, "middle-story"), (30, "late-story")):
        site.add(slug, T0 - timedelta(minutes=minutes))
    site.add("ancient-story", T0 - timedelta(days=40))
    sources = site.sources_yaml(tmp_path / "sources.yaml", limits={"max_revisits_per_run": 2})
    assert run_at(monkeypatch, T0, "r1", sources=sources, db_url=sqlite_url).passed
    # The feed moves on: none of the stored stories is listed any more.
    site.feed = []
    site.add("fresh-story", T0 + timedelta(minutes=100))
    site.stories["middle-story"].edit = 1  # a correction nobody announces
    site.clear()
    second = run_at(monkeypatch, T0 + timedelta(hours=2), "r2", sources=sources, db_url=sqlite_url)
    assert second.passed, second.failure
    # All three reached their 1 h slot; the two most overdue go, the third waits.
    assert [len(site.asked(s)) for s in ("early-story", "middle-story", "late-story")] == [1, 1, 0]
    assert all(r.if_none_match for s in ("early-story", "middle-story") for r in site.asked(s))
    assert not site.asked("ancient-story")  # older than the last schedule age
    rows = {r.url: r for r in fetches(sqlite_url, "r2")}
    assert rows[site.url("early-story")].discovery == "revisit"
    assert rows[site.url("early-story")].hints["plan"] == "revisit due"
    assert rows[site.url("middle-story")].hints["change"] == "changed"
    stats = run_row(sqlite_url, "r2")
    assert stats.articles_updated == 1  # the correction was captured
    assert stats.stats["crawl"]["revisits_due"] == 3 and stats.stats["crawl"]["revisits_deferred"] == 1
    site.clear()
    third = run_at(monkeypatch, T0 + timedelta(hours=2, minutes=2), "r3", sources=sources, db_url=sqlite_url)
    assert third.passed, third.failure
    assert [len(site.asked(s)) for s in ("early-story", "middle-story", "late-story")] == [0, 0, 1]


def test_removals_vanished_entries_and_purges(
    site: MiniSite, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for hours, slug in ((6, "gone-story"), (5, "missing-story"), (4, "moved-story"), (3, "kept-story")):
        site.add(slug, T0 - timedelta(hours=hours))
    site.add("quiet-retraction", T0 - timedelta(hours=3, minutes=10))
    site.add("purged-story", T0 - timedelta(hours=1))
    # The section front is a listing too: a redirect into it may meet it already claimed.
    sources = site.sources_yaml(tmp_path / "sources.yaml", discovery={"listings": [site.base + "/news/"]})
    assert run_at(monkeypatch, T0, "r1", sources=sources, db_url=db_url).passed
    # Retractions: 410, 404, a redirect to the section front; one dropped from the feed only.
    site.stories["gone-story"].kind = "gone"
    site.stories["missing-story"].kind = "missing"
    site.stories["moved-story"].kind = "front"
    site.stories["quiet-retraction"].kind = "gone"
    site.feed.remove("quiet-retraction")
    engine = create_engine(db_url)
    with Session(engine) as session:
        session.add(
            ArticlePurge(
                url=site.url("purged-story"),
                url_hash=url_hash(site.url("purged-story")),
                reason="takedown",
                purged_at=T0,
            )
        )
        session.commit()
    engine.dispose()
    site.clear()
    # At 8.5 h the 12 h slot is due for the first three; the others' next slots are later
    # (the purged story's 3 h slot has passed, but a tombstone is never asked).
    second = run_at(monkeypatch, T0 + timedelta(hours=8, minutes=30), "r2", sources=sources, db_url=db_url)
    rows = {r.url: r for r in fetches(db_url, "r2")}
    expected = {
        "gone-story": "HTTP 410 Gone",
        "missing-story": "HTTP 404 Not Found",
        "moved-story": f"redirected to {site.base}/news/, which is not an article",
        "quiet-retraction": "HTTP 410 Gone",
    }
    for slug, reason in expected.items():
        row = rows[site.url(slug)]
        assert row.hints.get("removal") == reason, (slug, row.hints)
        assert row.is_article_candidate is False
    # The vanished entry was refetched this run although its schedule slot is hours away.
    vanished = rows[site.url("quiet-retraction")]
    assert vanished.discovery == "revisit" and vanished.hints["plan"] == f"vanished from {site.base}/feed.rss"
    assert not site.asked("kept-story")  # listed, stored, not due: no request
    # The purged story is listed by the feed but never requested.
    assert not site.asked("purged-story") and site.url("purged-story") not in rows
    assert run_row(db_url, "r2").stats["crawl"]["skipped_purged"] == 1
    # Retractions are not errors of the site: the gate passes.
    assert second.passed, second.failure
    assert second.checked is not None and second.checked.metrics["retractions"] == 3


def test_gzipped_sitemap_is_read_and_a_bomb_is_refused(
    site: MiniSite, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site.add("mapped-story", T0 - timedelta(hours=1), listed=False)
    site.add("other-story", T0 - timedelta(hours=2), listed=False)
    site.sitemap = ["mapped-story", "other-story"]
    sources = site.sources_yaml(tmp_path / "sources.yaml")
    first = run_at(monkeypatch, T0, "r1", sources=sources, db_url=sqlite_url)
    assert first.passed, first.failure
    rows = {r.url: r for r in fetches(sqlite_url, "r1")}
    sitemap = rows[site.base + "/sitemap.xml.gz"]
    assert sitemap.outcome == "fetched" and sitemap.hints["gzip"] is True and sitemap.hints["entries"] == 2
    assert (
        rows[site.url("mapped-story")].discovery == "sitemap"
        and rows[site.url("mapped-story")].is_article_candidate
    )
    assert first.checked is not None and first.checked.metrics["articles_loaded"] == 2
    site.sitemap_bomb = True
    run_at(monkeypatch, T0 + timedelta(minutes=5), "r2", sources=sources, db_url=sqlite_url)
    bomb = {r.url: r for r in fetches(sqlite_url, "r2")}[site.base + "/sitemap.xml.gz"]
    assert bomb.outcome == "error" and bomb.error_category == "too_large"
    assert "max_response_bytes" in (bomb.error_message or "")


def test_gzipped_sitemap_index_found_through_robots_txt_crawls(
    site: MiniSite, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """robots.txt's relative ``Sitemap:`` line -> a gzipped index -> a gzipped urlset -> stories."""
    site.add("indexed-story", T0 - timedelta(hours=1), listed=False)
    site.sitemap = ["indexed-story"]
    site.sitemap_via_robots = True
    sources = site.sources_yaml(tmp_path / "sources.yaml")
    first = run_at(monkeypatch, T0, "r1", sources=sources, db_url=sqlite_url)
    assert first.passed, first.failure
    rows = {r.url: r for r in fetches(sqlite_url, "r1")}
    index = rows[site.base + "/sitemap-index.xml.gz"]
    assert index.outcome == "fetched" and index.hints["gzip"] is True and index.hints["sitemap"] == "index"
    child = rows[site.base + "/sitemap.xml.gz"]
    assert child.outcome == "fetched" and child.hints["entries"] == 1 and child.hints["sitemap"] == "urlset"
    story = rows[site.url("indexed-story")]
    assert story.discovery == "sitemap" and story.is_article_candidate
    assert first.checked is not None and first.checked.metrics["articles_loaded"] >= 1


def test_backfill_reads_only_the_window_from_feeds(
    site: MiniSite, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for hours, slug in ((10, "too-new"), (30, "inside-late"), (36, "inside-early"), (47, "too-old")):
        site.add(slug, T0 - timedelta(hours=hours))
    sources = site.sources_yaml(tmp_path / "sources.yaml", discovery={"listings": [site.base + "/news/"]})
    window = (T0 - timedelta(hours=40), T0 - timedelta(hours=24))
    filled = run_at(monkeypatch, T0, "bf1", sources=sources, db_url=sqlite_url, backfill=True, window=window)
    assert filled.passed, filled.failure
    asked = {r.path for r in site.requests}
    assert asked >= {"/feed.rss", "/news/inside-late", "/news/inside-early"}
    assert not asked & {"/news/too-new", "/news/too-old", "/news/"}  # nothing outside, no listing
    run = run_row(sqlite_url, "bf1")
    assert run.params["backfill"] is True and run.articles_new == 2
    report = run.stats["crawl"]["backfill"]
    assert report["entries_in_window"] == 2 and report["entries_outside_window"] == 2
    assert report["requested"] == 2 and report["surfaces_not_reaching_back"] == []
    # A window older than anything the feed still lists: recorded as not recoverable, and the
    # gate does not fail a backfill for finding nothing.
    site.clear()
    old_window = (T0 - timedelta(days=5), T0 - timedelta(days=4))
    empty = run_at(
        monkeypatch, T0, "bf2", sources=sources, db_url=sqlite_url, backfill=True, window=old_window
    )
    assert empty.passed, empty.failure
    assert {r.path for r in site.requests} == {"/robots.txt", "/feed.rss"}
    report = run_row(sqlite_url, "bf2").stats["crawl"]["backfill"]
    assert report["entries_in_window"] == 0 and report["surfaces_not_reaching_back"] == [
        site.base + "/feed.rss"
    ]
    assert any("reaches back only to" in line for line in report["not_recovered"])
