"""The grouped layout really runs: ``airflow dags test`` of one group DAG, per-source features live.

One DAG run of a group of four sources, triggered for three of them with Params: one crawls
the demo network and passes, one (a site turned into JS shells) fails its quality gate, one
is paused with ``newsflow sources pause``, the fourth is not asked for. Asserted: each source
is its own mapped task instance labelled with its key; the paused and the unrequested
sources are not crawled; the failure alert names its source and marks its run failed; and
``newsflow status`` shows runs and the pause per source.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from pipeline.airflow_local import AirflowHome, free_port
from pipeline.cli import app
from pipeline.demo_site import DemoNetwork
from pipeline.settings import reset_settings_cache
from tests.test_dags_run import LOGICAL_DATE, js_times_source, output, redesigned_site, stored_urls
from tests.webhook import serve_webhook

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

__all__ = ["redesigned_site"]  # the fixture, imported for this module
SCHEDULE = {"cron": "0 * * * *", "timezone": "America/New_York"}


@pytest.fixture
def network() -> Iterator[DemoNetwork]:
    with DemoNetwork(host="127.0.0.1", port=0, slow_seconds=2.0) as net:
        yield net


def group_sources(network: DemoNetwork, redesigned: str, path: Path) -> Path:
    """The demo outlets plus ``js-times`` (pages turned into JS shells), all on one schedule."""
    data = yaml.safe_load(network.write_sources(path).read_text())
    data["sources"].append(js_times_source(redesigned))
    for source in data["sources"]:
        source["schedule"] = dict(SCHEDULE)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def test_group_dag_runs_selected_sources_with_pause_and_alerts(
    sqlite_url: str,
    network: DemoNetwork,
    redesigned_site: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sources = group_sources(network, redesigned_site, tmp_path / "sources.yaml")
    monkeypatch.setenv("NEWSFLOW_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("NEWSFLOW_SOURCES", str(sources))
    monkeypatch.setenv("NEWSFLOW_DAG_LAYOUT", "grouped")
    monkeypatch.setenv("NEWSFLOW_DAG_CACHE", str(tmp_path / "dag-cache"))
    reset_settings_cache()
    runner = CliRunner()
    paused = runner.invoke(app, ["sources", "pause", "harbour-times", "--reason", "site moved"])
    assert paused.exit_code == 0, paused.output
    assert "paused: harbour-times; its group DAG leaves it out of every run" in paused.output
    assert runner.invoke(app, ["sources", "pause", "no-such-outlet"]).exit_code != 0

    home, group, result, received = _run_group(
        tmp_path,
        sqlite_url,
        sources,
        {"sources": ["capital-examiner", "js-times", "harbour-times"], "max_pages": 60},
    )
    log = output(result)
    # Per source: capital-examiner passed, js-times failed its gate, the others never ran.
    runs = {
        key: _runs_of(sqlite_url, key)
        for key in ("capital-examiner", "js-times", "harbour-times", "northern-ledger")
    }
    assert [r["status"] for r in runs["capital-examiner"]] == ["success"], log
    assert runs["capital-examiner"][0]["run_id"].startswith("capital-examiner__manual__")
    assert runs["capital-examiner"][0]["params"]["max_pages"] == 60
    assert stored_urls(sqlite_url, "capital-examiner")
    [failed] = runs["js-times"]
    assert failed["status"] == "failed" and failed["error"].startswith("quality gate failed for js-times")
    assert runs["harbour-times"] == [] and runs["northern-ledger"] == []
    # The UI's view: one task instance per selected source, labelled with its key.
    instances = _task_instances(home, group)
    assert instances["select"] == {-1: (None, "success")}
    assert {label for label, _state in instances["source.crawl"].values()} == {"capital-examiner", "js-times"}
    by_label = {label: state for label, state in instances["source.check"].values()}
    assert by_label == {"capital-examiner": "success", "js-times": "failed"}
    # The alert names the source.
    alerts = [json.loads(body) for body in received]
    assert [a["source"] for a in alerts] == ["js-times"], alerts
    assert alerts[0]["title"] == f"{group}.source.check[js-times] failed"
    assert alerts[0]["task_id"] == "source.check" and "quality gate failed for js-times" in alerts[0]["text"]
    # Status per source, the pause included; resume clears it.
    status = runner.invoke(app, ["status", "--json"])
    assert status.exit_code == 0, status.output
    report = json.loads(status.output)
    assert {r["source_key"] for r in report["runs"]} >= {"capital-examiner", "js-times"}
    assert list(report["paused_sources"]) == ["harbour-times"]
    assert report["paused_sources"]["harbour-times"]["reason"] == "site moved"
    assert runner.invoke(app, ["sources", "resume", "harbour-times"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["status", "--json"]).output)["paused_sources"] == {}


def test_a_group_with_every_source_paused_runs_nothing_and_succeeds(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every source of the group paused (one in ``sources.yaml``, one by ``newsflow sources
    pause``): ``select`` chooses none, the mapped chain expands to nothing, the run succeeds
    without a crawl, a news run or an alert."""
    rows: list[dict[str, Any]] = [
        {"key": key, "name": key, "homepage": f"http://127.0.0.1:{port}/", "schedule": dict(SCHEDULE)}
        for key, port in (("quiet-one", 9), ("quiet-two", 19))
    ]
    rows[0]["schedule"]["paused"] = True
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"version": 1, "sources": rows}, sort_keys=False))
    monkeypatch.setenv("NEWSFLOW_DATABASE_URL", sqlite_url)
    monkeypatch.setenv("NEWSFLOW_SOURCES", str(sources))
    reset_settings_cache()
    paused = CliRunner().invoke(app, ["sources", "pause", "quiet-two", "--reason", "all quiet"])
    assert paused.exit_code == 0, paused.output

    home, group, result, received = _run_group(tmp_path, sqlite_url, sources, {})
    log = output(result)
    assert result.returncode == 0, log
    assert _dag_run_states(home, group) == ["success"], log
    instances = _task_instances(home, group)
    assert instances["select"] == {-1: (None, "success")}, instances
    # The per-source chain expanded to nothing: each task is one unmapped, skipped instance.
    chain = ("source.crawl", "source.extract", "source.load", "source.check", "source.publish")
    assert {task: instances.get(task) for task in chain} == {task: {-1: (None, "skipped")} for task in chain}
    assert _runs_of(sqlite_url, "quiet-one") == [] and _runs_of(sqlite_url, "quiet-two") == []
    assert not (tmp_path / "raw").exists() or not any((tmp_path / "raw").rglob("*.warc.gz"))
    assert received == []
    assert "paused, not crawled: quiet-one, quiet-two" in log, log


