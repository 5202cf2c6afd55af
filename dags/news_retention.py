"""``news_retention``: prune raw WARC files older than ``NEWSFLOW_RAW_RETENTION_DAYS`` (daily).

The files of each source's last successful run are never deleted; fetch rows pointing at a
deleted file are detached first. See :mod:`pipeline.stages.retention`.
"""

from __future__ import annotations

import time
from typing import Any

from airflow.sdk import DAG, Param, dag, task

from pipeline import dagkit

DOC = """\
### news_retention

Daily: deletes WARC files in the raw store (`NEWSFLOW_RAW_STORE`) older than
`NEWSFLOW_RAW_RETENTION_DAYS` (default 90), except those of each source's last successful
crawl run and of runs in progress. Fetch rows that pointed at a deleted file get
`warc_path = NULL` (re-extraction of that window is then impossible, by policy).
Trigger manually with `dry_run: true` to see what would go; `retention_days` overrides the
setting for one run. Idempotent: a rerun deletes nothing more.
"""


@dag(
    dag_id="news_retention",
    dag_display_name="Raw store retention",
    description="Prune raw WARC files past the retention period",
    schedule="@daily",
    start_date=dagkit.START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["newsflow", "maintenance"],
    doc_md=DOC,
    default_args=dagkit.default_args("newsflow"),
    params={
        "retention_days": Param(
            None,
            type=["null", "integer"],
            minimum=1,
            title="Retention (days)",
            description="Override NEWSFLOW_RAW_RETENTION_DAYS for this run.",
            section="Retention",
        ),
        "dry_run": Param(
            False,
            type="boolean",
            title="Dry run",
            description="Report what would be deleted, delete nothing.",
            section="Retention",
        ),
    },
)
def news_retention() -> None:
    @task
    def prune(**context: Any) -> dict[str, Any]:
        """Delete expired WARC files (never the last good run's)."""
        from pipeline.stages.retention import prune_raw
        from pipeline.task_summary import log_summary

        started = time.monotonic()
        dagkit.prepare_task_environment()
        params = context["params"]
        days = params.get("retention_days")
        result = prune_raw(retention_days=int(days) if days else None, dry_run=bool(params.get("dry_run")))
        log_summary("prune", result.as_dict(), time.monotonic() - started)
        return result.as_dict()

    prune()


retention_dag: DAG = news_retention()
