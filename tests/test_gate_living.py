"""The quality gate on a site that lives: quiet hours pass, JS shells and empty sites fail.

Real stages (crawl subprocess with Scrapy, trafilatura extraction, load, check) against a
small loopback site whose stories change between runs; time moves with ``NEWSFLOW_NOW``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.config import Quality
from pipeline.quality import LostPage, RunMetrics, evaluate
from tests.minisite import MiniSite
from tests.pipeline_runs import fetches, run_at

T0 = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)


def test_quiet_hours_pass_and_js_shells_fail_naming_the_pages(
    site: MiniSite, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for hours, slug in ((3, "budget-vote"), (2, "bridge-repairs"), (1, "school-opening")):
        site.add(slug, T0 - timedelta(hours=hours))
    sources = site.sources_yaml(tmp_path / "sources.yaml")
    first = run_at(monkeypatch, T0, "r1", sources=sources, db_url=db_url)
    assert first.passed and first.checked is not None
    assert first.checked.metrics["articles_loaded"] == 3

    # Ten minutes later nothing is new and nothing is due: every story skipped, no request.
    site.clear()
    quiet = run_at(monkeypatch, T0 + timedelta(minutes=10), "r2", sources=sources, db_url=db_url)
    assert quiet.passed and quiet.checked is not None, quiet.failure
    assert quiet.checked.metrics["articles_seen"] == 0 and quiet.checked.metrics["quiet"] is True
    assert all(not site.asked(slug) for slug in site.stories)

    # An hour on, "bridge-repairs" reaches its 3 h slot: asked conditionally, 304, seen.
    site.clear()
    hour = run_at(monkeypatch, T0 + timedelta(minutes=65), "r3", sources=sources, db_url=db_url)
    assert hour.passed and hour.checked is not None, hour.failure
    asked = site.asked("bridge-repairs")
    assert len(asked) == 1 and asked[0].if_none_match
    rows = {r.url: r for r in fetches(db_url, "r3")}
    revisit = rows[site.url("bridge-repairs")]
    assert (
        revisit.outcome == "not_modified" and revisit.is_article_candidate and revisit.discovery == "revisit"
    )
    assert hour.checked.metrics["unchanged_candidates"] == 1 and hour.checked.metrics["articles_seen"] == 1

    # The site turns new stories into JavaScript shells: the first such run fails, naming them.
    site.add("shell-one", T0 + timedelta(minutes=70), kind="shell")
    site.add("shell-two", T0 + timedelta(minutes=75), kind="shell")
    broken = run_at(monkeypatch, T0 + timedelta(minutes=80), "r4", sources=sources, db_url=db_url)
    assert broken.failure is not None
    message = str(broken.failure)
    assert "lost articles 2" in message and "max_lost_articles 0" in message
    assert site.url("shell-one") in message and site.url("shell-two") in message
    assert "JavaScript" in message
    shells = [r for r in fetches(db_url, "r4") if "shell" in r.url]
    assert len(shells) == 2 and all(r.is_article_candidate and "vouched" in r.hints for r in shells)


def test_a_site_that_never_had_an_article_fails(
    site: MiniSite, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = site.sources_yaml(tmp_path / "sources.yaml")
    empty = run_at(monkeypatch, T0, "empty", sources=sources, db_url=sqlite_url)
    assert empty.failure is not None
    assert "articles per run 0 is below min_articles 1" in str(empty.failure)
    assert "listed no article URLs" in str(empty.failure)


def metrics(**overrides: object) -> RunMetrics:
    base: dict[str, object] = dict(
        attempts=4,
        errors=0,
        extracted=4,
        extracted_ok=4,
        extracted_empty=0,
        extracted_failed=0,
        not_article=0,
        unchanged_candidates=0,
        articles_loaded=4,
        stored_before=10,
        listed_articles=8,
    )
    base.update(overrides)
    return RunMetrics(**base)  # type: ignore[arg-type]


def test_removed_notices_are_outside_the_yield() -> None:
    # Two story-removed notice pages next to two good articles: 100 % yield, not 50 %.
    removed = metrics(extracted=4, extracted_ok=2, removed=2, articles_loaded=2)
    assert removed.extraction_yield == 1.0 and evaluate(removed, Quality()) == []
    # Only removal notices, nothing else to judge: a quiet hour, not a broken one.
    only = metrics(extracted=2, extracted_ok=0, removed=2, articles_loaded=0)
    assert only.extraction_yield is None and only.quiet and evaluate(only, Quality()) == []


def test_lost_pages_fail_even_when_the_yield_is_fine() -> None:
    lost = (LostPage("http://x/news/a", "empty", "no main text found", True),)
    diluted = metrics(extracted=5, extracted_ok=4, extracted_empty=1, lost=1, lost_pages=lost)
    failures = evaluate(diluted, Quality(max_empty_text_rate=0.5))
    assert len(failures) == 1 and failures[0].startswith("lost articles 1")
    assert "http://x/news/a (empty: no main text found)" in failures[0]
    assert evaluate(diluted, Quality(max_empty_text_rate=0.5, max_lost_articles=1)) == []


def test_min_articles_rules() -> None:
    nothing = dict(extracted=0, extracted_ok=0, articles_loaded=0)
    # Surfaces that stopped listing articles are not a quiet hour.
    silent = metrics(**nothing, listed_articles=0)
    assert not silent.quiet
    assert "listed no article URLs" in evaluate(silent, Quality())[0]
    # A backfill of a window with nothing in it is not judged by min_articles.
    assert evaluate(metrics(**nothing, stored_before=0, backfill=True), Quality()) == []
    # A first run that finds nothing fails.
    assert evaluate(metrics(**nothing, stored_before=0), Quality()) == [
        "articles per run 0 is below min_articles 1"
    ]
    # New pages that all gave no article: not quiet, fails on yield and on min_articles.
    shells = metrics(extracted=2, extracted_ok=0, not_article=2, articles_loaded=0)
    assert not shells.quiet and len(evaluate(shells, Quality(max_lost_articles=5))) == 2
