"""The soak through a real Airflow: hourly runs, a Clear of a crawl task and a backfill, scored.

``benchmarks/soak.py`` calls the stage functions in process; this test drives the same
pipeline through what production runs: a scheduler, a DAG processor and an API server
(LocalExecutor, PostgreSQL metadata and news databases), with the living demo network and
the pipeline sharing one simulated clock file (``NEWSFLOW_NOW=file:…``). The harness moves
the clock, triggers one run per outlet for that hour over REST (with the hour as data
interval, as the scheduler would), and waits. Airflow's own cron is switched off
(``use_job_schedule``): it follows the real clock, the web follows the simulated one.

Then, as ops would and at the same time: Clear the crawl task (with downstream) of a
finished run — it reruns and every article keeps a readable WARC record; and backfill two past
hours of another outlet while a shell crawl of it holds the source busy — the crawl tasks wait
(rescheduled, not failed), then run one at a time although the backfill runs its DAG runs at
once, each reading its window with ``backfill=True``. Finally the database is scored against
the network's ground truth with :func:`benchmarks.scorecard.score`, as the in-process soak is.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import make_url

from benchmarks.scorecard import RunRecord, score
from pipeline.airflow_local import AirflowClient, AirflowComponents, AirflowHome, free_port
from pipeline.db.engine import get_engine, make_engine, session_scope
from pipeline.db.models import Article, CrawlRun, Fetch
from pipeline.demo_site.living import LivingNetwork
from pipeline.rawstore import read_response
from tests.conftest import create_pg_database, drop_pg_database

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.postgres]

START = datetime(2026, 10, 1, tzinfo=UTC)  # in the real past: Airflow backfills only the past
HOURS = 2
CLEARED = "northern-ledger"
BACKFILLED = "harbour-times"
BACKFILL_HOURS = 2  # the windows [START - 2 h, START - 1 h) and [START - 1 h, START)
BUSY_RECHECK_SECONDS = 20  # the setting's floor (shorter races Airflow, see pipeline.settings)


def dag_id(key: str) -> str:
    return f"news_ingest__{key}"


@pytest.fixture
def metadata_url() -> Iterator[str]:
    """A fresh PostgreSQL database for Airflow's own metadata (psycopg2, Airflow's driver)."""
    url = create_pg_database("nf_airflow_soak")
    try:
        yield make_url(url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    finally:
        drop_pg_database(url)


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def news_runs(database_url: str) -> dict[str, dict[str, Any]]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return {
                str(r["run_id"]): dict(r)
                for r in conn.execute(
                    select(
                        CrawlRun.run_id,
                        CrawlRun.status,
                        CrawlRun.error,
                        CrawlRun.params,
                        CrawlRun.stats,
                        CrawlRun.window_start,
                        CrawlRun.window_end,
                    )
                ).mappings()
            }
    finally:
        engine.dispose()


def provenance_gaps(database_url: str) -> list[str]:
    """Articles without a fetch row, or whose fetch's WARC record cannot be read back."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(Article.url, Fetch.warc_path, Fetch.warc_offset)
                .select_from(Article)
                .outerjoin(Fetch, Fetch.id == Article.fetch_id)
            ).all()
    finally:
        engine.dispose()
    gaps = []
    for row in rows:
        try:
            read_response((row.warc_path, row.warc_offset))
        except (OSError, ValueError, TypeError):  # no fetch (None path), file gone, no record there
            gaps.append(row.url)
    return gaps


