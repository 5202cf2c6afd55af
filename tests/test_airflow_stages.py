"""The stages the Airflow DAGs add around crawl/extract/load: check, publish, reextract, retention.

Rows are written through the real models on SQLite and PostgreSQL (``db_url``), as the crawl,
extract and load stages would leave them.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.config import load_sources
from pipeline.db.engine import get_engine, session_scope
from pipeline.db.models import CrawlRun, ExtractedRecord, Fetch
from pipeline.errors import UsageError
from pipeline.quality import QualityGateFailed
from pipeline.rawstore import run_warc_path
from pipeline.runs import start_run, sync_source
from pipeline.stages.check import check, fail_run, publish
from pipeline.stages.reextract import parse_when, start_reextract
from pipeline.stages.retention import prune_raw

SOURCES = """\
version: 1
sources:
  - key: alpha
    name: Alpha
    homepage: http://127.0.0.1:9/
    quality: {min_extraction_yield: 0.5, max_empty_text_rate: 0.2, max_error_rate: 0.5, min_articles: 2}
    allow_private_networks: ["127.0.0.1:9"]
  - key: beta
    name: Beta
    homepage: http://127.0.0.1:10/
    allow_private_networks: ["127.0.0.1:10"]
"""

WINDOW = (datetime(2026, 1, 1, 10, tzinfo=UTC), datetime(2026, 1, 1, 11, tzinfo=UTC))


@pytest.fixture
def sources_path(tmp_path: Path) -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(SOURCES)
    return path


def make_run(
    db_url: str,
    sources_path: Path,
    run_id: str,
    *,
    source: str = "alpha",
    ok: int = 0,
    empty: int = 0,
    failed_fetches: int = 0,
    not_modified: int = 0,
    loaded: int | None = None,
    warc_path: str | None = None,
    status: str | None = None,
    started_at: datetime | None = None,
) -> None:
    """A run as crawl -> extract -> load leave it: fetches, extraction records, load counters."""
    config = load_sources(sources_path).get(source)
    now = datetime.now(UTC)
    with session_scope(get_engine(db_url)) as session:
        row = sync_source(session, config)
        run = start_run(session, row, run_id, window=WINDOW)
        if started_at is not None:
            run.started_at = started_at
        for i, outcome in enumerate(
            ["fetched"] * (ok + empty) + ["error"] * failed_fetches + ["not_modified"] * not_modified
        ):
            fetch = Fetch(
                run_id=run.id,
                source_id=row.id,
                url=f"http://127.0.0.1:9/{run_id}/{i}",
                url_hash=f"{run_id}-{i}",
                fetched_at=now,
                # Listing links: pages vouched for by a feed would also meet max_lost_articles
                # (tests/test_gate_living.py pins that gate).
                discovery="listing",
                is_article_candidate=True,
                outcome=outcome,
                status=200 if outcome == "fetched" else (304 if outcome == "not_modified" else 503),
                warc_path=warc_path if outcome == "fetched" else None,
                warc_offset=0 if outcome == "fetched" and warc_path else None,
            )
            session.add(fetch)
            session.flush()
            if outcome == "fetched":
                session.add(
                    ExtractedRecord(
                        run_id=run.id,
                        fetch_id=fetch.id,
                        status="ok" if i < ok else "empty",
                        extractor_version="test",
                        created_at=now,
                    )
                )
        run.articles_new = ok if loaded is None else loaded
        if status is not None:
            run.status = status


def run_row(db_url: str, run_id: str) -> CrawlRun:
    with session_scope(get_engine(db_url)) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one()
        session.expunge(run)
        return run


def test_check_passes_a_healthy_run_and_publish_finalises_it(db_url: str, sources_path: Path) -> None:
    make_run(db_url, sources_path, "r1", ok=9, empty=1, failed_fetches=2)
    result = check("r1", database_url=db_url, sources_path=sources_path)
    assert result.passed and result.source == "alpha"
    assert result.metrics["extraction_yield"] == 0.9
    assert result.metrics["error_rate"] == round(2 / 12, 4)
    extra = publish("r1", database_url=db_url)
    assert extra["source"] == "alpha" and extra["status"] == "success"
    assert extra["window_start"] == WINDOW[0].isoformat() and extra["window_end"] == WINDOW[1].isoformat()
    assert extra["articles_new"] == 9
    run = run_row(db_url, "r1")
    assert run.status == "success" and run.quality is not None and run.quality["passed"] is True
    finished = run.finished_at
    # Idempotent: publishing again changes nothing, not even the finish time.
    assert publish("r1", database_url=db_url) == extra
    assert run_row(db_url, "r1").finished_at == finished


def test_broken_extraction_fails_the_gate_naming_the_cause(db_url: str, sources_path: Path) -> None:
    make_run(db_url, sources_path, "r2", ok=0, empty=10)
    with pytest.raises(QualityGateFailed) as caught:
        check("r2", database_url=db_url, sources_path=sources_path)
    message = str(caught.value)
    assert "extraction yield 0%" in message and "min_extraction_yield 50%" in message
    assert "empty-text rate 100%" in message
    assert "articles per run 0 is below min_articles 2" in message
    run = run_row(db_url, "r2")
    # The verdict is stored although the task raised; publish does not overrule it.
    assert run.status == "failed" and run.error == message
    assert run.quality is not None and run.quality["passed"] is False and len(run.quality["failures"]) == 3
    assert publish("r2", database_url=db_url)["status"] == "failed"


def test_error_rate_gate_and_unchanged_pages_count_as_seen(db_url: str, sources_path: Path) -> None:
    make_run(db_url, sources_path, "r3", ok=1, failed_fetches=3, not_modified=0)
    with pytest.raises(QualityGateFailed, match=r"error rate 75% \(3 of 4 fetches failed\)"):
        check("r3", database_url=db_url, sources_path=sources_path)
    # A quiet hour: nothing new, everything answered 304 -> articles were seen, the run passes.
    make_run(db_url, sources_path, "r4", not_modified=5, loaded=0)
    assert check("r4", database_url=db_url, sources_path=sources_path).metrics["articles_seen"] == 5
    # Nothing fetched and nothing ever stored: known URLs the crawler skipped prove nothing.
    make_run(db_url, sources_path, "r4b", loaded=0)
    with pytest.raises(QualityGateFailed, match="articles per run 0"):
        check("r4b", database_url=db_url, sources_path=sources_path)
    with session_scope(get_engine(db_url)) as session:
        session.scalars(select(CrawlRun).where(CrawlRun.run_id == "r4b")).one().stats = {
            "crawl": {"skipped_known": 3, "listed_articles": 3}
        }
    with pytest.raises(QualityGateFailed, match="articles per run 0"):
        check("r4b", database_url=db_url, sources_path=sources_path)


def test_rechecking_after_a_fix_clears_the_failure(db_url: str, sources_path: Path) -> None:
    make_run(db_url, sources_path, "r5", ok=1, empty=0, loaded=1)
    with pytest.raises(QualityGateFailed, match="min_articles 2"):
        check("r5", database_url=db_url, sources_path=sources_path)
    relaxed = sources_path.read_text().replace("min_articles: 2", "min_articles: 1")
    sources_path.write_text(relaxed)
    assert check("r5", database_url=db_url, sources_path=sources_path).passed
    run = run_row(db_url, "r5")
    assert run.status == "running" and run.error is None


def test_fail_run_records_the_error(db_url: str, sources_path: Path) -> None:
    make_run(db_url, sources_path, "r6", ok=3)
    assert fail_run("r6", "crawl: boom", database_url=db_url) is True
    assert fail_run("nope", "x", database_url=db_url) is False
    run = run_row(db_url, "r6")
    assert run.status == "failed" and run.error == "crawl: boom" and run.finished_at is not None


def test_start_reextract_creates_a_windowed_run(db_url: str, sources_path: Path) -> None:
    run_id = start_reextract(
        "beta", "2026-01-01", "2026-01-02T12:00:00+02:00", database_url=db_url, sources_path=sources_path
    )
    assert run_id.startswith("beta__reextract__")
    run = run_row(db_url, run_id)
    assert run.kind == "reextract" and run.status == "running"
    assert run.window_start == datetime(2026, 1, 1, tzinfo=UTC)
    assert run.window_end == datetime(2026, 1, 2, 10, tzinfo=UTC)
    # Same run id again: reset, not duplicated.
    again = start_reextract(
        "beta", WINDOW[0], WINDOW[1], run_id, database_url=db_url, sources_path=sources_path
    )
    assert again == run_id and run_row(db_url, run_id).window_start == WINDOW[0]
    with pytest.raises(UsageError, match="empty window"):
        start_reextract("beta", WINDOW[1], WINDOW[0], database_url=db_url, sources_path=sources_path)
    with pytest.raises(UsageError, match="no source 'gamma'"):
        start_reextract("gamma", WINDOW[0], WINDOW[1], database_url=db_url, sources_path=sources_path)
    with pytest.raises(UsageError, match="not an ISO date"):
        parse_when("yesterday", "start")


def _age(path: Path, days: float) -> None:
    stamp = time.time() - days * 86400
    os.utime(path, (stamp, stamp))


def test_retention_prunes_old_warcs_but_never_the_last_good_run(
    db_url: str, sources_path: Path, tmp_path: Path
) -> None:
    store = str(tmp_path / "raw")
    old_good = datetime.now(UTC) - timedelta(days=200)
    files = {}
    for run_id, status, days in [
        ("a-old", "success", 300),  # old, superseded by a-last -> pruned
        ("a-last", "success", 200),  # old but the last good run of alpha -> kept
        ("a-failed", "failed", 100),  # old, failed after a-last -> pruned
        ("a-recent", "failed", 1),  # young -> kept
    ]:
        path = Path(run_warc_path(store, "alpha", run_id))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * 100)
        _age(path, days)
        files[run_id] = path
        make_run(
            db_url,
            sources_path,
            run_id,
            ok=2,
            warc_path=str(path),
            status=status,
            started_at=old_good - timedelta(days=100) if run_id == "a-old" else old_good,
        )
    (tmp_path / "raw" / "alpha" / "notes.txt").write_text("not a warc")
    _age(tmp_path / "raw" / "alpha" / "notes.txt", 400)

    preview = prune_raw(retention_days=90, raw_store=store, database_url=db_url, dry_run=True)
    assert preview.files_deleted == 2 and all(p.exists() for p in files.values())

    result = prune_raw(retention_days=90, raw_store=store, database_url=db_url)
    assert result.files_deleted == 2 and result.bytes_freed == 200
    assert result.files_protected == 1 and result.fetches_detached == 4
    assert not files["a-old"].exists() and not files["a-failed"].exists()
    assert files["a-last"].exists() and files["a-recent"].exists()
    assert (tmp_path / "raw" / "alpha" / "notes.txt").exists()
    with session_scope(get_engine(db_url)) as session:
        remaining = set(session.scalars(select(Fetch.warc_path).where(Fetch.warc_path.is_not(None))))
    assert remaining == {str(files["a-last"]), str(files["a-recent"])}
    # Idempotent: a second prune finds nothing more to do.
    assert prune_raw(retention_days=90, raw_store=store, database_url=db_url).files_deleted == 0
