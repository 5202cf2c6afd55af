"""Fault rows of issue 13's backfill, on the Airflow side: the ingest DAG's own crawl task.

Reported: "Backfill re-crawls today's site, several windows at once (the backfill ignores
``max_active_runs=1``), and nothing says so." Each row builds ``dags/news_ingest.py`` for a
tiny loopback site (:mod:`tests.minisite`) and calls its ``crawl`` task with the context the
scheduler gives a backfill run (run type ``backfill``, the window as data interval), so the
DAG file's wiring is what is tested; the real scheduler case is ``tests/test_airflow_soak.py``.
"""

from __future__ import annotations

import runpy
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from airflow.sdk.api.datamodels._generated import DagRunType
from sqlalchemy import create_engine, select

from pipeline.dagspecs import dag_file_of
from pipeline.db.models import CrawlRun
from pipeline.settings import reset_settings_cache
from tests.minisite import MiniSite
from tests.pipeline_runs import fetches

T0 = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)
WINDOW = (T0 - timedelta(hours=3), T0 - timedelta(hours=2))


@dataclass
class FakeDagRun:
    run_id: str
    run_type: DagRunType


@dataclass
class FakeDag:
    dag_id: str


@dataclass
class FakeTI:
    task_id: str = "crawl"
    pushed: dict[str, Any] = field(default_factory=dict)

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


@dataclass
class Ctx:
    site: MiniSite
    db_url: str
    dag: Any

    def crawl_task(self, run_id: str, run_type: DagRunType, window: tuple[datetime, datetime]) -> Any:
        """The DAG's crawl task as the scheduler runs it (task context, no scheduler)."""
        context = {
            "params": {},
            "dag": FakeDag(self.dag.dag_id),
            "dag_run": FakeDagRun(run_id, run_type),
            "data_interval_start": window[0],
            "data_interval_end": window[1],
            "ti": FakeTI(),
        }
        return self.dag.task_dict["crawl"].python_callable(**context)

    def run_row(self, run_id: str) -> Any:
        engine = create_engine(self.db_url)
        with engine.connect() as conn:
            row = conn.execute(select(CrawlRun.__table__).where(CrawlRun.run_id == run_id)).one_or_none()
        engine.dispose()
        return row


def backfill_reads_its_window_not_todays_site(ctx: Ctx) -> None:
    """A backfill run crawled today's site: listings, today's stories, no word about the window."""
    ctx.site.add("council-budget", WINDOW[0] + timedelta(minutes=20))  # inside the window
    ctx.site.add("harbour-fire", T0 - timedelta(minutes=10))  # today's news, after the window
    ctx.crawl_task("backfill__2026-10-05T09:00:00+00:00", DagRunType.BACKFILL, WINDOW)
    row = ctx.run_row("mini__backfill__2026-10-05T09:00:00+00:00")
    assert row.params["backfill"] is True
    report = row.stats["crawl"]["backfill"]
    assert report["window_start"] == WINDOW[0].isoformat() and report["entries_in_window"] == 1
    assert any("listings" in line for line in report["not_recovered"])  # it says what it cannot see
    fetched = {f.url for f in fetches(ctx.db_url, row.run_id)}
    assert ctx.site.url("council-budget") in fetched
    assert ctx.site.url("harbour-fire") not in fetched
    # A scheduled run of the same DAG is no backfill: it crawls today's site.
    ctx.crawl_task(
        "scheduled__2026-10-05T11:00:00+00:00", DagRunType.SCHEDULED, (T0 - timedelta(hours=1), T0)
    )
    scheduled = ctx.run_row("mini__scheduled__2026-10-05T11:00:00+00:00")
    assert scheduled.params["backfill"] is False and "backfill" not in scheduled.stats["crawl"]
    assert ctx.site.url("harbour-fire") in {f.url for f in fetches(ctx.db_url, scheduled.run_id)}


def backfill_windows_never_crawl_at_once(ctx: Ctx) -> None:
    """A backfill ran several windows of one source at once (it ignores max_active_runs=1)."""
    from airflow.sdk.exceptions import AirflowRescheduleException

    from pipeline.config import load_sources
    from pipeline.db.engine import get_engine, session_scope
    from pipeline.runs import start_run, sync_source
    from pipeline.settings import get_settings

    # Airflow: one crawl task of the DAG at a time, across all of its runs, backfills included.
    assert ctx.dag.task_dict["crawl"].max_active_tis_per_dag == 1
    # And if a crawl is live anyway (another window, a shell `newsflow crawl`), the task waits.
    first = "mini__backfill__2026-10-05T09:00:00+00:00"
    with session_scope(get_engine(ctx.db_url)) as session:
        start_run(session, sync_source(session, load_sources(get_settings().sources).get("mini")), first)
    before = datetime.now(UTC)
    with pytest.raises(AirflowRescheduleException) as waiting:
        ctx.crawl_task(
            "backfill__2026-10-05T10:00:00+00:00", DagRunType.BACKFILL, (WINDOW[1], T0 - timedelta(hours=1))
        )
    assert waiting.value.reschedule_date >= before + timedelta(seconds=get_settings().busy_recheck_seconds)
    assert first in str(waiting.value.__cause__)
    assert ctx.run_row("mini__backfill__2026-10-05T10:00:00+00:00") is None  # nothing crawled


FAULTS: dict[str, Callable[[Ctx], None]] = {
    "backfill-recrawled-todays-site": backfill_reads_its_window_not_todays_site,
    "backfill-windows-crawled-at-once": backfill_windows_never_crawl_at_once,
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault(
    fault: str, site: MiniSite, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = site.sources_yaml(tmp_path / "sources.yaml")
    monkeypatch.setenv("NEWSFLOW_SOURCES", str(sources))
    monkeypatch.setenv("NEWSFLOW_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("NEWSFLOW_RAW_STORE", str(tmp_path / "raw"))
    monkeypatch.setenv("NEWSFLOW_NOW", T0.isoformat())
    reset_settings_cache()
    dag = runpy.run_path(str(dag_file_of("mini")))["news_ingest__mini"]  # its shard file
    try:
        FAULTS[fault](Ctx(site, sqlite_url, dag))
    finally:
        reset_settings_cache()


def test_busy_recheck_shorter_than_airflows_report_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A 4 s recheck lost a try: the rescheduled attempt's late "success" from the executor
    reached the scheduler after the task was running again, and Airflow failed the new
    attempt (apache/airflow#71172). The setting now has a 20 s floor, named when refused."""
    from pydantic import ValidationError

    from pipeline.settings import Settings

    monkeypatch.setenv("NEWSFLOW_BUSY_RECHECK_SECONDS", "4")
    with pytest.raises(ValidationError, match="busy_recheck_seconds"):
        Settings()
    monkeypatch.setenv("NEWSFLOW_BUSY_RECHECK_SECONDS", "20")
    assert Settings().busy_recheck_seconds == 20
