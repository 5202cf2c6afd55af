"""Removals in the load, both backends: 404/410/redirect hints and 'removed' pages mark stored
articles removed (with a version row), a later record brings them back, reruns change nothing."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select, text

from pipeline.db.engine import make_engine, session_scope
from pipeline.db.models import Article, ArticleVersion, CrawlRun, ExtractedRecord, Fetch
from pipeline.export import export_articles
from pipeline.search import search
from pipeline.stages.load import load
from pipeline.urls import canonicalize, url_hash
from tests.loadkit import T0, add_record, article, make_run, make_source, story
from tests.test_load import snapshot

BASE = "http://127.0.0.1:8701/2026/05/01"


def add_gone(
    engine: Engine, run_pk: int, source_id: int, url: str, fetched_at: datetime, reason: str = "HTTP 410 Gone"
) -> int:
    """A crawler row for a stored article that answered 410: non-candidate, hints.removal."""
    with session_scope(engine) as s:
        fetch = Fetch(
            run_id=run_pk,
            source_id=source_id,
            url=url,
            url_hash=url_hash(canonicalize(url)),
            canonical_url=canonicalize(url),
            status=410,
            fetched_at=fetched_at,
            discovery="revisit",
            outcome="error",
            is_article_candidate=False,
            hints={"removal": reason},
            error_category="http_410",
        )
        s.add(fetch)
        s.flush()
        return fetch.id


def add_removed_page(engine: Engine, run_pk: int, source_id: int, url: str, fetched_at: datetime) -> int:
    """A 200 "this story has been removed" page: extraction status 'removed' with the reason."""
    fetch_id = add_record(engine, run_pk, source_id, None, url=url, fetched_at=fetched_at, status="removed")
    with session_scope(engine) as s:
        record = s.scalars(select(ExtractedRecord).where(ExtractedRecord.fetch_id == fetch_id)).one()
        record.reason = "the page says: This story has been removed"
    return fetch_id


def row(engine: Engine, url: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(Article.__table__).where(Article.url == url)).one()


def versions(engine: Engine, article_id: int) -> list[Any]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                select(ArticleVersion.__table__)
                .where(ArticleVersion.article_id == article_id)
                .order_by(ArticleVersion.version)
            ).all()
        )


def load_stats(engine: Engine, run_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        stats = conn.execute(select(CrawlRun.stats).where(CrawlRun.run_id == run_id)).scalar_one()
    return dict(stats["load"])


def test_gone_and_removed_pages_mark_articles_removed_once(db_url: str) -> None:
    engine = make_engine(db_url)
    src = make_source(engine)
    r1, r2 = make_run(engine, src, "r1"), make_run(engine, src, "r2")
    url_a, url_b, url_c = f"{BASE}/a", f"{BASE}/b", f"{BASE}/c"
    for i, url in enumerate((url_a, url_b, url_c)):
        add_record(engine, r1, src, article(url, story(i + 1)), fetched_at=T0)
    load("r1", database_url=db_url)
    gone_at = T0 + timedelta(hours=3)
    gone_fetch = add_gone(engine, r2, src, url_a, gone_at)
    page_fetch = add_removed_page(engine, r2, src, url_b, gone_at)
    add_record(engine, r2, src, article(url_c, story(3)), fetched_at=gone_at)

    result = load("r2", database_url=db_url)
    assert (result.new, result.updated, result.unchanged, result.removed) == (0, 0, 1, 2)
    assert load_stats(engine, "r2")["articles_removed"] == 2
    a, b, c = row(engine, url_a), row(engine, url_b), row(engine, url_c)
    assert a.removed_at == gone_at and a.removal_reason == "HTTP 410 Gone"
    assert b.removed_at == gone_at and b.removal_reason == "the page says: This story has been removed"
    assert c.removed_at is None and c.version == 1
    assert a.version == 2 and a.text == story(1)  # the last text stays on the row; search hides it
    removed = versions(engine, a.id)[-1]
    assert (removed.version, removed.event, removed.text, removed.title) == (2, "removed", "", a.title)
    assert removed.fetch_id == gone_fetch and versions(engine, b.id)[-1].fetch_id == page_fetch
    assert [v.event for v in versions(engine, a.id)] == ["content", "removed"]

    before = snapshot(engine)
    again = load("r2", database_url=db_url, batch_size=1)
    assert snapshot(engine) == before
    assert (again.removed, again.unchanged) == (2, 1)

    rows = {r["url"]: r for r in export_articles(database_url=db_url)}
    assert rows[url_a]["removed_at"].startswith("2026-05-01T15:00:00")
    assert rows[url_a]["removal_reason"] == "HTTP 410 Gone" and rows[url_c]["removed_at"] is None
    word = story(1).split()[0].lower()
    assert a.id not in {hit.article_id for hit in search(word, database_url=db_url, all_copies=True)}
    hits = search(word, database_url=db_url, all_copies=True, include_removed=True)
    assert any(hit.article_id == a.id and hit.removal_reason == "HTTP 410 Gone" for hit in hits)
    engine.dispose()


def test_a_later_record_restores_and_an_earlier_one_does_not(db_url: str) -> None:
    engine = make_engine(db_url)
    src = make_source(engine)
    r1, r2, r3, r4 = (make_run(engine, src, f"r{i}") for i in (1, 2, 3, 4))
    url_a, url_b = f"{BASE}/a", f"{BASE}/b"
    add_record(engine, r1, src, article(url_a, story(1)), fetched_at=T0)
    add_record(engine, r1, src, article(url_b, story(2)), fetched_at=T0)
    load("r1", database_url=db_url)
    add_gone(engine, r2, src, url_a, T0 + timedelta(hours=2), "HTTP 404 Not Found")
    add_gone(
        engine, r2, src, url_b, T0 + timedelta(hours=2), f"redirected to {BASE}/, which is not an article"
    )
    assert load("r2", database_url=db_url).removed == 2
    # A backfill sighting from before the removal does not bring the story back.
    add_record(engine, r3, src, article(url_a, story(1)), fetched_at=T0 + timedelta(hours=1))
    early = load("r3", database_url=db_url)
    assert (early.updated, early.unchanged, early.removed) == (0, 1, 0)
    assert row(engine, url_a).removed_at is not None
    # Served again after the removal: a unchanged -> 'restored', b changed -> 'content'.
    back = T0 + timedelta(hours=5)
    changed = story(2) + "\n\nCorrection: an earlier version misnamed the council."
    add_record(engine, r4, src, article(url_a, story(1)), fetched_at=back)
    add_record(engine, r4, src, article(url_b, changed), fetched_at=back)
    result = load("r4", database_url=db_url)
    assert (result.new, result.updated, result.unchanged, result.removed) == (0, 2, 0, 0)
    a, b = row(engine, url_a), row(engine, url_b)
    assert a.removed_at is None and a.removal_reason is None and a.version == 3 and a.last_seen_at == back
    assert b.removed_at is None and b.text == changed and b.version == 3
    assert [v.event for v in versions(engine, a.id)] == ["content", "removed", "restored"]
    assert [v.event for v in versions(engine, b.id)] == ["content", "removed", "content"]
    assert versions(engine, a.id)[-1].text == story(1)
    # Reruns of every load change nothing: the removal is older than the latest sighting.
    before = snapshot(engine)
    for run_id in ("r2", "r3", "r4"):
        load(run_id, database_url=db_url)
    assert snapshot(engine) == before
    engine.dispose()


def test_concurrent_loads_remove_each_article_once(db_url: str) -> None:
    engine = make_engine(db_url)
    src = make_source(engine)
    r1, r2 = make_run(engine, src, "r1"), make_run(engine, src, "r2")
    urls = [f"{BASE}/s{i}" for i in range(24)]
    for i, url in enumerate(urls):
        add_record(engine, r1, src, article(url, story(100 + i, words=60)), fetched_at=T0)
    load("r1", database_url=db_url)
    later = T0 + timedelta(hours=1)
    for i, url in enumerate(urls):
        if i % 2:
            add_gone(engine, r2, src, url, later)
        else:
            add_record(
                engine, r2, src, article(url, story(100 + i, words=60) + " Updated."), fetched_at=later
            )
    errors: list[BaseException] = []

    def one() -> None:
        try:
            load("r2", database_url=db_url, batch_size=3, writers=2 if db_url.startswith("postgresql") else 1)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    with engine.connect() as conn:
        events = conn.execute(
            text("SELECT event, count(*) FROM article_versions GROUP BY event ORDER BY event")
        ).all()
        assert [tuple(e) for e in events] == [("content", 36), ("removed", 12)]
        removed = conn.execute(select(Article.url).where(Article.removed_at.is_not(None))).scalars().all()
        assert sorted(removed) == sorted(urls[1::2])
    final = load("r2", database_url=db_url)
    assert (final.updated, final.removed) == (12, 12)
    engine.dispose()
