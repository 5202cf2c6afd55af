"""The soak through a real Airflow: hourly runs, a Clear of a crawl task and a backfill, scored.

``benchmarks/soak.py`` calls the stage functions in process; this test drives the same
pipeline through what production runs: a scheduler, a DAG processor and an API server
(LocalExecutor, PostgreSQL metadata and news databases), with the living demo network and
the pipeline sharing one simulated clock file (``NEWSFLOW_NOW=file:…``). The harness moves
the clock, triggers one run per outlet for that hour over REST (with the hour as data
interval, as the scheduler would), and waits. Airflow's own cron is switched off
(``use_job_schedule``): it follows the real clock, the web follows the simulated one.

Then, as ops would: Clear the crawl task (with downstream) of a finished run — it reruns and
every article keeps its WARC record; and backfill three past hours of one outlet while a
shell crawl of that outlet holds it busy — the crawl tasks wait (rescheduled, not failed),
run one at a time, and read their window with ``backfill=True``. Finally the database is
scored against the network's ground truth with :func:`benchmarks.scorecard.score`.
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
HOURS = 3
CLEARED = "northern-ledger"
BACKFILLED = "harbour-times"
BACKFILL_HOURS = 3  # the windows [START - 3 h, START - 2 h), …, [START - 1 h, START)
BUSY_RECHECK_SECONDS = 3


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


def wait_for_runs(
    client: AirflowClient, components: AirflowComponents, runs: dict[str, str], timeout: float = 300
) -> dict[str, str]:
    """Wait until every ``{dag_id: run_id}`` has finished; their final states."""
    return {
        dag: client.wait_for_run(dag, run, timeout=timeout, components=components)
        for dag, run in runs.items()
    }


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

            # -- hourly runs of every outlet, the clock moved between them -------------------
            last: dict[str, str] = {}
            for hour in range(1, HOURS + 1):
                at = START + timedelta(hours=hour)
                network.set_now(at)
                # A manual run with the hour as logical date owns the hour before it, like the
                # scheduled run of that tick.
                triggered = {dag_id(k): client.trigger(dag_id(k), logical_date=at.isoformat()) for k in keys}
                states = wait_for_runs(client, components, triggered)
                rows = news_runs(pg_url)
                for key in keys:
                    run_id = triggered[dag_id(key)]
                    row = rows[f"{key}__{run_id}"]
                    assert row["window_end"] is not None and row["window_end"].replace(tzinfo=UTC) == at
                    status = "success" if states[dag_id(key)] == "success" else "failed"
                    records.append(RunRecord(key, at, f"{key}__{run_id}", status, row["error"]))
                    last[key] = run_id
            assert all(r.status == "success" for r in records), [r for r in records if r.status != "success"]
            hourly_done = time.monotonic()

            # -- Clear the crawl task (and what follows it) of a finished run ------------------
            cleared_run = last[CLEARED]
            before = {
                ti["task_id"]: ti["try_number"] for ti in client.task_instances(dag_id(CLEARED), cleared_run)
            }
            assert client.clear_run(dag_id(CLEARED), cleared_run, ["crawl"], downstream=True) >= 5
            state = client.wait_for_run(dag_id(CLEARED), cleared_run, timeout=300, components=components)
            assert state == "success", client.task_states(dag_id(CLEARED), cleared_run)
            after = {
                ti["task_id"]: ti["try_number"] for ti in client.task_instances(dag_id(CLEARED), cleared_run)
            }
            assert after["crawl"] == before["crawl"] + 1 and after["publish"] == before["publish"] + 1
            rerun = news_runs(pg_url)[f"{CLEARED}__{cleared_run}"]
            assert rerun["status"] == "success" and "crawl" in rerun["stats"]
            assert provenance_gaps(pg_url) == []
            cleared_done = time.monotonic()

            # -- a backfill of past hours while a shell crawl holds the source ---------------
            monkeypatch.setenv("NEWSFLOW_NOW", f"file:{clock}")
            monkeypatch.setenv("NEWSFLOW_SOURCES", str(sources))
            from pipeline.config import load_sources
            from pipeline.runs import start_run, sync_source
            from pipeline.settings import reset_settings_cache

            reset_settings_cache()
            shell_run = f"{BACKFILLED}__manual__shell"
            with session_scope(get_engine(pg_url)) as session:
                config = load_sources(sources).get(BACKFILLED)
                start_run(session, sync_source(session, config), shell_run)  # `newsflow crawl` at work
            first = START - timedelta(hours=BACKFILL_HOURS)
            backfill = client.create_backfill(
                dag_id(BACKFILLED),
                first.isoformat(),
                (START - timedelta(hours=1)).isoformat(),
                max_active_runs=BACKFILL_HOURS,
            )
            backfill_runs = wait_for_backfill_runs(client, components, dag_id(BACKFILLED), BACKFILL_HOURS)
            waited = wait_for_reschedule(client, components, dag_id(BACKFILLED), backfill_runs)
            with session_scope(get_engine(pg_url)) as session:  # the shell crawl ends
                session.execute(
                    update(CrawlRun)
                    .where(CrawlRun.run_id == shell_run)
                    .values(status="failed", error="interrupted", finished_at=START + timedelta(hours=HOURS))
                )
            running_crawls = 0
            deadline = time.monotonic() + 300
            while time.monotonic() < deadline:
                components.check_alive()
                instances = {r: client.task_instances(dag_id(BACKFILLED), r) for r in backfill_runs}
                crawls = [ti for tis in instances.values() for ti in tis if ti["task_id"] == "crawl"]
                running_crawls = max(running_crawls, sum(ti["state"] == "running" for ti in crawls))
                states = {r: client.run_state(dag_id(BACKFILLED), r) for r in backfill_runs}
                if all(s in ("success", "failed") for s in states.values()):
                    break
                time.sleep(1)
            assert all(s == "success" for s in states.values()), (
                states,
                {r: client.task_states(dag_id(BACKFILLED), r) for r in backfill_runs},
            )
            info = client.request("GET", f"/backfills/{backfill['id']}")
            assert info["dag_id"] == dag_id(BACKFILLED)
            # One crawl of the source at a time, although the backfill ran its runs at once.
            assert running_crawls <= 1
            spans = sorted(
                (parse_time(ti["start_date"]), parse_time(ti["end_date"]))
                for tis in instances.values()
                for ti in tis
                if ti["task_id"] == "crawl"
            )
            assert len(spans) == BACKFILL_HOURS
            assert all(later[0] >= earlier[1] for earlier, later in pairwise(spans)), spans
            rows = news_runs(pg_url)
            windows = []
            for run_id in backfill_runs:
                row = rows[f"{BACKFILLED}__{run_id}"]
                assert row["params"]["backfill"] is True and row["status"] == "success", row
                report = row["stats"]["crawl"]["backfill"]
                assert report["not_recovered"], report  # it says what a backfill cannot see
                windows.append(
                    (row["window_start"].replace(tzinfo=UTC), row["window_end"].replace(tzinfo=UTC))
                )
                assert report["window_end"] == row["window_end"].replace(tzinfo=UTC).isoformat()
                records.append(
                    RunRecord(
                        BACKFILLED, START + timedelta(hours=HOURS), f"{BACKFILLED}__{run_id}", "success"
                    )
                )
            assert sorted(windows) == [
                (first + timedelta(hours=i), first + timedelta(hours=i + 1)) for i in range(BACKFILL_HOURS)
            ]
            # The window's stories are dated entries of the feed/sitemap, stored by the first hourly run.
            assert (
                sum(
                    rows[f"{BACKFILLED}__{r}"]["stats"]["crawl"]["backfill"]["entries_in_window"]
                    for r in backfill_runs
                )
                > 0
            )
            assert waited, "no backfill crawl was rescheduled while the source was busy"
            assert busy_message_logged(home.home / "logs", dag_id(BACKFILLED))
            assert not [
                r
                for r in rows.values()
                if r["params"].get("backfill")
                and r["run_id"] not in {f"{BACKFILLED}__{b}" for b in backfill_runs}
            ]
            backfill_done = time.monotonic()

        end = START + timedelta(hours=HOURS)
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
                end=end,
                broken=broken,
                requests=network.requests(),
                wall_seconds=round(time.monotonic() - started, 1),
            )
        finally:
            engine.dispose()
    print(card.table())
    print(
        f"hourly runs {hourly_done - started:.0f} s, clear {cleared_done - hourly_done:.0f} s,"
        f" backfill {backfill_done - cleared_done:.0f} s"
    )
    assert card.runs == len(keys) * HOURS + BACKFILL_HOURS
    assert card.false_alarms == 0 and card.missed_alarms == 0, card.failures
    assert card.provenance_missing == 0 and card.duplicates == 0
    assert card.completeness == 1.0, card.misses
    assert card.live_published > 0


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
    client: AirflowClient, components: AirflowComponents, dag: str, runs: list[str]
) -> bool:
    """True once a crawl task of the runs is ``up_for_reschedule`` (its source was busy)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        components.check_alive()
        for run_id in runs:
            if client.task_states(dag, run_id).get("crawl") == "up_for_reschedule":
                return True
            if client.run_state(dag, run_id) == "failed":
                raise AssertionError(f"backfill run {run_id} failed: {client.task_states(dag, run_id)}")
        time.sleep(0.5)
    return False


def busy_message_logged(logs: Path, dag: str) -> bool:
    """The crawl task's log says why it waits (the source is busy, and with which run)."""
    for path in (logs / f"dag_id={dag}").rglob("*.log"):
        text = path.read_text(errors="replace")
        if "is busy" in text and "__manual__shell" in text:
            return True
    return False
