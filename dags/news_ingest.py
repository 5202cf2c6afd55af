"""One ingestion DAG per source in ``sources.yaml``: ``news_ingest__<source key>``.

Adding a source to ``sources.yaml`` adds its DAG; no code changes. The file only wires
tasks to the stage functions in :mod:`pipeline.stages` (which do the work) and passes run
ids and counts between them. Parse time reads ``sources.yaml`` and nothing else: no
database, no network. A file that cannot be read as a whole (YAML syntax, aliases, a bad top
level) raises one import error naming the file and line; a source with an invalid line is
skipped (logged here, and reported as the import error of ``news_sources_errors.py``, naming
file, line and key) while every other source keeps its DAG.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, CronDataIntervalTimetable, Param, dag, task

from pipeline import dagkit
from pipeline.config import ConfigError, Source, load_sources_partial
from pipeline.dag_tasks import extract_load_check_publish


def build_ingest_dag(source: Source) -> DAG:
    """The DAG of one source."""
    key = source.key
    asset = dagkit.articles_asset()

    @dag(
        dag_id=f"news_ingest__{key}",
        dag_display_name=f"Ingest: {source.name}",
        # The UI shows the cron expression without its timezone: the description names it.
        description=(
            f"Crawl, extract, load and check {source.name}; "
            f"schedule {source.schedule.cron} in {source.schedule.timezone}"
        ),
        schedule=CronDataIntervalTimetable(source.schedule.cron, timezone=source.schedule.timezone),
        start_date=dagkit.START_DATE,
        catchup=False,
        max_active_runs=1,
        # paused: true in sources.yaml pauses a new DAG; otherwise Airflow's
        # dags_are_paused_at_creation decides (paused by default: ops switch sources on).
        is_paused_upon_creation=True if source.schedule.paused else None,
        tags=["newsflow", "ingest", dagkit.source_tag(key), *source.tags],
        doc_md=dagkit.ingest_doc(source),
        default_args=dagkit.default_args(source.owner),
        params={
            "max_pages": Param(
                None,
                type=["null", "integer"],
                minimum=1,
                title="Max pages",
                description=f"Responses to fetch at most (default from sources.yaml: {source.limits.max_pages}).",
                section="Crawl",
            ),
            "related_depth": Param(
                None,
                type=["null", "integer"],
                minimum=0,
                maximum=5,
                title="Related-link depth",
                description=f"Hops of related links (default from sources.yaml: {source.related.depth}).",
                section="Crawl",
            ),
            "recrawl": Param(
                False,
                type="boolean",
                title="Recrawl everything",
                description="Refetch every page unconditionally.",
                section="Crawl",
            ),
            "dry_run": Param(
                False,
                type="boolean",
                title="Dry run",
                description="Crawl only; extract/load/publish are skipped.",
                section="Pipeline",
            ),
        },
    )
    def ingest() -> None:
        # One crawl of the source at a time across all of its runs: a backfill starts several
        # runs at once whatever max_active_runs says, and two windows must not race.
        @task(pool="crawl_pool", execution_timeout=timedelta(hours=2), max_active_tis_per_dag=1)
        def crawl(**context: Any) -> list[dict[str, Any]]:
            """Scrapy in a subprocess; archives to WARC and records fetches. Returns the shard plan.

            A backfill run reads its past window from dated feed/sitemap entries; a busy
            source reschedules the task (see ``dagkit.crawl_exclusively``).
            """
            from pipeline.stages.crawl import crawl as stage
            from pipeline.task_summary import log_summary

            started = time.monotonic()
            dagkit.prepare_task_environment()
            options = dagkit.crawl_options(context["params"], run_type=dagkit.run_type_of(context))
            news_run = dagkit.require_news_run(context)
            window = dagkit.window_of(context)
            result = dagkit.crawl_exclusively(lambda: stage(key, news_run, window=window, **options))
            context["ti"].xcom_push(key="crawl", value=result.as_dict())
            log_summary("crawl", result.as_dict(), time.monotonic() - started)
            result.raise_for_status()  # a failed crawl fails the task, so its retries apply
            return [] if options["dry_run"] else dagkit.shard_plan(news_run, result.pages_fetched)

        extract_load_check_publish(crawl(), asset)

    return ingest()


log = logging.getLogger("newsflow.dags")


def _load_sources() -> list[Source]:
    path = dagkit.sources_path()
    try:
        sources, issues = load_sources_partial(path)
    except ConfigError as exc:
        # One import error that says what to fix, instead of a traceback into pydantic.
        raise RuntimeError(f"newsflow: {path} is invalid, no ingest DAGs built:\n{exc}") from None
    for issue in issues:
        log.error("newsflow: source skipped, no DAG built: %s", issue)
    return sources


for _source in _load_sources():
    globals()[f"news_ingest__{_source.key}"] = build_ingest_dag(_source)
