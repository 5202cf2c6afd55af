"""Fault rows: concurrent first runs, a dropped reader connection, two runs of one source.

Real processes against a fresh PostgreSQL database made for each test (and a fresh SQLite
file): the migrations race, ``pg_terminate_backend`` on the load's reader, and two
``newsflow run`` of one source started together against a loopback site.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from pipeline.db import migrate
from pipeline.db.engine import make_engine
from pipeline.db.models import Article, CrawlRun, Source
from tests.conftest import create_pg_database, drop_pg_database
from tests.minisite import MiniSite, serve


@pytest.fixture
def fresh_pg() -> Iterator[str]:
    """An empty PostgreSQL database (no migrations), dropped afterwards."""
    url = create_pg_database("nf_race")
    try:
        yield url
    finally:
        drop_pg_database(url)


def newsflow(args: list[str], db_url: str, tmp_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "NEWSFLOW_DATABASE_URL": db_url, "NEWSFLOW_RAW_STORE": str(tmp_path / "raw")}
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(procs: list[subprocess.Popen[str]], timeout: float = 180) -> list[tuple[int, str, str]]:
    return [(p.wait(timeout), *p.communicate()) for p in procs]


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_three_concurrent_first_upgrades_all_succeed(backend: str, tmp_path: Path) -> None:
    url = create_pg_database("nf_race") if backend == "postgresql" else f"sqlite:///{tmp_path}/fresh.db"
    try:
        procs = [newsflow(["db", "upgrade", "--database-url", url], url, tmp_path) for _ in range(3)]
        results = finish(procs)
        for code, out, err in results:
            assert code == 0, err[-2000:]
            assert "database at revision" in out
        engine = create_engine(url)
        with engine.connect() as conn:
            versions = conn.execute(text("select version_num from alembic_version")).scalars().all()
        engine.dispose()
        assert versions == [migrate.current_revision(url)] and versions[0]
    finally:
        if backend == "postgresql":
            drop_pg_database(url)


def test_terminated_reader_connection_is_retried(fresh_pg: str) -> None:
    """The load's reader is killed mid-query (``pg_terminate_backend``); the load still completes."""
    from pipeline.stages.load import load
    from tests.loadkit import bulk_records, make_run, make_source

    migrate.upgrade(fresh_pg)
    engine = make_engine(fresh_pg)
    source_id = make_source(engine)
    run_pk = make_run(engine, source_id)
    bulk_records(engine, run_pk, source_id, 30)
    engine.dispose()

    admin = create_engine(fresh_pg)
    killed: list[str] = []
    outcome: dict[str, object] = {}

    def run_load() -> None:
        try:
            outcome["result"] = load("r1", database_url=fresh_pg, batch_size=10)
        except BaseException as exc:  # the test reports it
            outcome["error"] = exc

    with admin.connect() as holder:
        # Readers of extracted_records now wait on this lock: a query in flight to kill.
        holder.execute(text("lock table extracted_records in access exclusive mode"))
        loader = threading.Thread(target=run_load)
        loader.start()
        deadline = time.monotonic() + 30
        with admin.connect() as killer:
            while not killed and time.monotonic() < deadline:
                waiting = killer.execute(
                    text(
                        "select pid, query from pg_stat_activity where datname = current_database()"
                        " and wait_event_type = 'Lock' and query ilike 'select%extracted_records%'"
                    )
                ).all()
                for pid, query in waiting:
                    killer.execute(text("select pg_terminate_backend(:pid)"), {"pid": pid})
                    killed.append(query)
                killer.commit()
                time.sleep(0.05)
        holder.commit()  # release the lock
    loader.join(60)
    admin.dispose()
    assert killed, "no reader was caught waiting"
    assert "error" not in outcome, outcome.get("error")
    result = outcome["result"]
    assert getattr(result, "new", None) == 30, result
    check = make_engine(fresh_pg)
    with check.connect() as conn:
        assert conn.scalar(select(func.count(Article.id))) == 30
    check.dispose()


def test_two_concurrent_runs_of_one_source_make_no_duplicates(fresh_pg: str, tmp_path: Path) -> None:
    """Two ``newsflow run`` of one source at once on a fresh database: both exit 0, one copy of each story."""
    for site in serve(MiniSite()):
        now = datetime.now(UTC)
        for i in range(4):
            site.add(f"story-{i}", now - timedelta(hours=i + 1))
        # One request at a time, 0.4 s apart: the first crawl is still live when the second starts.
        sources = site.sources_yaml(
            tmp_path / "sources.yaml", politeness={"concurrency": 1, "delay": 0.4, "autothrottle": False}
        )
        args = ["run", "--source", "mini", "--sources", str(sources), "--json", "--parallel", "1"]
        procs = [newsflow(args, fresh_pg, tmp_path / f"p{i}") for i in range(2)]
        results = finish(procs)
    for code, out, err in results:
        assert code == 0, (out[-2000:], err[-2000:])
        [summary] = json.loads(out)["runs"]
        assert summary["status"] == "success", summary
    waited = [err for _, _, err in results if "is busy" in err]
    assert len(waited) <= 1  # the one that found the source busy says so, and waited
    if waited:
        assert "waiting for it to finish" in waited[0]
    engine = make_engine(fresh_pg)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count(Source.id))) == 1
        runs = conn.execute(select(CrawlRun.status, CrawlRun.stats)).all()
        urls = conn.execute(select(Article.canonical_url)).scalars().all()
    engine.dispose()
    assert [status for status, _ in runs] == ["success", "success"]
    assert len(urls) == len(set(urls)) == 4, urls


def test_upgrade_beside_open_sqlite_connections_keeps_them_working(tmp_path: Path) -> None:
    """The migration lock once opened and closed the database file itself, which drops every
    POSIX lock the process holds on it (SQLite's "how to corrupt" 2.2): in the soak, a
    long-lived process upgrading before each batch of sources, with crawler subprocesses
    writing, failed with "disk I/O error". The lock is a sidecar file now."""
    from sqlalchemy import text as sql

    from pipeline.db import migrate
    from pipeline.db.engine import make_engine

    url = f"sqlite:///{tmp_path / 'news.db'}"
    migrate.upgrade(url)
    pooled = make_engine(url)
    insert = sql(
        "INSERT INTO sources (key, name, homepage, config_hash, created_at, updated_at) "
        "VALUES (:k, 'x', 'http://127.0.0.1:9/', 'h', '2026-01-01', '2026-01-01')"
    )
    try:
        reader = pooled.connect()  # an idle pooled connection, as the stage threads leave them
        for round_ in range(5):
            migrate.upgrade(url)
            with pooled.begin() as conn:
                conn.execute(insert, {"k": f"s{round_}"})
            fresh = make_engine(url)
            with fresh.connect() as conn:
                assert conn.execute(sql("SELECT count(*) FROM sources")).scalar_one() == round_ + 1
            fresh.dispose()
            assert reader.execute(sql("SELECT count(*) FROM sources")).scalar_one() == round_ + 1
            reader.rollback()
        reader.close()
    finally:
        pooled.dispose()
    assert (tmp_path / "news.db.migrate-lock").exists()
