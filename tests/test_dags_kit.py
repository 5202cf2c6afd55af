"""The DAG glue in ``pipeline.dagkit``, without Airflow: run ids, windows, params, shards, alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from pipeline import dagkit
from pipeline.db.engine import get_engine, session_scope
from pipeline.db.models import CrawlRun
from pipeline.stages.reextract import start_reextract


def test_shard_plan_spreads_pages_and_never_plans_zero_shards() -> None:
    assert dagkit.shard_plan("r", 0) == [{"news_run": "r", "shard": 0, "shards": 1}]
    pages = 3 * dagkit.PAGES_PER_SHARD - 10
    assert [s["shard"] for s in dagkit.shard_plan("r", pages)] == [0, 1, 2]
    assert {s["shards"] for s in dagkit.shard_plan("r", pages)} == {3}
    assert len(dagkit.shard_plan("r", 100 * dagkit.PAGES_PER_SHARD)) == dagkit.MAX_SHARDS


def test_pages_per_shard_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """``NEWSFLOW_PAGES_PER_SHARD`` spreads a small run over several shards (Celery workers)."""
    from pipeline.settings import Settings, reset_settings_cache

    assert Settings().pages_per_shard == dagkit.PAGES_PER_SHARD
    monkeypatch.setenv("NEWSFLOW_PAGES_PER_SHARD", "10")
    reset_settings_cache()
    assert [s["shard"] for s in dagkit.shard_plan("r", 35)] == [0, 1, 2, 3]
    assert len(dagkit.shard_plan("r", 35, per_shard=500)) == 1
    monkeypatch.setenv("NEWSFLOW_PAGES_PER_SHARD", "0")
    reset_settings_cache()
    with pytest.raises(ValueError, match="pages_per_shard"):
        dagkit.shard_plan("r", 35)


def test_extract_workers_split_the_cores_over_parallel_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.settings import reset_settings_cache

    monkeypatch.delenv("NEWSFLOW_WORKERS", raising=False)
    reset_settings_cache()
    assert dagkit.extract_workers(1, cores=8) == 8
    assert dagkit.extract_workers(2, cores=8) == 4
    assert dagkit.extract_workers(dagkit.MAX_SHARDS, cores=8) == 8 // dagkit.MAX_PARALLEL_SHARDS
    assert dagkit.extract_workers(4, cores=2) == 1  # never zero
    for shards in range(1, dagkit.MAX_SHARDS + 1):
        parallel = min(shards, dagkit.MAX_PARALLEL_SHARDS)
        assert parallel * dagkit.extract_workers(shards, cores=16) <= 16
    monkeypatch.setenv("NEWSFLOW_WORKERS", "3")  # an explicit setting wins (ops know the machine)
    reset_settings_cache()
    try:
        assert dagkit.extract_workers(4, cores=2) == 3
    finally:
        monkeypatch.delenv("NEWSFLOW_WORKERS")
        reset_settings_cache()


def test_crawl_options_from_trigger_form() -> None:
    assert dagkit.crawl_options({}) == {
        "max_pages": None,
        "related_depth": None,
        "recrawl": False,
        "dry_run": False,
        "backfill": False,
    }
    assert dagkit.crawl_options({"max_pages": "7", "related_depth": 0, "recrawl": True, "dry_run": None}) == {
        "max_pages": 7,
        "related_depth": 0,
        "recrawl": True,
        "dry_run": False,
        "backfill": False,
    }
    # Only a backfill run reads its window from dated feed/sitemap entries.
    assert dagkit.crawl_options({}, run_type="backfill")["backfill"] is True
    for run_type in ("scheduled", "manual", "asset_triggered", None):
        assert dagkit.crawl_options({}, run_type=run_type)["backfill"] is False


@dataclass
class FakeDagRun:
    run_id: str
    run_type: Any = None


def test_backfill_runs_are_recognised_by_the_real_airflow_run_types() -> None:
    from airflow.sdk.api.datamodels._generated import DagRunType as SdkRunType
    from airflow.utils.types import DagRunType

    # The task SDK hands tasks its own enum (BACKFILL), the scheduler uses BACKFILL_JOB.
    for run_type in (SdkRunType.BACKFILL, DagRunType.BACKFILL_JOB, "backfill"):
        context = {"dag_run": FakeDagRun("backfill__2026-01-01T10:00:00+00:00", run_type)}
        assert dagkit.run_type_of(context) == "backfill"
        assert dagkit.is_backfill(context) is True
    for run_type in (SdkRunType.SCHEDULED, SdkRunType.MANUAL, DagRunType.MANUAL):
        context = {"dag_run": FakeDagRun("r", run_type)}
        assert dagkit.is_backfill(context) is False
        assert dagkit.run_type_of(context) == run_type.value
    assert dagkit.is_backfill({}) is False and dagkit.run_type_of({}) is None


def test_a_busy_source_reschedules_the_crawl_task(db_env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.exceptions import AirflowRescheduleException

    from pipeline.config import parse_sources
    from pipeline.runs import start_run, sync_source
    from pipeline.settings import reset_settings_cache

    monkeypatch.setenv("NEWSFLOW_BUSY_RECHECK_SECONDS", "45")
    reset_settings_cache()
    config = parse_sources("sources:\n  - key: alpha\n    name: A\n    homepage: http://127.0.0.1:9/\n")

    def begin(run_id: str) -> str:
        with session_scope(get_engine(db_env)) as session:
            return start_run(session, sync_source(session, config.get("alpha")), run_id).run_id

    begin("alpha__scheduled__1")  # crawling, no crawl statistics yet: the source is busy
    now = datetime(2026, 1, 1, 10, tzinfo=UTC)
    with pytest.raises(AirflowRescheduleException) as caught:
        dagkit.crawl_exclusively(lambda: begin("alpha__backfill__2"), now=now)
    assert caught.value.reschedule_date == datetime(2026, 1, 1, 10, 0, 45, tzinfo=UTC)
    assert "alpha__scheduled__1" in str(caught.value.__cause__)
    # The same run id again (a retry of the crawl task) is not refused.
    assert dagkit.crawl_exclusively(lambda: begin("alpha__scheduled__1")) == "alpha__scheduled__1"
    reset_settings_cache()


def test_usage_errors_fail_the_crawl_task_without_retries() -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline.errors import UsageError

    def future_backfill() -> None:
        raise UsageError("a backfill window must lie in the past (it ends at 2099-01-01T00:00:00+00:00)")

    with pytest.raises(AirflowFailException, match=r"must lie in the past.*not retried"):
        dagkit.crawl_exclusively(future_backfill)

    def network_down() -> None:
        raise OSError("connection refused")

    with pytest.raises(OSError):  # anything else: the task's retries apply
        dagkit.crawl_exclusively(network_down)


@dataclass
class FakeDag:
    dag_id: str


def test_window_and_run_id_from_context() -> None:
    start, end = datetime(2026, 1, 1, 10, tzinfo=UTC), datetime(2026, 1, 1, 11, tzinfo=UTC)
    context: dict[str, Any] = {
        "data_interval_start": start,
        "data_interval_end": end,
        "dag_run": FakeDagRun("scheduled__2026-01-01T10:00:00+00:00"),
        "dag": FakeDag("news_ingest__alpha"),
    }
    assert dagkit.window_of(context) == (start, end)
    assert dagkit.news_run_of(context) == "alpha__scheduled__2026-01-01T10:00:00+00:00"
    # Manual and asset-triggered runs may carry no (or a zero-length) interval.
    assert dagkit.window_of({"data_interval_start": start, "data_interval_end": start}) == (None, None)
    assert dagkit.window_of({}) == (None, None)
    reextract = {
        "dag_run": FakeDagRun("manual__x"),
        "dag": FakeDag("news_reextract"),
        "params": {"source": "b"},
    }
    assert dagkit.news_run_of(reextract) == "b__reextract__manual__x"
    assert dagkit.news_run_of({"dag_run": FakeDagRun("m"), "dag": FakeDag("news_retention")}) is None


def test_project_paths_do_not_depend_on_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSFLOW_SOURCES", raising=False)
    assert dagkit.sources_path() == dagkit.PROJECT_ROOT / "sources.yaml"
    monkeypatch.setenv("NEWSFLOW_SOURCES", str(tmp_path / "s.yaml"))
    assert dagkit.sources_path() == tmp_path / "s.yaml"


def test_failure_callback_marks_the_run_failed_and_alerts(
    db_env: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "version: 1\nsources:\n  - key: beta\n    name: Beta\n    homepage: http://127.0.0.1:10/\n"
    )
    monkeypatch.setenv("NEWSFLOW_SOURCES", str(sources))
    start_reextract("beta", "2026-01-01", "2026-01-02", "beta__reextract__manual__1", sources_path=sources)

    @dataclass
    class FakeTI:
        task_id: str

    context = {
        "dag_run": FakeDagRun("manual__1"),
        "dag": FakeDag("news_reextract"),
        "params": {"source": "beta"},
        "ti": FakeTI("load"),
        "exception": RuntimeError("database went away"),
    }
    dagkit.on_task_failure(context)
    assert "news_reextract.load failed: RuntimeError: database went away" in caplog.text
    with session_scope(get_engine(db_env)) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == "beta__reextract__manual__1")).one()
        assert run.status == "failed" and run.error == "load: RuntimeError: database went away"
    # A second failure (e.g. the callback after check stored its verdict) keeps the first cause.
    dagkit.on_task_failure({**context, "exception": RuntimeError("later")})
    with session_scope(get_engine(db_env)) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == "beta__reextract__manual__1")).one()
        assert run.error == "load: RuntimeError: database went away"
