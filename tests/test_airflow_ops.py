"""Issue 16 acceptance, as ops meet it: the local Airflow of ``make airflow``, really running.

One migrated home (``airflow.cfg`` written by :class:`AirflowHome`, SQLite metadata, the same
set-up ``newsflow airflow`` uses), api-server + scheduler + dag-processor as processes, a
tiny clean news site. Asserted: the crawl task log carries Scrapy's lines at their own levels
(none at ERROR on a clean run) and the task summary lines; the DAG has its display name,
Param titles/sections and the ``source:<key>`` tag; and the plain ``airflow`` CLI, pointed at
the home by the one exported variable, prints JSON that ``python -m json.tool`` accepts.
"""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pipeline.airflow_local import (
    AirflowClient,
    AirflowComponents,
    AirflowHome,
    airflow_executable,
    free_port,
)
from pipeline.db import migrate
from tests.minisite import MiniSite, serve

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

DAG_ID = "news_ingest__mini"


@pytest.fixture(scope="module")
def site() -> Iterator[MiniSite]:
    yield from serve(MiniSite())


@pytest.fixture(scope="module")
def home(site: MiniSite, tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    """A migrated local Airflow whose only source is the mini site (three clean stories)."""
    root = tmp_path_factory.mktemp("ops")
    now = datetime.now(UTC)
    for hours, slug in ((3, "budget-vote"), (2, "bridge-repairs"), (1, "school-opening")):
        site.add(slug, now - timedelta(hours=hours))
    sources = site.sources_yaml(
        root / "sources.yaml", schedule={"cron": "0 6 * * *", "timezone": "Europe/Berlin"}
    )
    news_url = f"sqlite:///{root / 'news.db'}"
    migrate.upgrade(news_url)
    airflow_home = AirflowHome(
        root / "airflow",
        port=free_port(),
        news_env={
            "NEWSFLOW_DATABASE_URL": news_url,
            "NEWSFLOW_RAW_STORE": str(root / "raw"),
            "NEWSFLOW_SOURCES": str(sources),
        },
    )
    airflow_home.migrate()
    return airflow_home


def task_log(home: AirflowHome, task_id: str) -> list[dict[str, Any]]:
    """The JSON records of every attempt of ``task_id`` in the home's task logs."""
    records = []
    for path in sorted((home.home / "logs" / f"dag_id={DAG_ID}").rglob(f"task_id={task_id}/**/*.log")):
        for line in path.read_text(errors="replace").splitlines():
            try:
                records.append(json.loads(line))
            except ValueError:
                records.append({"event": line, "level": "?"})
    return records


def test_clean_run_logs_at_scrapy_levels_with_summaries_and_a_readable_ui(home: AirflowHome) -> None:
    config = configparser.ConfigParser(interpolation=None)
    config.read(home.config_file)
    assert len(config.get("api_auth", "jwt_secret")) >= 64
    assert config.get("core", "executor") == "LocalExecutor"
    assert home.password is not None
    with (
        AirflowComponents(home, ("api-server", "scheduler", "dag-processor")) as components,
        AirflowClient(home.base_url, home.username, home.password) as client,
    ):
        client.wait_until_healthy(components=components)
        dag = client.wait_for_dag(DAG_ID, components=components)
        assert dag["dag_display_name"] == "Ingest: Mini Gazette"
        assert "source:mini" in {t["name"] for t in dag["tags"]}
        assert "Europe/Berlin" in dag["description"]
        details = client.request("GET", f"/dags/{DAG_ID}/details")
        params = details["params"]
        assert params["max_pages"]["schema"]["title"] == "Max pages"
        assert params["max_pages"]["schema"]["section"] == "Crawl"
        assert details["timezone"] or details["timetable_summary"]
        run_id = client.trigger(DAG_ID, {"max_pages": 20})
        client.set_paused(DAG_ID, False)
        state = client.wait_for_run(DAG_ID, run_id, timeout=600, components=components)
        assert state == "success", client.task_states(DAG_ID, run_id)

    component_logs = "".join(p.read_text(errors="replace") for p in (home.home / "logs").glob("*.log"))
    assert (
        "InsecureKeyLengthWarning" not in component_logs
        and "minimum recommended length" not in component_logs
    )
    crawl = task_log(home, "crawl")
    scrapy = [r for r in crawl if str(r.get("logger", "")).startswith("crawler.")]
    assert scrapy, crawl[:20]
    assert [r for r in scrapy if r.get("level") == "info"], "Scrapy INFO must arrive as INFO"
    errors = [r for r in crawl if r.get("level") in ("error", "critical")]
    assert not errors, errors[:5]
    assert not [r for r in crawl if r.get("logger") == "task.stderr"], "stderr must not reach the task log"
    stats = [r["event"] for r in scrapy if str(r.get("event", "")).startswith("Scrapy stats:")]
    attempts = list((home.home / "logs" / f"dag_id={DAG_ID}").rglob("task_id=crawl/*.log"))
    assert len(stats) == len(attempts), stats  # one summary line per crawl
    assert all("requests" in line and "\n" not in line for line in stats), stats
    multi_line = [r["event"] for r in scrapy if r.get("level") == "info" and "\n" in str(r["event"])]
    assert not multi_line, multi_line[:2]
    for task_id in ("crawl", "extract", "load", "check", "publish"):
        summaries = [
            str(r.get("event")) for r in task_log(home, task_id) if "summary:" in str(r.get("event"))
        ]
        assert summaries, f"no summary line in the {task_id} log"
    # Unpausing also schedules the latest window: whichever run came first stored the stories.
    loads = [str(r["event"]) for r in task_log(home, "load") if "summary:" in str(r.get("event"))]
    assert any("3 new" in line and "removed" in line for line in loads), loads


def test_plain_airflow_cli_with_the_exported_home_prints_json(home: AirflowHome) -> None:
    """``export AIRFLOW_HOME=…`` (what ``make airflow`` prints) then ``airflow dags list -o json``."""
    variable, _, value = home.export_line.removeprefix("export ").partition("=")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env[variable] = value
    env.update(home.news_env)  # the sources the instance was started with
    listed = subprocess.run(
        [airflow_executable(), "dags", "list", "-o", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert listed.returncode == 0, listed.stderr[-2000:]
    tool = subprocess.run(
        [sys.executable, "-m", "json.tool"], input=listed.stdout, capture_output=True, text=True, check=False
    )
    assert tool.returncode == 0, listed.stdout[:2000]
    dags = {d["dag_id"]: d for d in json.loads(listed.stdout)}
    assert DAG_ID in dags and "news_staleness" in dags, sorted(dags)
    assert "warning" not in listed.stdout.lower()
    assert "jwt_secret" not in listed.stdout + listed.stderr
    assert Path(value, "airflow.cfg").stat().st_mode & 0o077 == 0
