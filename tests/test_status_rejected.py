"""Pages fetched but not stored as articles stay visible: ``newsflow status`` lists them per run
with reason and detection score, and a re-extraction run extracts them again.

Real stages on a loopback mini site (:mod:`tests.minisite`): a story that moved to the
topic page of teasers served at a story URL is fetched, extracted, and rejected by the detector.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from pipeline.db.models import CrawlRun, ExtractedRecord, Fetch
from pipeline.stages.extract import extract
from pipeline.stages.reextract import start_reextract
from pipeline.status import collect_status
from tests.minisite import MiniSite
from tests.pipeline_runs import run_at

T0 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _status_cli(args: list[str], db_url: str, raw: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSFLOW_DATABASE_URL": db_url, "NEWSFLOW_RAW_STORE": str(raw)}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "status", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )


def _rows(db_url: str) -> dict[str, tuple[str, str | None, float | None, str]]:
    """status, reason, score and owning run id of every extraction row, by final URL."""
    engine = create_engine(db_url)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                Fetch.final_url,
                Fetch.url,
                ExtractedRecord.status,
                ExtractedRecord.reason,
                ExtractedRecord.detection_score,
                CrawlRun.run_id,
            )
            .join(Fetch, Fetch.id == ExtractedRecord.fetch_id)
            .join(CrawlRun, CrawlRun.id == ExtractedRecord.run_id)
        ).all()
    engine.dispose()
    return {final or url: (status, reason, score, run) for final, url, status, reason, score, run in rows}


def test_rejected_pages_are_listed_with_reason_and_score_and_reextracted(
    site: MiniSite, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    raw = tmp_path / "raw"
    monkeypatch.setenv("NEWSFLOW_RAW_STORE", str(raw))
    sources = site.sources_yaml(tmp_path / "sources.yaml")
    site.add("harbour-plan", T0 - timedelta(minutes=30))
    site.add("council-topics", T0 - timedelta(minutes=20), kind="listing")
    run_at(monkeypatch, T0, "s1", sources=sources, db_url=sqlite_url)

    front = site.url("council-topics")
    rows = _rows(sqlite_url)
    status, reason, score, _run = rows[front]
    assert status == "not_article" and reason is not None and reason.startswith("not an article page")
    assert score is not None and score < 0
    assert rows[site.url("harbour-plan")][0] == "ok"

    engine = create_engine(sqlite_url)
    report = collect_status(engine, expire_stale=False)
    engine.dispose()
    [shown] = report.rejected_pages or []
    assert (shown.run_id, shown.url, shown.status, shown.reason, shown.score) == (
        "s1",
        front,
        status,
        reason,
        score,
    )
    assert report.rejected_counts == {"s1": {"not_article": 1}}

    out = _status_cli(["--json"], sqlite_url, raw)
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["rejected_pages"] == [
        {"run_id": "s1", "url": front, "status": "not_article", "reason": reason, "score": score}
    ]
    assert data["rejected_counts"] == {"s1": {"not_article": 1}}
    text = _status_cli([], sqlite_url, raw)
    assert text.returncode == 0, text.stderr
    assert "pages not stored as articles" in text.stdout and "s1: not stored: not_article 1" in text.stdout
    hidden = _status_cli(["--json", "--rejected", "0"], sqlite_url, raw)
    assert json.loads(hidden.stdout)["rejected_pages"] == []

    # Re-extraction covers the rejected page too: its row is rewritten by the reextract run.
    monkeypatch.setenv("NEWSFLOW_NOW", (T0 + timedelta(hours=1)).isoformat())
    rerun = start_reextract(
        "mini",
        T0 - timedelta(hours=1),
        T0 + timedelta(hours=1),
        database_url=sqlite_url,
        sources_path=sources,
    )
    result = extract(rerun, workers=0, database_url=sqlite_url, sources_path=sources)
    assert (result.extracted, result.not_article) == (1, 1)
    again = _rows(sqlite_url)
    assert again[front] == ("not_article", reason, score, rerun)
    assert again[site.url("harbour-plan")][0] == "ok" and again[site.url("harbour-plan")][3] == rerun


def test_each_shown_run_lists_its_closest_calls_up_to_the_limit(db_url: str) -> None:
    """Several runs at once: each run's own top ``rejected_per_run`` (score high to low, unjudged
    last), the runs in the report's order, and counts of all rejected pages."""
    from sqlalchemy import update

    from pipeline.db.engine import make_engine
    from tests.loadkit import add_record, make_run, make_source

    engine = make_engine(db_url)
    source = make_source(engine, "capital", 8701)
    scores = {
        "r1": {"a": -1.5, "b": -0.2, "c": None, "d": -3.0},
        "r2": {"e": -0.7},
    }
    for run_id, pages in scores.items():
        run = make_run(engine, source, run_id)
        add_record(engine, run, source, None, url=f"http://127.0.0.1:8701/{run_id}-ok")
        for slug, score in pages.items():
            fetch = add_record(
                engine, run, source, None, url=f"http://127.0.0.1:8701/{slug}", status="not_article"
            )
            with engine.begin() as conn:
                conn.execute(
                    update(ExtractedRecord)
                    .where(ExtractedRecord.fetch_id == fetch)
                    .values(detection_score=score, reason=f"not an article page ({slug})")
                )
    report = collect_status(engine, expire_stale=False, rejected_per_run=2)
    engine.dispose()
    shown = [(page.run_id, page.url.rsplit("/", 1)[-1], page.score) for page in report.rejected_pages or []]
    run_order = [run.run_id for run in report.runs]
    assert sorted(run_order) == ["r1", "r2"]
    by_run = {run_id: [row for row in shown if row[0] == run_id] for run_id in run_order}
    assert by_run["r1"] == [("r1", "b", -0.2), ("r1", "a", -1.5)]
    assert by_run["r2"] == [("r2", "e", -0.7)]
    assert [row[0] for row in shown] == [r for r in run_order for _ in by_run[r]]  # grouped, report order
    assert report.rejected_counts == {"r1": {"not_article": 4}, "r2": {"not_article": 1}}
