"""A real Airflow: api-server + scheduler + dag-processor, LocalExecutor, PostgreSQL metadata.

The test creates a PostgreSQL database for Airflow's metadata (separate from the news
database), starts the components as subprocesses, triggers ``news_ingest__capital-examiner``
through the public REST API with the same client ops scripts use, waits for success, checks
the news database and the Asset event, and shuts everything down.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from pipeline.airflow_local import AirflowClient, AirflowComponents, AirflowHome, free_port
from pipeline.db.engine import make_engine
from pipeline.db.models import Article, ArticleLink, ArticleVersion, CrawlRun, ExtractedRecord, Source
from pipeline.demo_site import DemoNetwork
from tests.conftest import create_pg_database, drop_pg_database

pytestmark = [pytest.mark.slow, pytest.mark.airflow, pytest.mark.postgres]

OUTLET = "capital-examiner"
DAG_ID = f"news_ingest__{OUTLET}"
CONSUMER_ID = "news_consumer_example"


def wait_for_consumer(client: AirflowClient, components: AirflowComponents) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        components.check_alive()
        runs = client.runs(CONSUMER_ID)
        if runs and all(r["state"] in ("success", "failed") for r in runs):
            assert all(r["state"] == "success" for r in runs), runs
            return runs
        time.sleep(2)
    raise AssertionError(f"consumer DAG did not finish: {client.runs(CONSUMER_ID)}")


@pytest.fixture
def metadata_url() -> Iterator[str]:
    """A fresh PostgreSQL database for Airflow's own metadata (psycopg2, Airflow's driver)."""
    url = create_pg_database("nf_airflow_meta")
    try:
        yield make_url(url).set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)
    finally:
        drop_pg_database(url)


def snapshot(database_url: str) -> dict[str, list[tuple[object, ...]]]:
    """Articles, versions and links as consumers see them (no surrogate ids)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return {
                "articles": sorted(
                    tuple(r)
                    for r in conn.execute(
                        select(Article.canonical_url, Article.content_hash, Article.version)
                    )
                ),
                "versions": sorted(
                    tuple(r)
                    for r in conn.execute(
                        select(
                            Article.canonical_url, ArticleVersion.version, ArticleVersion.content_hash
                        ).join(Article, Article.id == ArticleVersion.article_id)
                    )
                ),
                "links": sorted(
                    tuple(r)
                    for r in conn.execute(
                        select(Article.canonical_url, ArticleLink.to_url).join(
                            Article, Article.id == ArticleLink.from_article_id
                        )
                    )
                ),
            }
    finally:
        engine.dispose()


def run_errors(database_url: str) -> list[tuple[object, ...]]:
    """What the news database says about every run (for failure messages)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            runs = [tuple(r) for r in conn.execute(select(CrawlRun.run_id, CrawlRun.status, CrawlRun.error))]
            reasons = sorted({r for (r,) in conn.execute(select(ExtractedRecord.reason)) if r})
            return [*runs, ("extraction reasons", reasons[:5])]
    finally:
        engine.dispose()


def extract_results(
    client: AirflowClient, dag_id: str, run_id: str, tasks: dict[str, str]
) -> list[dict[str, Any]]:
    """The XCom results of the run's mapped ``extract`` task instances."""
    results = []
    for name in sorted(t for t in tasks if t.startswith("extract[")):
        index = int(name.removeprefix("extract[").removesuffix("]"))
        entry = client.request(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/extract/xcomEntries/return_value",
            params={"map_index": index, "deserialize": "true", "stringify": "false"},
        )
        results.append(dict(entry["value"]))
    return results


