"""The group DAG of the grouped layout: one DAG per schedule group, one mapped chain per source.

``NEWSFLOW_DAG_LAYOUT=grouped`` (:mod:`pipeline.dag_groups`) builds, per schedule group, the
DAG ``news_ingest_group__<timezone>__<cron>__<i>of<n>``:

    select -> source.crawl -> source.extract -> source.load -> source.check -> source.publish

``select`` picks the run's sources (the ``sources`` Param, else all of the group) and leaves
out the paused ones (:mod:`pipeline.pauses`); ``source`` is a task group mapped over them,
so each source gets its own task instances, labelled with its key in the UI
(``map_index_template``), and runs its chain on its own: a slow crawl holds back only its
own extraction (Airflow runs a mapped task group depth-first, per map index). The tasks call
the same bodies as the per-source DAG (:mod:`pipeline.dag_tasks`) with the same news run id
(``<key>__<airflow run id>``), so runs, status and alerts stay per source.

What differs from the per-source DAG, and why:
- a source's extraction is one task instance (shard 0 of 1, with the worker's cores): Airflow
  cannot map a task over an upstream's output inside a mapped task group, and at thousands
  of sources the work is spread over workers by the sources themselves;
- one crawl per source at a time is kept by the source lock (a busy source reschedules its
  crawl, ``dagkit.crawl_exclusively``), not by ``max_active_tis_per_dag``, which would allow
  one crawl in the whole group; ``crawl_pool`` bounds the crawls of every DAG as before.

Parse cost: Airflow's per-DAG cost is paid per group, not per source: 10,000 sources on 36
schedules are 36 DAGs, 0.34 ms of parse CPU per source against 7.1 ms for a DAG per source
(``benchmarks/dag_parse.py``, both in one run).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import DAG, CronDataIntervalTimetable, Param, dag, task, task_group
from airflow.sdk.definitions.param import ParamsDict

from pipeline import dagkit
from pipeline.dag_groups import group_title
from pipeline.dag_tasks import run_check, run_crawl, run_extract, run_load, run_publish, run_select
from pipeline.dagspecs import IngestSpec
from pipeline.ingest_dag import ingest_params

#: The UI's label of a mapped task instance: its source key (rendered before it runs).
#: The tasks take ``source`` as a keyword (``op_kwargs``; a positional one would be in
#: ``op_args``). Rendered once before the task runs and again after; a template error after
#: the run would fail the task, hence ``.get`` and the map index as the fallback.
MAP_INDEX_TEMPLATE = "{{ task.op_kwargs.get('source') or ti.map_index }}"

GROUP_DOC = """\
### {dag_id}

Crawls, extracts, loads and checks the **{count} sources** scheduled `{cron}` ({tz}); each
scheduled run owns the window between two ticks. One DAG per schedule group
(`NEWSFLOW_DAG_LAYOUT=grouped`): every source has its own mapped task instances under
`source.*`, labelled with its key.

**One source**: *Trigger* with Param `sources` = a list of keys of this group (others are
refused), plus `max_pages`, `related_depth`, `recrawl`, `dry_run`. **Pause one source**:
`newsflow sources pause <key>` (resume: `newsflow sources resume <key>`); a paused source is
left out of every run (`select` logs it) — pausing this DAG pauses all {count}. **Alerts**
name the source (`<dag>.<task>[<key>]`). **Status**: `newsflow status` (runs per source, run
id `<key>__<airflow run id>`). **Rerun one source**: clear its task instance (map index =
its key) and downstream. **Backfill**: `airflow backfill create --dag-id {dag_id} …` (past
windows from dated feed/sitemap entries only).

Sources: {sources}
"""


def group_params(keys: list[str]) -> dict[str, Param]:
    """The group's trigger form: ``sources`` (keys of this group only) and the ingest Params."""
    dialect: dict[str, Any] = {"$schema": dagkit.PARAM_SCHEMA_DIALECT}
    return {
        "sources": Param(
            None,
            type=["null", "array"],
            items={"type": "string", "enum": keys},
            uniqueItems=True,
            title="Sources",
            description="Crawl only these sources of the group (keys); empty: every source not paused.",
            section="Sources",
            **dialect,
        ),
        **ingest_params(None),
    }


