"""The ingest DAG of one source (``news_ingest__<key>``), and the DAGs of one shard file.

The files ``dags/news_ingest.py`` (shard 0) and ``dags/news_ingest_01.py`` … ``_15.py`` call
:func:`pipeline.dagspecs.define_shard`, which calls :func:`build_ingest_dag` per source of
its shard (:func:`pipeline.dagspecs.shard_of`).
Imported only by DAG files (it imports the Airflow SDK); the tasks call the stage functions
in :mod:`pipeline.stages` and the glue in :mod:`pipeline.dagkit`.

Parse cost, measured by ``benchmarks/dag_parse.py``: Airflow's own share dominates — the DAG,
its five tasks and, above all, the four trigger-form Params, which Airflow copies into every
task and validates with ``jsonschema`` dozens of times while building and serialising the
DAG. Two things keep that down: the Params are attached after the tasks are built (see
:func:`build_ingest_dag`), and they declare JSON Schema draft-07
(``dagkit.PARAM_SCHEMA_DIALECT``), whose meta-schema check costs ~0.15 ms against ~0.4 ms for
the default 2020-12 one. Everything else comes precomputed in an
:class:`~pipeline.dagspecs.IngestSpec` (doc, defaults).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, CronDataIntervalTimetable, Param, dag, task
from airflow.sdk.definitions.param import ParamsDict

from pipeline import dagkit
from pipeline.dag_tasks import extract_load_check_publish, run_crawl
from pipeline.dagspecs import IngestSpec


def ingest_params(spec: IngestSpec | None) -> dict[str, Param]:
    """The trigger form of an ingest DAG (``max_pages``, ``related_depth``, ``recrawl``, ``dry_run``).

    ``spec``: the one source of a per-source DAG, whose defaults the help text shows; None
    for a group DAG (each source keeps its own defaults).
    """
    dialect: dict[str, Any] = {"$schema": dagkit.PARAM_SCHEMA_DIALECT}
    pages = (
        f"default from sources.yaml: {spec.max_pages}"
        if spec
        else "default: each source's, from sources.yaml"
    )
    depth = (
        f"default from sources.yaml: {spec.related_depth}"
        if spec
        else "default: each source's, from sources.yaml"
    )
    return {
        "max_pages": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            title="Max pages",
            description=f"Responses to fetch at most ({pages}).",
            section="Crawl",
            **dialect,
        ),
        "related_depth": Param(
            None,
            type=["null", "integer"],
            minimum=0,
            maximum=5,
            title="Related-link depth",
            description=f"Hops of related links ({depth}).",
            section="Crawl",
            **dialect,
        ),
        "recrawl": Param(
            False,
            type="boolean",
            title="Recrawl everything",
            description="Refetch every page unconditionally.",
            section="Crawl",
            **dialect,
        ),
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Crawl only; extract/load/publish are skipped.",
            section="Pipeline",
            **dialect,
        ),
    }


def build_ingest_dag(spec: IngestSpec, asset: Any = None) -> DAG:
    """The DAG of one source."""
    key = spec.key
    asset = asset if asset is not None else dagkit.articles_asset()

    @dag(
        dag_id=f"news_ingest__{key}",
        dag_display_name=f"Ingest: {spec.name}",
        # The UI shows the cron expression without its timezone: the description names it.
        description=(f"Crawl, extract, load and check {spec.name}; schedule {spec.cron} in {spec.timezone}"),
        schedule=CronDataIntervalTimetable(spec.cron, timezone=spec.timezone),
        start_date=dagkit.START_DATE,
        catchup=False,
        max_active_runs=1,
        # paused: true in sources.yaml pauses a new DAG; otherwise Airflow's
        # dags_are_paused_at_creation decides (paused by default: ops switch sources on).
        is_paused_upon_creation=True if spec.paused else None,
        tags=["newsflow", "ingest", dagkit.source_tag(key), *spec.tags],
        doc_md=spec.doc_md,
        default_args=dagkit.default_args(spec.owner),
    )
    def ingest() -> None:
        # One crawl of the source at a time across all of its runs: a backfill starts several
        # runs at once whatever max_active_runs says, and two windows must not race.
        @task(pool="crawl_pool", execution_timeout=timedelta(hours=2), max_active_tis_per_dag=1)
        def crawl(**context: Any) -> list[dict[str, Any]]:
            """Scrapy in a subprocess; archives to WARC and records fetches. Returns the shard plan.

            A backfill run reads its past window from dated feed/sitemap entries; a busy
            source reschedules the task; a source paused with ``newsflow sources pause`` is
            skipped (see ``dag_tasks.run_crawl``).
            """
            news_run = dagkit.require_news_run(context)
            _result, pages, dry_run = run_crawl(key, news_run, context)
            return [] if dry_run else dagkit.shard_plan(news_run, pages)

        extract_load_check_publish(crawl(), asset)

    built = ingest()
    # The Params are set on the DAG after its tasks exist, so the tasks do not each carry a
    # copy: Airflow deep-copies DAG Params into every task it creates and, serialising a
    # task, resolves its Params (a jsonschema check each) eight times per Param — over half of
    # the DAG processor's time per source. A task reads the same values either way: the
    # task runner merges the DAG's Params, the task's own and the run's conf
    # (``airflow.sdk.definitions.param.process_params``). Assigning runs the DAG's own
    # check that every Param of a scheduled DAG resolves.
    built.params = ParamsDict(ingest_params(spec))
    return built