def _dag_run_states(home: AirflowHome, dag_id: str) -> list[str]:
    with sqlite3.connect(home.home / "airflow.db") as db:
        return [state for (state,) in db.execute("select state from dag_run where dag_id = ?", (dag_id,))]


def _run_group(
    tmp_path: Path, database_url: str, sources: Path, conf: dict[str, Any]
) -> tuple[AirflowHome, str, subprocess.CompletedProcess[str], list[bytes]]:
    """``airflow dags test`` of the one group DAG (as ``tests/test_dags_run.py`` runs it), in
    the grouped layout, with alerts to a local webhook: (home, DAG id, result, alert bodies)."""
    from pipeline.dag_groups import GROUP_PREFIX

    group = f"{GROUP_PREFIX}america.new_york__0_x_x_x_x__1of1"
    home = AirflowHome(tmp_path / "airflow", port=free_port())
    home.migrate()
    with serve_webhook(204) as (hook, received):
        home.news_env = {
            "NEWSFLOW_DATABASE_URL": database_url,
            "NEWSFLOW_RAW_STORE": str(tmp_path / "raw"),
            "NEWSFLOW_SOURCES": str(sources),
            "NEWSFLOW_DAG_LAYOUT": "grouped",
            "NEWSFLOW_DAG_CACHE": str(tmp_path / "dag-cache"),
            "NEWSFLOW_ALERT_WEBHOOK_URL": hook,
        }
        result = home.airflow(
            "dags", "test", group, LOGICAL_DATE, "-c", json.dumps(conf), timeout=900, check=False
        )
    return home, group, result, received


def _runs_of(database_url: str, key: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from pipeline.db.engine import make_engine
    from pipeline.db.models import CrawlRun, Source

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                select(CrawlRun.__table__)
                .join(Source, Source.id == CrawlRun.source_id)
                .where(Source.key == key)
            ).mappings()
            return [dict(r) for r in rows]
    finally:
        engine.dispose()


def _task_instances(home: AirflowHome, dag_id: str) -> dict[str, dict[int, tuple[str | None, str]]]:
    """task id -> map index -> (label shown in the UI, state), from Airflow's metadata DB."""
    with sqlite3.connect(home.home / "airflow.db") as db:
        rows = db.execute(
            "select task_id, map_index, rendered_map_index, state from task_instance where dag_id = ?",
            (dag_id,),
        ).fetchall()
    out: dict[str, dict[int, tuple[str | None, str]]] = {}
    for task_id, index, label, state in rows:
        out.setdefault(task_id, {})[index] = (label, state)
    return out
