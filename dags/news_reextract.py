"""``news_reextract``: extraction and load again over a window of archived pages, no crawling.

This is how a fixed cleaning rule or a better extractor reaches old articles: trigger it
with a source and a window; it reads the source's latest archived response per URL in that
window from the WARC raw store (no HTTP request is made), re-extracts, and upserts (a changed
text becomes a new article version). Then the same quality gates and Asset event as ingest.
"""

from __future__ import annotations

import time
from typing import Any

from airflow.sdk import DAG, Param, dag, task

from pipeline import dagkit
from pipeline.dag_tasks import extract_load_check_publish
from pipeline.dagspecs import sources_view

# The keys of the valid sources (validated once per edit of sources.yaml and cached, see
# pipeline.dagspecs). A broken file leaves none: news_ingest.py reports it (one import
# error) and here the source is free text. Sources with an issue are left out
# (news_sources_errors.py reports them).
SOURCE_KEYS = sources_view(dagkit.sources_path()).keys

SOURCE_ENUM: dict[str, Any] = {"enum": SOURCE_KEYS} if SOURCE_KEYS else {}
ASSET = dagkit.articles_asset()

DOC = """\
### news_reextract

Re-runs **extract → load → check → publish** for one source over a window of pages already
in the raw store, without crawling. Use it after fixing a cleaning rule or upgrading the
extractor. Trigger with params `source`, `start`, `end` (date pickers: ISO 8601 date-times with
an offset, e.g. `2026-05-01T00:00:00Z`; a bare date is refused at trigger time; `end` is
exclusive). Empty `start`/`end` mean the last 24 hours.

The run is recorded in `crawl_runs` with kind `reextract` and run id
`<source>__reextract__<airflow run id>`; clearing and rerunning it gives the same database state.
"""


@dag(
    dag_id="news_reextract",
    dag_display_name="Re-extract a window",
    description="Re-extract and reload a source's archived pages for a window (no crawl)",
    schedule=None,
    start_date=dagkit.START_DATE,
    catchup=False,
    max_active_runs=1,
    tags=["newsflow", "maintenance"],
    doc_md=DOC,
    default_args=dagkit.default_args("newsflow"),
    params={
        "source": Param(
            SOURCE_KEYS[0] if SOURCE_KEYS else "",
            type="string",
            title="Source",
            description="Source key from sources.yaml.",
            section="Source",
            **SOURCE_ENUM,
        ),
        "start": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Window start",
            description="Inclusive, e.g. 2026-05-01T00:00:00Z. Empty: 24 hours before the end.",
            section="Window",
        ),
        "end": Param(
            None,
            type=["null", "string"],
            format="date-time",
            title="Window end",
            description="Exclusive, e.g. 2026-05-02T00:00:00Z. Empty: now.",
            section="Window",
        ),
    },
)
def news_reextract() -> None:
    @task
    def start(**context: Any) -> list[dict[str, Any]]:
        """Create the reextract run for the window; return the extraction shard plan."""
        from pipeline.stages.reextract import start_reextract, stored_responses, window_from_params
        from pipeline.task_summary import log_summary

        started = time.monotonic()
        dagkit.prepare_task_environment()
        params = context["params"]
        window = window_from_params(params.get("start"), params.get("end"))
        source = str(params["source"])
        news_run = start_reextract(source, *window, dagkit.require_news_run(context))
        pages = stored_responses(source, *window)
        summary = {
            "run_id": news_run,
            "pages": pages,
            "from": window[0].isoformat(),
            "to": window[1].isoformat(),
        }
        log_summary("start", summary, time.monotonic() - started)
        return dagkit.shard_plan(news_run, pages)

    extract_load_check_publish(start(), ASSET)


reextract_dag: DAG = news_reextract()