def test_airflow_soak_with_clear_and_backfill(
    metadata_url: str, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = tmp_path / "clock"
    started = time.monotonic()
    with LivingNetwork(seed=13, start=START, days=1, clock_file=clock) as network:
        network.set_now(START)
        keys = [o.key for o in network.outlets]
        sources = network.write_sources(tmp_path / "sources.yaml")
        home = AirflowHome(
            tmp_path / "airflow",
            metadata_url=metadata_url,
            port=free_port(),
            crawl_pool_slots=len(keys),
            dags_paused_at_creation=False,
            news_env={
                "NEWSFLOW_DATABASE_URL": pg_url,
                "NEWSFLOW_RAW_STORE": str(tmp_path / "raw"),
                "NEWSFLOW_SOURCES": str(sources),
                "NEWSFLOW_NOW": f"file:{clock}",
                "NEWSFLOW_WORKERS": "1",
                "NEWSFLOW_BUSY_RECHECK_SECONDS": str(BUSY_RECHECK_SECONDS),
            },
            # Airflow's cron follows the real clock; every run here is the harness's.
            extra_env={"AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False"},
        )
        home.migrate()
        assert home.password is not None
        records: list[RunRecord] = []
        with (
            AirflowComponents(home, ("api-server", "scheduler", "dag-processor")) as components,
            AirflowClient(home.base_url, home.username, home.password) as client,
        ):
            client.wait_until_healthy(components=components)
            for key in keys:
                client.wait_for_dag(dag_id(key), components=components)
                client.set_paused(dag_id(key), False)
            ready = time.monotonic()

            # -- hourly runs of every outlet, the clock moved between them -------------------
            last: dict[str, str] = {}
            for hour in range(1, HOURS + 1):
                at = START + timedelta(hours=hour)
                network.set_now(at)
                # A manual run with the hour as logical date owns the hour before it, like the
                # scheduled run of that tick.
                triggered = {k: client.trigger(dag_id(k), logical_date=at.isoformat()) for k in keys}
                states = {k: client.wait_for_run(dag_id(k), r, 300, components) for k, r in triggered.items()}
                rows = news_runs(pg_url)
                for key, run_id in triggered.items():
                    row = rows[f"{key}__{run_id}"]
                    assert row["window_end"].replace(tzinfo=UTC) == at
                    status = "success" if states[key] == "success" else "failed"
                    records.append(RunRecord(key, at, f"{key}__{run_id}", status, row["error"]))
                    last[key] = run_id
            assert all(r.status == "success" for r in records), [r for r in records if r.status != "success"]
            hourly_done = time.monotonic()

            # -- meanwhile, as ops would: Clear a crawl task, and backfill a busy source -------
            cleared_run = last[CLEARED]
            tries_before = try_numbers(client, dag_id(CLEARED), cleared_run)
            assert client.clear_run(dag_id(CLEARED), cleared_run, ["crawl"], downstream=True) >= 5

            shell_run = start_shell_crawl(pg_url, sources, clock, monkeypatch)
            first = START - timedelta(hours=BACKFILL_HOURS)
            backfill = client.create_backfill(
                dag_id(BACKFILLED),
                first.isoformat(),
                (START - timedelta(hours=1)).isoformat(),
                max_active_runs=BACKFILL_HOURS,  # more than the DAG's max_active_runs=1
            )
            backfill_runs = wait_for_backfill_runs(client, components, dag_id(BACKFILLED), BACKFILL_HOURS)
            logs = home.home / "logs"
            assert wait_for_reschedule(
                client, components, dag_id(BACKFILLED), backfill_runs, logs, shell_run
            ), "no backfill crawl was rescheduled while the source was busy"
            end_shell_crawl(pg_url, shell_run)
            watched = [(dag_id(CLEARED), cleared_run)] + [(dag_id(BACKFILLED), r) for r in backfill_runs]
            most_crawling, instances = watch_until_finished(client, components, watched)

            # The cleared run reran crawl .. publish, and every article keeps its WARC record.
            tries_after = try_numbers(client, dag_id(CLEARED), cleared_run)
            assert tries_after["crawl"] == tries_before["crawl"] + 1
            assert tries_after["publish"] == tries_before["publish"] + 1
            rows = news_runs(pg_url)
            assert rows[f"{CLEARED}__{cleared_run}"]["status"] == "success"
            assert "crawl" in rows[f"{CLEARED}__{cleared_run}"]["stats"]
            assert provenance_gaps(pg_url) == []

            # The backfill: one crawl of the source at a time although its runs ran at once,
            # each reading its own past window from dated feed/sitemap entries.
            assert client.request("GET", f"/backfills/{backfill['id']}")["dag_id"] == dag_id(BACKFILLED)
            assert most_crawling[dag_id(BACKFILLED)] == 1
            spans = sorted(
                (parse_time(ti["start_date"]), parse_time(ti["end_date"]))
                for (dag, _run), tis in instances.items()
                if dag == dag_id(BACKFILLED)
                for ti in tis
                if ti["task_id"] == "crawl"
            )
            assert len(spans) == BACKFILL_HOURS
            assert all(later[0] >= earlier[1] for earlier, later in pairwise(spans)), spans
            assert not any(rows[r.run_id]["params"]["backfill"] for r in records)  # the hourly runs
            windows, in_window = [], 0
            for run_id in backfill_runs:
                row = rows[f"{BACKFILLED}__{run_id}"]
                assert row["params"]["backfill"] is True and row["status"] == "success", row
                report = row["stats"]["crawl"]["backfill"]
                assert report["window_end"] == row["window_end"].replace(tzinfo=UTC).isoformat()
                assert report["not_recovered"], report  # it says what a backfill cannot see
                in_window += report["entries_in_window"]
                windows.append(
                    (row["window_start"].replace(tzinfo=UTC), row["window_end"].replace(tzinfo=UTC))
                )
                at = START + timedelta(hours=HOURS)
                records.append(RunRecord(BACKFILLED, at, f"{BACKFILLED}__{run_id}", "success"))
            assert sorted(windows) == [
                (first + timedelta(hours=i), first + timedelta(hours=i + 1)) for i in range(BACKFILL_HOURS)
            ]
            assert in_window > 0  # the windows' stories, dated in the feed and sitemaps
            assert busy_message_logged(logs, dag_id(BACKFILLED), shell_run)
            # Waiting for a busy source is a reschedule, not a failed try: no retry was used.
            crawl_tries = [
                ti["try_number"]
                for (dag, _run), tis in instances.items()
                if dag == dag_id(BACKFILLED)
                for ti in tis
                if ti["task_id"] == "crawl"
            ]
            assert crawl_tries == [1] * BACKFILL_HOURS, crawl_tries
            ops_done = time.monotonic()

        broken = {
            (outlet, served_at.replace(minute=0, second=0, microsecond=0))
            for outlet, _url, served_at in network.served_broken()
        }
        engine = make_engine(pg_url)
        try:
            card = score(
                engine,
                network.timeline,
                {o.key: o.base_url for o in network.outlets},
                records,
                end=START + timedelta(hours=HOURS),
                broken=broken,
                requests=network.requests(),
                wall_seconds=round(time.monotonic() - started, 1),
            )
        finally:
            engine.dispose()
    print(card.table())
    print(
        f"airflow up {ready - started:.0f} s, hourly runs {hourly_done - ready:.0f} s,"
        f" clear + backfill {ops_done - hourly_done:.0f} s"
    )
    assert card.runs == len(keys) * HOURS + BACKFILL_HOURS
    assert card.false_alarms == 0 and card.missed_alarms == 0, card.failures
    assert card.provenance_missing == 0 and card.duplicates == 0
    assert card.completeness == 1.0, card.misses
    assert card.live_published > 0


def try_numbers(client: AirflowClient, dag: str, run_id: str) -> dict[str, int]:
    return {ti["task_id"]: int(ti["try_number"]) for ti in client.task_instances(dag, run_id)}


def start_shell_crawl(pg_url: str, sources: Path, clock: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A crawl of :data:`BACKFILLED` started from a shell (``newsflow crawl``), still at work."""
    from pipeline.config import load_sources
    from pipeline.runs import start_run, sync_source
    from pipeline.settings import reset_settings_cache

    monkeypatch.setenv("NEWSFLOW_NOW", f"file:{clock}")
    reset_settings_cache()
    run_id = f"{BACKFILLED}__manual__shell"
    with session_scope(get_engine(pg_url)) as session:
        start_run(session, sync_source(session, load_sources(sources).get(BACKFILLED)), run_id)
    return run_id


def end_shell_crawl(pg_url: str, run_id: str) -> None:
    with session_scope(get_engine(pg_url)) as session:
        session.execute(
            update(CrawlRun)
            .where(CrawlRun.run_id == run_id)
            .values(status="failed", error="interrupted", finished_at=START + timedelta(hours=HOURS))
        )


def watch_until_finished(
    client: AirflowClient, components: AirflowComponents, runs: list[tuple[str, str]], timeout: float = 400
) -> tuple[dict[str, int], dict[tuple[str, str], list[dict[str, Any]]]]:
    """Poll until every (dag, run) has finished, all successfully; the most crawl tasks seen
    running at once per DAG, and the runs' final task instances."""
    most: dict[str, int] = {dag: 0 for dag, _run in runs}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        components.check_alive()
        instances = {(dag, run): client.task_instances(dag, run) for dag, run in runs}
        for dag in most:
            crawling = sum(
                ti["state"] == "running"
                for (d, _run), tis in instances.items()
                if d == dag
                for ti in tis
                if ti["task_id"] == "crawl"
            )
            most[dag] = max(most[dag], crawling)
        states = {key: client.run_state(*key) for key in runs}
        if all(s in ("success", "failed") for s in states.values()):
            assert all(s == "success" for s in states.values()), {
                key: client.task_states(*key) for key in runs
            }
            return most, instances
        time.sleep(1)
    raise AssertionError(f"runs not finished after {timeout:.0f}s: {[client.task_states(*k) for k in runs]}")


def wait_for_backfill_runs(
    client: AirflowClient, components: AirflowComponents, dag: str, count: int
) -> list[str]:
    """The run ids of the backfill's runs, once the scheduler has created them."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        components.check_alive()
        runs = [r["dag_run_id"] for r in client.runs(dag) if r["run_type"] == "backfill"]
        if len(runs) >= count:
            return sorted(runs)
        time.sleep(1)
    raise AssertionError(f"backfill runs not created: {client.runs(dag)}")


def wait_for_reschedule(
    client: AirflowClient,
    components: AirflowComponents,
    dag: str,
    runs: list[str],
    logs: Path,
    other_run: str,
) -> bool:
    """True once a crawl task of the runs found its source busy: seen ``up_for_reschedule``,
    or (polling may fall between two looks) its log says it waits for ``other_run``."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        components.check_alive()
        for run_id in runs:
            states = client.task_states(dag, run_id)
            if states.get("crawl") == "up_for_reschedule":
                return True
            if "failed" in (states.get("crawl"), client.run_state(dag, run_id)):
                raise AssertionError(f"backfill run {run_id} failed: {states}")
        if busy_message_logged(logs, dag, other_run):
            return True
        time.sleep(0.5)
    return False


def busy_message_logged(logs: Path, dag: str, other_run: str) -> bool:
    """The crawl task's log says why it waits (the source is busy, and with which run)."""
    for path in (logs / f"dag_id={dag}").rglob("*.log"):
        text = path.read_text(errors="replace")
        if "is busy" in text and other_run in text:
            return True
    return False
