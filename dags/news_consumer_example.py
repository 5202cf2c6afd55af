"""``news_consumer_example``: a downstream DAG scheduled on the articles Asset.

It runs whenever an ingest or reextract run publishes, and shows how a consumer reads the
event's ``extra`` (source, window, counts) to pick up exactly the new articles — asset-
triggered runs have no data interval of their own, so the window travels in the event.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import DAG, dag, task

from pipeline import dagkit

ASSET = dagkit.articles_asset()

DOC = """\
### news_consumer_example

Scheduled on the `newsflow_articles` Asset. For each triggering event it reads `extra`
(`source`, `run_id`, `window_start`, `window_end`, `articles_new`, `articles_updated`, …) and
counts the articles that run touched in the news database. Copy it as a starting point for
an export, an index refresh or a notification.
"""


@dag(
    dag_id="news_consumer_example",
    dag_display_name="Example consumer of new articles",
    description="Example consumer of the newsflow articles Asset",
    schedule=[ASSET],
    start_date=dagkit.START_DATE,
    catchup=False,
    tags=["newsflow", "example", "consumer"],
    doc_md=DOC,
    default_args=dagkit.default_args("newsflow"),
)
def news_consumer_example() -> None:
    @task
    def summarise(**context: Any) -> list[dict[str, Any]]:
        """One line per triggering event: what was published and how many rows it touched."""
        from pipeline.consumer_example import summarise_event

        dagkit.prepare_task_environment()
        summaries = []
        for events in context["triggering_asset_events"].values():
            for event in events:
                summaries.append(summarise_event(dict(event.extra or {})))
        return summaries

    summarise()


consumer_dag: DAG = news_consumer_example()
