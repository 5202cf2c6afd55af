"""DAG integrity: every DAG file imports, every DAG is documented, owned, tagged and retried.

The DagBag is built in a subprocess with its own AIRFLOW_HOME, exactly as the DAG processor
would build it, so the test neither depends on nor writes to the user's ``~/airflow``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from pipeline.airflow_local import DAGS_FOLDER, PROJECT_ROOT
from pipeline.config import load_sources
from pipeline.dagspecs import dag_file_of

DUMP = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
io_events = []
def audit(event, args):
    if event in ("socket.connect", "sqlite3.connect", "socket.getaddrinfo"):
        io_events.append(f"{event} {args!r}")
sys.addaudithook(audit)
bag = DagBag(dag_folder=sys.argv[1])
out = {"errors": dict(bag.import_errors), "dags": {}, "io_events": io_events}
for dag_id, dag in bag.dags.items():
    tt = dag.timetable
    out["dags"][dag_id] = {
        "tags": sorted(dag.tags), "display_name": dag.dag_display_name, "doc_md": dag.doc_md or "", "owner": dag.owner,
        "catchup": dag.catchup, "max_active_runs": dag.max_active_runs,
        "timetable": type(tt).__name__,
        "cron": getattr(tt, "expression", None), "timezone": str(getattr(tt, "timezone", "")),
        "params": {k: dag.params.get_param(k).dump() for k in dag.params},
        "tasks": {t.task_id: {"retries": t.retries, "pool": t.pool,
                              "backoff": bool(t.retry_exponential_backoff),
                              "has_failure_callback": bool(t.on_failure_callback),
                              "max_active_tis_per_dag": getattr(t, "max_active_tis_per_dag", None),
                              "outlets": [getattr(o, "name", None) for o in t.outlets],
                              "mapped": any(c.__name__ == "MappedOperator" for c in type(t).__mro__),
                              "map_index_template": getattr(t, "map_index_template", None),
                              "mapped_group": type(t.task_group).__name__ == "MappedTaskGroup"} for t in dag.tasks},
        "edges": sorted([t.task_id, d] for t in dag.tasks for d in t.downstream_task_ids),
        "fileloc": dag.fileloc,
        "is_paused_upon_creation": dag.is_paused_upon_creation,
        "failure_callbacks": sorted({getattr(c, "__name__", type(c).__name__)
                                     for t in dag.tasks for c in (t.on_failure_callback or [])}),
    }
print("@@JSON@@" + json.dumps(out, default=str))
"""


def dagbag(
    tmp_path: Path, sources: Path | None = None, extra_env: dict[str, str] | None = None
) -> dict[str, Any]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIRFLOW", "NEWSFLOW_SOURCES", "NEWSFLOW_DAG_"))
    }
    env.update(extra_env or {})
    env.update(AIRFLOW_HOME=str(tmp_path / "airflow"), AIRFLOW__CORE__LOAD_EXAMPLES="False")
    env["NEWSFLOW_DAG_CACHE"] = str(tmp_path / "dag-cache")  # not the user's cache in /tmp
    if sources is not None:
        env["NEWSFLOW_SOURCES"] = str(sources)
    proc = subprocess.run(
        [sys.executable, "-c", DUMP, str(DAGS_FOLDER)],
        env=env,
        cwd=tmp_path,  # DAGs must not depend on the working directory
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.split("@@JSON@@", 1)[1])
    return result


MAINTENANCE = {"news_reextract", "news_retention", "news_consumer_example", "news_staleness"}
RETRIED_TASKS = {"crawl", "extract", "load", "publish", "start", "prune", "summarise"}


