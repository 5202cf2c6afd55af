"""What every newsflow ingest task does, once: the task bodies, and the chain extract -> load -> check -> publish.

The per-source ingest DAG (:mod:`pipeline.ingest_dag`), the group DAG
(:mod:`pipeline.group_dag`) and ``news_reextract`` are different shapes around the same
work, so the work is written once here as plain functions of a news run id and the task
context (``run_select``, ``run_crawl``, ``run_extract``, ``run_load``, ``run_check``, ``run_publish``), and
each DAG's tasks are thin shells that call them. :func:`extract_load_check_publish` wires
the chain that ``news_ingest__<key>`` and ``news_reextract`` end with. Airflow is imported
only inside functions, never at module import.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from pipeline import dagkit
from pipeline.task_summary import log_summary

log = logging.getLogger("newsflow.task")


def run_select(
    keys: list[str], requested: list[str] | None, paused_in_config: frozenset[str]
) -> tuple[list[str], list[str]]:
    """The sources a group DAG run crawls and the paused ones it leaves out (logged)."""
    from pipeline.dag_groups import select_sources
    from pipeline.db.engine import get_engine
    from pipeline.pauses import paused_keys

    dagkit.prepare_task_environment()
    chosen, left_out = select_sources(keys, requested, paused_keys(get_engine(), keys, paused_in_config))
    if left_out:
        log.info("paused, not crawled: %s", ", ".join(left_out))
    return chosen, left_out


def run_crawl(
    key: str, news_run: str, context: Mapping[str, Any], *, paused_in_config: bool = False
) -> tuple[dict[str, Any], int, bool]:
    """Crawl one source for a task: returns its result dict, pages fetched and whether it was a dry run.

    A paused source (``pipeline.pauses``; ``paused_in_config``: its ``schedule.paused``
    counts, as in the grouped layout) skips the task and so the rest of its chain. A backfill
    run reads its past window from dated feed/sitemap entries; a busy source reschedules the
    task (``dagkit.crawl_exclusively``); a failed crawl fails the task so its retries apply.
    """
    from pipeline.stages.crawl import crawl as stage

    started = time.monotonic()
    dagkit.prepare_task_environment()
    dagkit.skip_if_paused(key, paused_in_config=paused_in_config)
    options = dagkit.crawl_options(context["params"], run_type=dagkit.run_type_of(context))
    window = dagkit.window_of(context)
    result = dagkit.crawl_exclusively(lambda: stage(key, news_run, window=window, **options))
    context["ti"].xcom_push(key="crawl", value=result.as_dict())
    log_summary("crawl", result.as_dict(), time.monotonic() - started)
    result.raise_for_status()
    return result.as_dict(), result.pages_fetched, bool(options["dry_run"])


def run_extract(news_run: str, shard: int, shards: int) -> dict[str, Any]:
    """Clean text and metadata from the archived pages of one shard of the run (no HTTP)."""
    from pipeline.stages.extract import extract as stage

    started = time.monotonic()
    dagkit.prepare_task_environment()
    workers = dagkit.extract_workers(shards)
    result = dict(stage(news_run, shard=shard, shards=shards, workers=workers).as_dict())
    log_summary("extract", result, time.monotonic() - started)
    return result


def run_load(news_run: str) -> dict[str, Any]:
    """Upsert the run's extracted articles (dedupe, versions, links)."""
    from pipeline.stages.load import load as stage

    started = time.monotonic()
    dagkit.prepare_task_environment()
    result = dict(stage(news_run).as_dict())
    log_summary("load", result, time.monotonic() - started)
    return result


def run_check(news_run: str) -> dict[str, Any]:
    """Quality gates; fails the task naming the cause (deterministic: callers set no retries).

    A failed gate logs each failure in full (with the pages it names), then fails the task
    with a short message: the reasons, without page lists or a chained traceback.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline.quality import QualityGateFailed
    from pipeline.stages.check import check as stage
    from pipeline.task_summary import gate_message

    started = time.monotonic()
    dagkit.prepare_task_environment()
    try:
        result = stage(news_run).as_dict()
    except QualityGateFailed as exc:
        # The headline first, as a log line of its own (not inside the traceback Airflow
        # prints for the exception), then every failure in full with the pages it names.
        message = gate_message(exc.source_key, exc.failures)
        log.error("%s", message)
        for failure in exc.failures:
            log.error("quality gate: %s", failure)
        raise AirflowFailException(message) from None  # type: ignore[no-untyped-call]
    log_summary("check", result, time.monotonic() - started)
    return dict(result)


def run_publish(news_run: str, context: Mapping[str, Any], asset: Any) -> dict[str, Any]:
    """Finalise the run and emit the articles Asset event with window, source and counts."""
    from pipeline.stages.check import publish as stage

    started = time.monotonic()
    dagkit.prepare_task_environment()
    extra = stage(news_run)
    context["outlet_events"][asset].extra = extra
    log_summary("publish", extra, time.monotonic() - started)
    return dict(extra)


def extract_load_check_publish(shard_plan: Any, asset: Any) -> None:
    """Wire extract (one mapped task per shard of ``shard_plan``) -> load -> check -> publish."""
    from airflow.sdk import task

    @task(max_active_tis_per_dagrun=dagkit.MAX_PARALLEL_SHARDS)
    def extract(news_run: str, shard: int, shards: int) -> dict[str, Any]:
        """Clean text and metadata from the archived pages of one shard of the run (no HTTP)."""
        return run_extract(news_run, shard, shards)

    @task
    def load(**context: Any) -> dict[str, Any]:
        """Upsert the run's extracted articles (dedupe, versions, links)."""
        return run_load(dagkit.require_news_run(context))

    @task(retries=0)
    def check(**context: Any) -> dict[str, Any]:
        """Quality gates; fails the run naming the cause (deterministic: no retries)."""
        return run_check(dagkit.require_news_run(context))

    @task(outlets=[asset])
    def publish(**context: Any) -> dict[str, Any]:
        """Finalise the run and emit the articles Asset event with window, source and counts."""
        return run_publish(dagkit.require_news_run(context), context, asset)

    extract.expand_kwargs(shard_plan) >> load() >> check() >> publish()
