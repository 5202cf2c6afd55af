"""Run lifecycle on both backends: a rerun keeps provenance, stale runs expire (start_run,
status, retention), one crawl per source at a time, and ``newsflow run`` fails a run whose
extract or load raised."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from crawlers.state import load_known
from pipeline.config import parse_sources
from pipeline.db.engine import get_engine, make_engine, session_scope
from pipeline.db.models import CrawlRun, ExtractedRecord, Fetch
from pipeline.errors import UsageError
from pipeline.rawstore import RunWarcWriter, read_response, run_warc_path
from pipeline.runs import SourceBusy, start_run, sync_source
from pipeline.stages.check import collect_metrics
from pipeline.stages.load import load
from pipeline.stages.retention import prune_raw
from pipeline.status import collect_status
from pipeline.urls import canonicalize, url_hash
from tests.loadkit import article, story

CONFIG = """\
sources:
  - key: one
    name: One
    homepage: http://127.0.0.1:9/
  - key: two
    name: Two
    homepage: http://127.0.0.1:10/
"""
BASE = "http://127.0.0.1:9/2026/05/01"
T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)


def begin(db_url: str, run_id: str, source: str = "one", kind: str = "crawl") -> int:
    with session_scope(get_engine(db_url)) as s:
        return start_run(s, sync_source(s, parse_sources(CONFIG).get(source)), run_id, kind=kind).id


def crawl_like(db_url: str, raw: str, run_id: str, pages: dict[str, str | None], when: datetime) -> None:
    """What the crawler leaves: the run's WARC file (rewritten) and fetch + extraction rows.

    ``pages``: URL -> article text, or None for a 304 (a revisit record, no extraction).
    A listing page (no article) is archived too, as every crawl does.
    """
    engine = get_engine(db_url)
    with session_scope(engine) as s:
        run = s.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one()
        run_pk, source_pk = run.id, run.source_id
    with RunWarcWriter(run_warc_path(raw, "one", run_id)) as writer, session_scope(engine) as s:
        listing = writer.write_exchange(f"{BASE}/", "GET", [], 200, "OK", [], b"<html>front</html>", when)
        s.add(
            Fetch(
                run_id=run_pk,
                source_id=source_pk,
                url=f"{BASE}/",
                url_hash=url_hash(f"{BASE}/"),
                status=200,
                fetched_at=when,
                discovery="seed",
                outcome="fetched",
                warc_path=listing.path,
                warc_offset=listing.offset,
                warc_length=listing.length,
            )
        )
        for url, body in pages.items():
            if body is None:
                location = writer.write_revisit(url, "GET", [], 304, "Not Modified", [], None, when)
            else:
                html = f"<html><body><p>{body}</p></body></html>".encode()
                location = writer.write_exchange(url, "GET", [], 200, "OK", [], html, when)
            fetch = Fetch(
                run_id=run_pk,
                source_id=source_pk,
                url=url,
                url_hash=url_hash(canonicalize(url)),
                canonical_url=canonicalize(url),
                status=304 if body is None else 200,
                fetched_at=when,
                discovery="feed",
                outcome="not_modified" if body is None else "fetched",
                is_article_candidate=True,
                warc_path=location.path,
                warc_offset=location.offset,
                warc_length=location.length,
            )
            s.add(fetch)
            s.flush()
            if body is not None:
                s.add(
                    ExtractedRecord(
                        run_id=run_pk,
                        fetch_id=fetch.id,
                        status="ok",
                        record=article(url, body),
                        extractor_version="test-1",
                        created_at=when,
                    )
                )


def test_rerunning_a_run_id_keeps_every_articles_warc_record(db_url: str, tmp_path: Path) -> None:
    raw = str(tmp_path / "raw")
    texts = {f"{BASE}/story-{i}": story(40 + i, words=60) for i in range(3)}
    begin(db_url, "r1")
    crawl_like(db_url, raw, "r1", dict(texts), T0)
    assert load("r1", database_url=db_url).new == 3

    # Clear the crawl task: same run id, the site unchanged (two 200s, one 304).
    begin(db_url, "r1")
    engine = make_engine(db_url)
    with engine.connect() as conn:
        kept = conn.execute(select(Fetch.url, Fetch.outcome, Fetch.warc_path, Fetch.warc_offset)).all()
    assert sorted(k.url for k in kept) == sorted(texts) and {k.outcome for k in kept} == {"superseded"}
    assert all(".superseded-" in k.warc_path for k in kept)  # the listing's unreferenced row is gone
    rerun = dict(texts)
    rerun[f"{BASE}/story-2"] = None
    crawl_like(db_url, raw, "r1", rerun, T0 + timedelta(hours=1))
    again = load("r1", database_url=db_url)
    assert (again.new, again.updated, again.unchanged) == (3, 0, 0)

    with engine.connect() as conn:
        view = conn.execute(
            text("SELECT url, text, fetch_id, warc_path, warc_offset, warc_length FROM news_articles")
        ).all()
        assert len(view) == 3
        for row in view:
            assert row.fetch_id is not None and row.warc_path is not None
            assert (
                texts[row.url].split("\n\n")[0][:60].encode()
                in read_response((row.warc_path, row.warc_offset)).body
            )
        run = conn.execute(select(CrawlRun.id)).scalar_one()
    with session_scope(engine) as s:
        metrics = collect_metrics(s, s.get(CrawlRun, run))  # type: ignore[arg-type]
        assert (metrics.attempts, metrics.fetched) == (4, 3)  # superseded rows are not this attempt's
    known = load_known(engine, 1)
    assert all(k.fetched_at == T0 + timedelta(hours=1) for k in known.values())
    # A third attempt copies nothing twice and still loses nothing.
    begin(db_url, "r1")
    crawl_like(db_url, raw, "r1", dict(texts), T0 + timedelta(hours=2))
    load("r1", database_url=db_url)
    with engine.connect() as conn:
        paths = conn.execute(text("SELECT warc_path, warc_offset FROM news_articles")).all()
    assert all(p.warc_path and read_response((p.warc_path, p.warc_offset)).status == 200 for p in paths)
    engine.dispose()


def test_stale_runs_expire_and_one_crawl_per_source(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_NOW", "2026-05-01T12:00:00Z")
    begin(db_url, "one-a")
    begin(db_url, "two-a", source="two")
    monkeypatch.setenv("NEWSFLOW_NOW", "2026-05-01T13:30:00Z")
    with pytest.raises(SourceBusy, match=r"run 'one-a' has been crawling since 2026-05-01 12:00:00 UTC"):
        begin(db_url, "one-b")
    assert issubclass(SourceBusy, UsageError)
    begin(db_url, "one-a")  # the same run id again (a retry) is allowed
    begin(db_url, "one-x", kind="reextract")  # not a crawl
    with pytest.raises(SourceBusy):
        begin(db_url, "two-b", source="two")

    monkeypatch.setenv("NEWSFLOW_NOW", "2026-05-01T21:00:00Z")  # 7.5 h after one-a's retry
    begin(db_url, "one-b")
    engine = make_engine(db_url)
    with engine.connect() as conn:
        a = conn.execute(select(CrawlRun.__table__).where(CrawlRun.run_id == "one-a")).one()
        assert a.status == "failed"
        assert (
            a.error
            == "stale: still 'running' 7.5 h after it started (stage crawl); its process probably died"
        )
        assert a.finished_at == datetime(2026, 5, 1, 21, tzinfo=UTC)
        two = conn.execute(select(CrawlRun.status).where(CrawlRun.run_id == "two-a")).scalar_one()
        assert two == "running"  # start_run expires the runs of its own source only
    report = collect_status(engine)
    states = {r.run_id: r.state for r in report.runs}
    assert states["two-a"] == "failed (stale)" and states["one-a"] == "failed (stale)"
    assert states["one-b"] == "running (crawl)" and report.expired_runs == ["two-a"]
    assert report.as_dict()["runs"][0]["state"]
    monkeypatch.setenv("NEWSFLOW_STALE_RUN_HOURS", "100")
    from pipeline.settings import reset_settings_cache

    reset_settings_cache()
    with pytest.raises(SourceBusy, match="one-b"):
        begin(db_url, "one-c")
    engine.dispose()


def test_a_crawl_that_ended_does_not_block_the_next(db_url: str) -> None:
    """``newsflow crawl`` alone (or a dry run) leaves its run 'running' in stage crawl, ended."""
    begin(db_url, "c1")
    with pytest.raises(SourceBusy):
        begin(db_url, "c2")
    with session_scope(get_engine(db_url)) as s:
        s.scalars(select(CrawlRun).where(CrawlRun.run_id == "c1")).one().stats = {
            "crawl": {"status": "succeeded"}
        }
    begin(db_url, "c2")
    with pytest.raises(SourceBusy, match="'c2'"):
        begin(db_url, "c3")


def test_retention_does_not_protect_a_stale_run(db_url: str, tmp_path: Path) -> None:
    store = str(tmp_path / "raw")
    files = {}
    for run_id in ("alive", "dead"):
        begin(db_url, run_id, source="one" if run_id == "alive" else "two")
        path = Path(run_warc_path(store, "one" if run_id == "alive" else "two", run_id))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 10)
        old = time.time() - 100 * 86400
        os.utime(path, (old, old))
        files[run_id] = path
    with session_scope(get_engine(db_url)) as s:
        dead = s.scalars(select(CrawlRun).where(CrawlRun.run_id == "dead")).one()
        dead.started_at = datetime.now(UTC) - timedelta(hours=30)
    preview = prune_raw(retention_days=90, raw_store=store, database_url=db_url, dry_run=True)
    assert preview.deleted == [str(files["dead"])]
    with session_scope(get_engine(db_url)) as s:
        assert s.scalar(select(CrawlRun.status).where(CrawlRun.run_id == "dead")) == "running"  # dry run
    result = prune_raw(retention_days=90, raw_store=store, database_url=db_url)
    assert result.files_deleted == 1 and files["alive"].exists() and not files["dead"].exists()
    with session_scope(get_engine(db_url)) as s:
        assert s.scalar(select(CrawlRun.error).where(CrawlRun.run_id == "dead")).startswith("stale:")


def test_newsflow_run_fails_its_run_when_load_raises(
    db_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The crawl is real bookkeeping (start_run); extraction finds nothing; the load breaks."""
    from pipeline import orchestrate
    from pipeline.stages import crawl as crawl_stage
    from pipeline.stages import load as load_stage

    sources = tmp_path / "sources.yaml"
    sources.write_text(CONFIG)

    def fake_crawl(source_key: str, run_id: str | None = None, **_: object) -> crawl_stage.CrawlResult:
        begin(db_url, run_id or "r-run")
        return crawl_stage.CrawlResult(run_id or "r-run", 0, 0, 0, {}, "succeeded")

    def broken_load(*_: object, **__: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(crawl_stage, "crawl", fake_crawl)
    monkeypatch.setattr(load_stage, "load", broken_load)
    summary = orchestrate.run_source("one", run_id="r-run", sources_path=sources, database_url=db_url)
    assert summary.status == "failed" and "disk full" in (summary.error or "")
    with session_scope(get_engine(db_url)) as s:
        run = s.scalars(select(CrawlRun).where(CrawlRun.run_id == "r-run")).one()
        assert run.status == "failed" and run.error == "load failed: RuntimeError: disk full"
        assert run.finished_at is not None
        assert s.scalar(select(func.count()).select_from(Fetch)) == 0


@pytest.mark.slow
def test_clearing_a_real_crawl_keeps_provenance(db_env: str, tmp_path: Path) -> None:
    """Real Scrapy against the demo network: the same run id crawled, extracted, loaded twice."""
    from pipeline.demo_site import DemoNetwork
    from pipeline.orchestrate import run_source

    with DemoNetwork(host="127.0.0.1", port=0, slow_seconds=0.2) as network:
        sources = network.write_sources(tmp_path / "sources.yaml")
        key = network.outlets[0].key
        first = run_source(
            key, run_id="cleared", sources_path=sources, database_url=db_env, crawl_log_level="WARNING"
        )
        assert first.status == "success", first.error
        second = run_source(
            key, run_id="cleared", sources_path=sources, database_url=db_env, crawl_log_level="WARNING"
        )
        assert second.status == "success", second.error
    engine = make_engine(db_env)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT url, fetch_id, warc_path, warc_offset FROM news_articles")).all()
        superseded = conn.execute(select(func.count()).where(Fetch.outcome == "superseded")).scalar_one()
    assert rows and first.articles_new == len(rows)
    assert superseded > 0
    for row in rows:
        assert row.fetch_id is not None and row.warc_path is not None, row.url
        assert read_response((row.warc_path, row.warc_offset)).status == 200
    engine.dispose()