def test_shipped_dags_import_cleanly_and_are_well_formed(tmp_path: Path) -> None:
    bag = dagbag(tmp_path)
    assert bag["errors"] == {}
    shipped = load_sources(PROJECT_ROOT / "sources.yaml").sources
    assert set(bag["dags"]) == {f"news_ingest__{s.key}" for s in shipped} | MAINTENANCE
    for dag_id, dag in bag["dags"].items():
        assert "newsflow" in dag["tags"], dag_id
        assert dag["owner"], dag_id
        assert len(dag["doc_md"]) > 200, dag_id
        assert dag["catchup"] is False, dag_id
        assert dag["display_name"] != dag_id, dag_id  # the UI shows a name, not the raw id
        for name, param in dag["params"].items():  # the trigger form: titled, grouped, explained
            schema = param["schema"]
            assert schema.get("title") and schema.get("section") and param["description"], (dag_id, name)
        for task_id, task in dag["tasks"].items():
            assert task["has_failure_callback"], (dag_id, task_id)
            if task_id in RETRIED_TASKS:
                assert task["retries"] >= 2 and task["backoff"], (dag_id, task_id)
        if "check" in dag["tasks"]:  # a failed gate is deterministic: retrying cannot help
            assert dag["tasks"]["check"]["retries"] == 0
    for source in shipped:
        dag = bag["dags"][f"news_ingest__{source.key}"]
        assert dag["timetable"] == "CronDataIntervalTimetable"
        assert dag["cron"] == source.schedule.cron and dag["timezone"] == source.schedule.timezone
        assert dag["max_active_runs"] == 1 and dag["owner"] == source.owner
        assert "rerun" in dag["doc_md"].lower() and source.key in dag["doc_md"]
        assert dag["fileloc"] == str(dag_file_of(source.key))  # its shard file (pipeline.dagspecs)
        assert set(dag["params"]) == {"max_pages", "related_depth", "recrawl", "dry_run"}
        assert f"source:{source.key}" in dag["tags"] and dag["display_name"] == f"Ingest: {source.name}"
        tasks = dag["tasks"]
        assert tasks["crawl"]["pool"] == "crawl_pool"
        # Backfills start several runs at once: the crawls of one source still never overlap.
        assert tasks["crawl"]["max_active_tis_per_dag"] == 1
        assert "backfill" in dag["doc_md"].lower() and "feeds and sitemaps" in dag["doc_md"]
        assert tasks["extract"]["mapped"] is True
        assert tasks["publish"]["outlets"] == ["newsflow_articles"]
        assert dag["edges"] == [
            ["check", "publish"],
            ["crawl", "extract"],
            ["extract", "load"],
            ["load", "check"],
        ]
    reextract = bag["dags"]["news_reextract"]
    assert reextract["params"]["source"]["schema"]["enum"] == [s.key for s in shipped]
    for end in ("start", "end"):  # date pickers in the trigger form
        assert reextract["params"][end]["schema"]["format"] == "date-time"
    assert reextract["tasks"]["publish"]["outlets"] == ["newsflow_articles"]
    assert "crawl" not in reextract["tasks"]
    assert bag["dags"]["news_consumer_example"]["timetable"] == "AssetTriggeredTimetable"


def test_adding_a_source_adds_its_dag(tmp_path: Path) -> None:
    data = yaml.safe_load((PROJECT_ROOT / "sources.yaml").read_text())
    data["sources"].append(
        {
            "key": "new-outlet",
            "name": "New Outlet",
            "homepage": "http://127.0.0.1:8799/",
            "discovery": {"feeds": ["http://127.0.0.1:8799/feed.xml"]},
            "schedule": {"cron": "*/20 * * * *", "timezone": "Europe/Paris", "paused": True},
            "tags": ["regional"],
            "owner": "desk-europe",
            "allow_private_networks": ["127.0.0.1:8799"],
        }
    )
    text = yaml.safe_dump(data, sort_keys=False)
    sources = tmp_path / "sources.yaml"
    sources.write_text(text)
    bag = dagbag(tmp_path, sources)
    assert bag["errors"] == {}
    dag = bag["dags"]["news_ingest__new-outlet"]
    assert dag["cron"] == "*/20 * * * *" and dag["timezone"] == "Europe/Paris"
    assert dag["owner"] == "desk-europe" and "regional" in dag["tags"]
    assert "new-outlet" in bag["dags"]["news_reextract"]["params"]["source"]["schema"]["enum"]


def test_broken_sources_yaml_is_one_clear_import_error(tmp_path: Path) -> None:
    """A file broken as a whole (here a duplicate top-level key) builds no ingest DAG.

    A bad line inside one source only skips that source (tests/faults/test_config_faults.py).
    """
    shipped = (PROJECT_ROOT / "sources.yaml").read_text()
    assert shipped.startswith("version: 1\n") or "\nversion: 1\n" in shipped
    text = shipped + "version: 1\n"
    sources = tmp_path / "sources.yaml"
    sources.write_text(text)
    bag = dagbag(tmp_path, sources)
    assert list(bag["errors"]) == [str(DAGS_FOLDER / "news_ingest.py")]
    message = bag["errors"][str(DAGS_FOLDER / "news_ingest.py")]
    line = len(text.splitlines())
    assert f"{sources}:{line}: version: duplicate key 'version'" in message
    # The maintenance DAGs keep working so ops can still act.
    assert set(bag["dags"]) >= MAINTENANCE
    assert not any(d.startswith("news_ingest__") for d in bag["dags"])


def test_parsing_touches_no_database_or_network(tmp_path: Path) -> None:
    # Audit hooks in the parsing process see every socket and SQLite connection attempt.
    assert dagbag(tmp_path)["io_events"] == []
