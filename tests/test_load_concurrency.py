"""Crash safety and concurrency of the load, with real processes on both backends."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select, text

from pipeline.db.engine import make_engine
from pipeline.db.models import Article, ArticleVersion, CrawlRun, NearDupBucket
from pipeline.load.neardup import BANDS
from pipeline.load.runner import PAUSE_ENV
from pipeline.stages.load import load
from tests.loadkit import T0, add_record, article, bulk_records, make_run, make_source, story

ROOT = Path(__file__).resolve().parents[1]


def start_load(db_url: str, run_id: str, batch_size: int, pause: float = 0.0) -> subprocess.Popen[str]:
    env = dict(os.environ, NEWSFLOW_DATABASE_URL=db_url, **{PAUSE_ENV: str(pause)})
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "pipeline",
            "load",
            "--run",
            run_id,
            "--batch-size",
            str(batch_size),
            "--json",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def count(engine: Engine, model: type) -> int:
    # Deferred (read-only) transaction: polling must not queue behind the loader's write lock.
    engine = engine.execution_options(read_only=True)
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def assert_consistent(engine: Engine) -> None:
    """Every stored article came with its version row and its LSH buckets (whole batches)."""
    with engine.connect() as conn:
        articles = count(engine, Article)
        assert count(engine, ArticleVersion) == articles
        assert count(engine, NearDupBucket) == articles * BANDS
        dupes = conn.execute(
            select(Article.url_hash).group_by(Article.url_hash).having(func.count() > 1)
        ).all()
        assert dupes == []


def _in_transaction(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND state = 'idle in transaction' AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        )


def test_killed_load_leaves_no_partial_batch_and_rerun_completes(db_url: str) -> None:
    engine = make_engine(db_url)
    src = make_source(engine)
    run = make_run(engine, src)
    bulk_records(engine, run, src, 120)
    proc = start_load(db_url, "r1", batch_size=10, pause=0.4)
    deadline = time.monotonic() + 60
    try:
        # Wait for a few committed batches, then for the next batch to be mid-transaction.
        while count(engine, Article) < 20:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.05)
        if db_url.startswith("postgresql"):
            while not _in_transaction(engine):
                assert time.monotonic() < deadline
                time.sleep(0.02)
        else:
            seen = count(engine, Article)
            while count(engine, Article) == seen:
                assert time.monotonic() < deadline
                time.sleep(0.02)
            time.sleep(0.15)  # the next batch has upserted and is pausing inside its transaction
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    engine.dispose()
    engine = make_engine(db_url)
    stored = count(engine, Article)
    assert 20 <= stored < 120 and stored % 10 == 0, stored
    assert_consistent(engine)
    rerun = start_load(db_url, "r1", batch_size=10)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    assert json.loads(out)["new"] == 120  # counters come from provenance, not from this call
    assert count(engine, Article) == 120
    assert_consistent(engine)
    with engine.connect() as conn:
        row = conn.execute(select(CrawlRun.__table__)).one()
    assert (row.articles_new, row.articles_unchanged, row.articles_duplicate) == (120, 0, 0)
    engine.dispose()


def test_concurrent_loads_of_overlapping_runs_make_no_duplicates_and_lose_no_version(db_url: str) -> None:
    engine = make_engine(db_url)
    src = make_source(engine)
    r1, r2 = make_run(engine, src, "r1"), make_run(engine, src, "r2")
    base = "http://127.0.0.1:8701/2026/05/01"
    for i in range(60):
        url = f"{base}/s{i}"
        add_record(engine, r1, src, article(url, story(i, words=60)), fetched_at=T0)
        # r2 sees the same articles an hour later; every third one has changed.
        later = story(i, words=60) + ("\n\nCorrection appended." if i % 3 == 0 else "")
        add_record(engine, r2, src, article(url, later), fetched_at=T0 + timedelta(hours=1))
    load("r1", database_url=db_url, batch_size=25)
    # Two loads of the newer run race each other and a rerun of the older one: every changed
    # article must end with exactly one new version (no double increment, no lost update).
    procs = [start_load(db_url, run_id, batch_size=7) for run_id in ("r2", "r1", "r2")]
    for proc in procs:
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, err
    assert count(engine, Article) == 60
    with engine.connect() as conn:
        versions = dict(conn.execute(select(Article.url, Article.version)).all())
        texts = dict(conn.execute(select(Article.url, Article.text)).all())
        stored_versions = dict(conn.execute(select(Article.id, Article.version)).all())
        version_rows = dict(
            conn.execute(
                select(ArticleVersion.article_id, func.count()).group_by(ArticleVersion.article_id)
            ).all()
        )
    # The newest content wins and each change is exactly one version.
    for i in range(60):
        url = f"{base}/s{i}"
        assert texts[url].endswith("Correction appended.") == (i % 3 == 0)
        assert versions[url] == (2 if i % 3 == 0 else 1)
    assert version_rows == stored_versions  # versions 1..n, each stored exactly once
    engine.dispose()
