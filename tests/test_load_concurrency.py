"""Crash safety and concurrency of the load, with real processes on both backends."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url

from pipeline.db.engine import make_engine
from pipeline.db.models import Article, ArticleVersion, NearDupBucket
from pipeline.load.neardup import BANDS
from pipeline.stages.load import load
from tests.loadkit import T0, add_record, article, bulk_records, counters, make_run, make_source, story

ROOT = Path(__file__).resolve().parents[1]


def start_load(db_url: str, run_id: str, batch_size: int) -> subprocess.Popen[str]:
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
        env=dict(os.environ, NEWSFLOW_DATABASE_URL=db_url),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def count(engine: Engine, model: type, *where: Any) -> int:
    # Deferred (read-only) transaction: polling must not queue behind the loader's write lock.
    engine = engine.execution_options(read_only=True)
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model).where(*where)).scalar_one())


def assert_consistent(engine: Engine) -> None:
    """Every stored article came with its version rows and its LSH buckets (whole batches)."""
    with engine.connect() as conn:
        articles = count(engine, Article)
        assert count(engine, ArticleVersion) == conn.execute(select(func.sum(Article.version))).scalar()
        assert count(engine, NearDupBucket) == articles * BANDS
        dupes = conn.execute(
            select(Article.url_hash).group_by(Article.url_hash).having(func.count() > 1)
        ).all()
        assert dupes == []


def _loader_blocked_on_held_row(engine: Engine, holder_pid: int) -> bool:
    """The loader's only open transaction waits for the row the test holds.

    A row lock wait shows as waiting on the holder's transaction id (or the tuple); the other
    writer must have no transaction open, so every batch before the blocked one is committed.
    """
    with engine.connect() as conn:
        busy = conn.execute(
            text(
                "SELECT wait_event FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid NOT IN (pg_backend_pid(), :holder) AND backend_type = 'client backend' "
                "AND state <> 'idle'"
            ),
            {"holder": holder_pid},
        ).all()
    return len(busy) == 1 and busy[0].wait_event in {"transactionid", "tuple"}


def _sqlite_write_in_progress(db_url: str) -> bool:
    """Someone holds SQLite's write lock, i.e. the loader is inside a batch transaction.

    The loader reads in deferred (read-only) transactions, so the only write lock is a batch's.
    The probe never waits (timeout 0) and gives the lock straight back when it gets it.
    """
    probe = sqlite3.connect(str(make_url(db_url).database), timeout=0, isolation_level=None)
    try:
        probe.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return True
        raise
    else:
        probe.execute("ROLLBACK")
        return False
    finally:
        probe.close()


def test_killed_load_leaves_no_partial_batch_and_rerun_completes(db_url: str) -> None:
    """kill -9 in the middle of a batch transaction, then a rerun completes the run.

    PostgreSQL: the 95th record is an article stored earlier whose row the test keeps locked,
    so the tenth batch (records 91-100) stops inside its transaction, after upserting part of
    its rows, and the test kills the loader exactly there (once the other writer is idle).
    SQLite: the test kills the loader when a probe finds the write lock taken, which only a
    batch transaction holds.
    """
    engine = make_engine(db_url)
    src = make_source(engine)
    make_run(engine, src, "r0")
    held_url = "http://127.0.0.1:8701/2026/05/01/story-0-94"
    add_record(engine, 1, src, article(held_url, story(999, words=80)), fetched_at=T0 - timedelta(hours=1))
    load("r0", database_url=db_url)
    run = make_run(engine, src, "r1")
    bulk_records(engine, run, src, 300)
    postgres = db_url.startswith("postgresql")
    holder = engine.connect()
    if postgres:
        holder.execute(select(Article.id).where(Article.url == held_url).with_for_update())
        holder_pid = holder.execute(text("SELECT pg_backend_pid()")).scalar_one()
    proc = start_load(db_url, "r1", batch_size=10)
    deadline = time.monotonic() + 60
    try:
        if postgres:
            while not _loader_blocked_on_held_row(engine, holder_pid):
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.02)
        else:
            while count(engine, Article, Article.run_id == run) < 20:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline
                time.sleep(0.02)
            while not _sqlite_write_in_progress(db_url):
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        holder.close()
    assert proc.returncode == -signal.SIGKILL
    engine.dispose()
    engine = make_engine(db_url)
    stored = count(engine, Article, Article.run_id == run)
    assert 20 <= stored < 300 and stored % 10 == 0, stored
    if postgres:
        # Batches 1-9 committed (and with two writers usually the 11th); the tenth wrote nothing.
        assert stored in (90, 100), stored
        with engine.connect() as conn:
            assert conn.execute(select(Article.version).where(Article.url == held_url)).scalar_one() == 1
    assert_consistent(engine)
    rerun = start_load(db_url, "r1", batch_size=10)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err
    result = json.loads(out)  # counters come from provenance, not from this call
    assert (result["new"], result["updated"]) == (299, 1)
    assert count(engine, Article) == 300
    assert_consistent(engine)
    assert counters(engine, "r1") == (299, 1, 0, 0, 0)
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
