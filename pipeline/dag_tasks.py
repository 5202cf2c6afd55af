"""The task chain every newsflow DAG ends with: extract (mapped over shards) -> load -> check -> publish.

``news_ingest`` feeds it the crawl's shard plan, ``news_reextract`` the plan of a window of
archived pages; the chain itself is the same, so it is defined once here. Call it inside a
DAG definition; Airflow is imported only then, never at module import.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from pipeline import dagkit
from pipeline.task_summary import log_summary

log = logging.getLogger("newsflow.task")


def extract_load_check_publish(shard_plan: Any, asset: Any) -> None:
    """Wire extract (one mapped task per shard of ``shard_plan``) -> load -> check -> publish."""
    from airflow.sdk import task

    @task(max_active_tis_per_dagrun=dagkit.MAX_PARALLEL_SHARDS)
    def extract(news_run: str, shard: int, shards: int) -> dict[str, Any]:
        """Clean text and metadata from the archived pages of one shard of the run (no HTTP)."""
        from pipeline.stages.extract import extract as stage

        started = time.monotonic()
        dagkit.prepare_task_environment()
        workers = dagkit.extract_workers(shards)
        result = dict(stage(news_run, shard=shard, shards=shards, workers=workers).as_dict())
        log_summary("extract", result, time.monotonic() - started)
        return result

    @task
    def load(**context: Any) -> dict[str, Any]:
        """Upsert the run's extracted articles (dedupe, versions, links)."""
        from pipeline.stages.load import load as stage

        started = time.monotonic()
        dagkit.prepare_task_environment()
        result = dict(stage(dagkit.require_news_run(context)).as_dict())
        log_summary("load", result, time.monotonic() - started)
        return result

    @task(retries=0)
    def check(**context: Any) -> dict[str, Any]:
        """Quality gates; fails the run naming the cause (deterministic: no retries).

        A failed gate logs each failure in full (with the pages it names), then fails the
        task with a short message: the reasons, without page lists or a chained traceback.
        """
        from airflow.sdk.exceptions import AirflowFailException

        from pipeline.quality import QualityGateFailed
        from pipeline.stages.check import check as stage
        from pipeline.task_summary import gate_message

        started = time.monotonic()
        dagkit.prepare_task_environment()
        try:
            result = stage(dagkit.require_news_run(context)).as_dict()
        except QualityGateFailed as exc:
            # The headline first, as a log line of its own (not inside the traceback Airflow
            # prints for the exception), then every failure in full with the pages it names.
            message = gate_message(exc.source_key, exc.failures)
            log.error("%s", message)
            for failure in exc.failures:
                log.error("quality gate: %s", failure)
            raise AirflowFailException(message) from None  # type: ignore[no-untyped-call]
        log_summary("check", result, time.monotonic() - started)
        return result

    @task(outlets=[asset])
    def publish(**context: Any) -> dict[str, Any]:
        """Finalise the run and emit the articles Asset event with window, source and counts."""
        from pipeline.stages.check import publish as stage

        started = time.monotonic()
        dagkit.prepare_task_environment()
        extra = stage(dagkit.require_news_run(context))
        context["outlet_events"][asset].extra = extra
        log_summary("publish", extra, time.monotonic() - started)
        return extra

    extract.expand_kwargs(shard_plan) >> load() >> check() >> publish()