def test_scheduler_runs_ingest_dag_triggered_through_rest(
    metadata_url: str, pg_url: str, tmp_path: Path
) -> None:
    with DemoNetwork(host="127.0.0.1", port=0, slow_seconds=2.0) as network:
        sources = network.write_sources(tmp_path / "sources.yaml")
        home = AirflowHome(
            tmp_path / "airflow",
            metadata_url=metadata_url,
            port=free_port(),
            news_env={
                "NEWSFLOW_DATABASE_URL": pg_url,
                "NEWSFLOW_RAW_STORE": str(tmp_path / "raw"),
                "NEWSFLOW_SOURCES": str(sources),
                # Each extract task runs a pool of two worker processes inside its
                # LocalExecutor task process (where a multiprocessing pool used to die).
                "NEWSFLOW_WORKERS": "2",
            },
        )
        home.migrate()
        assert home.password is not None
        with (
            AirflowComponents(home, ("api-server", "scheduler", "dag-processor")) as components,
            AirflowClient(home.base_url, home.username, home.password) as client,
        ):
            client.wait_until_healthy(components=components)
            dag = client.wait_for_dag(DAG_ID, components=components)
            assert dag["is_paused"] is True  # new DAGs wait for ops to switch them on
            assert "crawl" in (dag.get("description") or "").lower()
            client.wait_for_dag(CONSUMER_ID, components=components)
            client.set_paused(CONSUMER_ID, False)
            # Switching the source on also schedules its latest window (catchup=False); our
            # manual run queues behind it (max_active_runs=1). Both must succeed.
            client.set_paused(DAG_ID, False)
            run_id = client.trigger(DAG_ID, {"max_pages": 300})
            state = client.wait_for_run(DAG_ID, run_id, timeout=600, components=components)
            tasks = client.task_states(DAG_ID, run_id)
            assert state == "success", f"{tasks}\n{run_errors(pg_url)!s}"
            assert tasks["crawl"] == "success" and tasks["publish"] == "success"
            assert any(t.startswith("extract[") for t in tasks)
            # Whichever run came first extracted the pages, in a pool inside its task process.
            extracted = [
                r
                for run in client.runs(DAG_ID)
                for r in extract_results(
                    client, DAG_ID, run["dag_run_id"], client.task_states(DAG_ID, run["dag_run_id"])
                )
            ]
            assert all(r["workers"] == 2 for r in extracted if r["pages"] >= 8), extracted
            assert any(r["workers"] == 2 and r["extracted"] > 0 for r in extracted), extracted
            assert sum(r["failed"] for r in extracted) == 0, extracted
            events = [
                e["extra"]
                for e in client.asset_events("newsflow_articles")
                if (e.get("extra") or {}).get("source") == OUTLET
            ]
            ours = [e for e in events if e["run_id"] == f"{OUTLET}__{run_id}"]
            assert len(ours) == 1 and ours[0]["status"] == "success", events
            assert {"window_start", "window_end", "articles_updated", "pages_fetched"} <= set(ours[0])
            # Whichever of the scheduled and the manual run came first loaded the articles.
            assert sum(e["articles_new"] for e in events) > 0
            before = snapshot(pg_url)

            # Clear the whole run (what ops do after an incident): same run id, same rows.
            assert client.clear_run(DAG_ID, run_id) >= 5
            state = client.wait_for_run(DAG_ID, run_id, timeout=600, components=components)
            assert state == "success", client.task_states(DAG_ID, run_id)
            assert snapshot(pg_url) == before

            # The example consumer ran on the Asset events and read their extra.
            scheduled = [r for r in client.runs(DAG_ID) if r["run_type"] == "scheduled"]
            assert scheduled and all(r["state"] == "success" for r in scheduled), scheduled
            consumer_runs = wait_for_consumer(client, components)
            summaries = [
                s for r in consumer_runs for s in client.xcom(CONSUMER_ID, r["dag_run_id"], "summarise")
            ]
            assert any(s["source"] == OUTLET and s["run_id"].startswith(f"{OUTLET}__") for s in summaries)

    engine = make_engine(pg_url)
    try:
        with engine.connect() as conn:
            run = (
                conn.execute(select(CrawlRun).where(CrawlRun.run_id == f"{OUTLET}__{run_id}"))
                .mappings()
                .one()
            )
            assert run["status"] == "success" and run["params"]["max_pages"] == 300
            stored = set(conn.scalars(select(Article.canonical_url).join(Source).where(Source.key == OUTLET)))
    finally:
        engine.dispose()
    manifest = network.manifest(include_generated=False)
    failing = {f.url for f in manifest.outlet(OUTLET).faults if not f.transient}
    expected = {a.url for a in manifest.articles_of(OUTLET) if a.url not in failing}
    assert expected <= stored, sorted(expected - stored)