def build_group_dag(group: str, specs: list[IngestSpec], asset: Any = None) -> DAG:
    """The DAG of one schedule group (``specs`` share cron and timezone)."""
    asset = asset if asset is not None else dagkit.articles_asset()
    first = specs[0]
    keys = [spec.key for spec in specs]
    paused_in_config = frozenset(spec.key for spec in specs if spec.paused)
    tags = sorted({tag for spec in specs for tag in spec.tags})
    doc = GROUP_DOC.format(
        dag_id=group,
        count=len(specs),
        cron=first.cron,
        tz=first.timezone,
        sources=", ".join(f"`{key}`" for key in keys),
    )

    @dag(
        dag_id=group,
        dag_display_name=f"Ingest group: {first.cron} {first.timezone}{group_title(group)}",
        description=f"{len(specs)} sources, schedule {first.cron} in {first.timezone}",
        schedule=CronDataIntervalTimetable(first.cron, timezone=first.timezone),
        start_date=dagkit.START_DATE,
        catchup=False,
        max_active_runs=1,
        tags=["newsflow", "ingest", "grouped", *tags],
        doc_md=doc,
        default_args=dagkit.default_args(", ".join(sorted({spec.owner for spec in specs}))),
    )
    def ingest_group() -> None:
        @task
        def select(**context: Any) -> list[str]:
            """The run's sources: the ``sources`` Param or the whole group, paused ones left out."""
            requested = context["params"].get("sources") or None
            chosen, left_out = run_select(keys, requested, paused_in_config)
            context["ti"].xcom_push(key="paused", value=left_out)
            return chosen

        @task_group(group_id="source")
        def per_source(source: str) -> None:
            @task(
                pool="crawl_pool", execution_timeout=timedelta(hours=2), map_index_template=MAP_INDEX_TEMPLATE
            )
            def crawl(source: str, **context: Any) -> dict[str, Any]:
                """Scrapy in a subprocess for this source; skipped when it is paused."""
                news_run = dagkit.news_run_id(source, context["dag_run"].run_id)
                paused = source in paused_in_config
                _result, pages, dry_run = run_crawl(source, news_run, context, paused_in_config=paused)
                return {"pages": pages, "dry_run": dry_run}

            @task(map_index_template=MAP_INDEX_TEMPLATE)
            def extract(source: str, crawled: dict[str, Any], **context: Any) -> dict[str, Any]:
                """The run's archived pages, one shard (the worker's cores); a dry run stops here."""
                if crawled["dry_run"]:
                    from airflow.sdk.exceptions import AirflowSkipException

                    raise AirflowSkipException("dry run: crawl only")
                return run_extract(dagkit.news_run_id(source, context["dag_run"].run_id), 0, 1)

            @task(map_index_template=MAP_INDEX_TEMPLATE)
            def load(source: str, **context: Any) -> dict[str, Any]:
                return run_load(dagkit.news_run_id(source, context["dag_run"].run_id))

            @task(retries=0, map_index_template=MAP_INDEX_TEMPLATE)
            def check(source: str, **context: Any) -> dict[str, Any]:
                return run_check(dagkit.news_run_id(source, context["dag_run"].run_id))

            @task(outlets=[asset], map_index_template=MAP_INDEX_TEMPLATE)
            def publish(source: str, **context: Any) -> dict[str, Any]:
                return run_publish(dagkit.news_run_id(source, context["dag_run"].run_id), context, asset)

            crawled = crawl(source=source)
            extracted = extract(source=source, crawled=crawled)  # type: ignore[arg-type]  # an XComArg
            extracted >> load(source=source) >> check(source=source) >> publish(source=source)

        per_source.expand(source=select())

    built = ingest_group()
    # After the tasks, as in pipeline.ingest_dag: tasks do not carry copies of the Params.
    built.params = ParamsDict(group_params(keys))
    return built
