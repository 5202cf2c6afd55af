"""The task chain every newsflow DAG ends with: extract (mapped over shards) -> load -> check -> publish.

``news_ingest`` feeds it the crawl's shard plan, ``news_reextract`` the plan of a window of
archived pages; the chain itself is the same, so it is defined once here. Call it inside a
DAG definition; Airflow is imported only then, never at module import.
"""

from __future__ import annotations

from typing import Any

from pipeline import dagkit


def extract_load_check_publish(shard_plan: Any, asset: Any) -> None:
    """Wire extract (one mapped task per shard of ``shard_plan``) -> load -> check -> publish."""
    from airflow.sdk import task

    @task(max_active_tis_per_dagrun=dagkit.MAX_PARALLEL_SHARDS)
    def extract(news_run: str, shard: int, shards: int) -> dict[str, Any]:
        """Clean text and metadata from the archived pages of one shard of the run (no HTTP)."""
        from pipeline.stages.extract import extract as stage

        dagkit.prepare_task_environment()
        workers = dagkit.extract_workers(shards)
        return dict(stage(news_run, shard=shard, shards=shards, workers=workers).as_dict())

    @task
    def load(**context: Any) -> dict[str, Any]:
        """Upsert the run's extracted articles (dedupe, versions, links)."""
        from pipeline.stages.load import load as stage

        dagkit.prepare_task_environment()
        return dict(stage(dagkit.require_news_run(context)).as_dict())

    @task(retries=0)
    def check(**context: Any) -> dict[str, Any]:
        """Quality gates; fails the run naming the cause (deterministic: no retries)."""
        from pipeline.stages.check import check as stage

        dagkit.prepare_task_environment()
        return stage(dagkit.require_news_run(context)).as_dict()

    @task(outlets=[asset])
    def publish(**context: Any) -> dict[str, Any]:
        """Finalise the run and emit the articles Asset event with window, source and counts."""
        from pipeline.stages.check import publish as stage

        dagkit.prepare_task_environment()
        extra = stage(dagkit.require_news_run(context))
        context["outlet_events"][asset].extra = extra
        return extra

    extract.expand_kwargs(shard_plan) >> load() >> check() >> publish()
