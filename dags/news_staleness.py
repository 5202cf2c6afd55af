"""``news_staleness``: alert when a source stored nothing new for longer than it usually does.

Hourly. Fails (no retries) naming each quiet source, so the failure notifiers every newsflow
task carries (webhook, e-mail) deliver the alert with the DAG run and log link. Airflow's
deadline alerts watch a DAG run's own duration; a source going quiet is a property of the
news database across runs, hence a small maintenance DAG. See :mod:`pipeline.stages.staleness`.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from airflow.sdk import DAG, Param, dag, task

from pipeline import dagkit

log = logging.getLogger("newsflow.staleness")

DOC = """\
### news_staleness

Hourly: for every active source (not `paused` in `sources.yaml`), the gaps between its runs
that stored new articles have a usual length (the median of the last 30). When the current
gap exceeds `factor` (default 3) usual gaps and at least 6 hours, the task fails naming the
quiet sources, their quiet time and usual gap: the failure alert (webhook / e-mail) goes
out. A source needs 4 runs with new articles before it is judged.
"""


@dag(
    dag_id="news_staleness",
    dag_display_name="Source staleness alert",
    description="Alert when a source stored nothing new for longer than its usual gap",
    schedule="@hourly",
    start_date=dagkit.START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["newsflow", "maintenance", "alerts"],
    doc_md=DOC,
    default_args=dagkit.default_args("newsflow"),
    params={
        "factor": Param(
            3.0,
            type="number",
            minimum=1,
            title="Factor",
            description="Alert when the quiet time exceeds this many usual gaps.",
            section="Threshold",
        ),
    },
)
def news_staleness() -> None:
    @task(retries=0)
    def check_freshness(**context: Any) -> dict[str, Any]:
        """Fail naming the sources that are quiet for too long (the notifiers alert)."""
        from airflow.sdk.exceptions import AirflowFailException

        from pipeline.stages.staleness import stale_sources
        from pipeline.task_summary import log_summary

        started = time.monotonic()
        dagkit.prepare_task_environment()
        stale = stale_sources(factor=float(context["params"].get("factor") or 3.0))
        result = {"stale": len(stale), "sources": [s.as_dict() for s in stale]}
        log_summary("staleness", result, time.monotonic() - started)
        if stale:
            for entry in stale:
                log.error("stale source: %s", entry)
            raise AirflowFailException("stale sources: " + "; ".join(str(s) for s in stale))  # type: ignore[no-untyped-call]
        return result

    check_freshness()


staleness_dag: DAG = news_staleness()
