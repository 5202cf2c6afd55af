"""Thousands of sources: the ingest DAGs stay one per source, spread over files that each parse
within Airflow's per-file timeouts (``pipeline.dagspecs``, ``benchmarks/dag_parse.py``).

The budget is asserted structurally (sources per file, what a file's parse reads), not by
wall time; the per-source features are asserted on a DagBag of 300 generated sources built
the way the DAG processor builds it (a subprocess, its own AIRFLOW_HOME).
"""

from __future__ import annotations

import ast
import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pipeline import dagspecs, yamlsafe
from pipeline.airflow_local import DAGS_FOLDER, PROJECT_ROOT
from pipeline.config import CRON_PRESETS
from pipeline.dagspecs import DAG_SHARDS, SOURCES_PER_FILE_BUDGET, dag_file_of, shard_file, shard_of
from tests.test_dags_integrity import MAINTENANCE, dagbag

CRONS = ("0 * * * *", "15 * * * *", "*/20 * * * *", "@daily", "5 4 * * 1-5")
TIMEZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Tokyo", "Australia/Sydney")


def generated_sources(count: int) -> list[dict[str, Any]]:
    """Loopback sources (never contacted: parse only) with every per-source knob varied."""
    rows = []
    for i in range(count):
        port = 30000 + i
        rows.append(
            {
                "key": f"gen-{i:04d}",
                "name": f"Generated {i}",
                "homepage": f"http://127.0.0.1:{port}/",
                "discovery": {"feeds": [f"http://127.0.0.1:{port}/feed.xml"]},
                "schedule": {"cron": CRONS[i % 5], "timezone": TIMEZONES[i % 5], "paused": i % 3 == 0},
                "limits": {"max_pages": 10 + i},
                "related": {"depth": i % 4},
                "tags": [f"region-{i % 7}"],
                "owner": f"desk-{i % 4}",
                "allow_private_networks": [f"127.0.0.1:{port}"],
            }
        )
    return rows


def write_sources(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text(yamlsafe.dump({"version": 1, "sources": rows}))
    return path


def test_300_sources_keep_every_per_source_feature(tmp_path: Path) -> None:
    rows = generated_sources(300)
    bag = dagbag(tmp_path, write_sources(tmp_path / "sources.yaml", rows))
    assert bag["errors"] == {}
    assert set(bag["dags"]) == {f"news_ingest__{r['key']}" for r in rows} | MAINTENANCE
    files = set()
    for row in rows:
        key = row["key"]
        dag = bag["dags"][f"news_ingest__{key}"]  # the id existing deployments know
        files.add(dag["fileloc"])
        assert dag["fileloc"] == str(dag_file_of(key))
        # Schedule with its timezone, and the window per run.
        assert dag["timetable"] == "CronDataIntervalTimetable"
        cron = CRON_PRESETS.get(row["schedule"]["cron"], row["schedule"]["cron"])  # Airflow expands @daily
        assert (dag["cron"], dag["timezone"]) == (cron, row["schedule"]["timezone"])
        # paused: true pauses the new DAG; otherwise Airflow's dags_are_paused_at_creation decides.
        assert dag["is_paused_upon_creation"] is (True if row["schedule"]["paused"] else None)
        # Tags: the source's own, and the one that finds all of its DAGs.
        assert {"newsflow", "ingest", f"source:{key}", *row["tags"]} <= set(dag["tags"])
        assert dag["owner"] == row["owner"] and dag["display_name"] == f"Ingest: {row['name']}"
        # The trigger form, with this source's defaults in the help text.
        params = dag["params"]
        assert set(params) == {"max_pages", "related_depth", "recrawl", "dry_run"}
        assert f"sources.yaml: {row['limits']['max_pages']})" in params["max_pages"]["description"]
        assert f"sources.yaml: {row['related']['depth']})" in params["related_depth"]["description"]
        assert params["dry_run"]["value"] is False and params["max_pages"]["value"] is None
        # Alerts: the run bookkeeping callback, then the notifiers (webhook, e-mail when set).
        assert {"on_task_failure", "WebhookNotifier"} <= set(dag["failure_callbacks"])
        # Backfills never crawl one source twice at once; the chain is the usual one.
        assert dag["tasks"]["crawl"]["max_active_tis_per_dag"] == 1
        assert dag["tasks"]["crawl"]["pool"] == "crawl_pool" and dag["tasks"]["extract"]["mapped"]
        assert key in dag["doc_md"] and "backfill" in dag["doc_md"].lower()
    assert len(files) == DAG_SHARDS  # 300 keys reach every shard file
    assert bag["dags"]["news_reextract"]["params"]["source"]["schema"]["enum"] == [r["key"] for r in rows]


TRIGGER = r"""
import json, sys
from airflow.dag_processing.dagbag import DagBag
from airflow.serialization.serialized_objects import DagSerialization
bag = DagBag(dag_folder=sys.argv[1])
dag = bag.dags[sys.argv[2]]
# What the API server holds after the DAG processor: the serialised DAG, read back.
served = DagSerialization.from_dict(json.loads(json.dumps(DagSerialization.to_dict(dag))))
def verdict(conf):
    params = served.params.deep_merge(conf)
    try:
        return params.validate()
    except Exception as exc:
        return f"refused: {type(exc).__name__}"
out = {str(i): verdict(c) for i, c in enumerate(json.loads(sys.argv[3]))}
out["schedule"] = [served.timetable.summary, str(getattr(served.timetable, "_timezone", None))]
print("@@JSON@@" + json.dumps(out, default=str))
"""


def trigger_verdicts(
    tmp_path: Path,
    sources: Path,
    dag_file: Path,
    dag_id: str,
    confs: list[dict[str, Any]],
    extra_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Each conf's validated Params (or ``refused: <error>``) from the served DAG, and its schedule."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWSFLOW_"))}
    env.update(
        AIRFLOW_HOME=str(tmp_path / "airflow"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        NEWSFLOW_SOURCES=str(sources),
        NEWSFLOW_DAG_CACHE=str(tmp_path / "cache"),
    )
    env.update(extra_env or {})
    proc = subprocess.run(
        [sys.executable, "-c", TRIGGER, str(dag_file), dag_id, json.dumps(confs)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, Any] = json.loads(proc.stdout.split("@@JSON@@", 1)[1])
    return result


def test_trigger_params_validate_after_serialisation(tmp_path: Path) -> None:
    """Triggering with Params goes through the serialised DAG (draft-07 schemas included)."""
    rows = generated_sources(40)
    sources = write_sources(tmp_path / "sources.yaml", rows)
    key = rows[7]["key"]
    confs: list[dict[str, Any]] = [
        {"max_pages": 5, "dry_run": True},
        {"max_pages": 0},  # minimum 1
        {"related_depth": 9},  # maximum 5
        {"recrawl": "yes"},  # boolean
        {},
    ]
    out = trigger_verdicts(tmp_path, sources, dag_file_of(key), f"news_ingest__{key}", confs)
    assert out["0"] == {"max_pages": 5, "related_depth": None, "recrawl": False, "dry_run": True}
    assert [out[str(i)][:8] for i in (1, 2, 3)] == ["refused:"] * 3
    assert out["4"] == {"max_pages": None, "related_depth": None, "recrawl": False, "dry_run": False}
    assert out["schedule"] == [rows[7]["schedule"]["cron"], rows[7]["schedule"]["timezone"]]


def test_reextract_window_params_are_date_times(tmp_path: Path) -> None:
    """The window pickers' ``format: date-time`` is enforced (rfc3339-validator is a runtime
    dependency), so a bare date is refused at trigger time with the Param named, the same in
    a deployment as in the tests.
    """
    rows = generated_sources(3)
    sources = write_sources(tmp_path / "sources.yaml", rows)
    key = rows[1]["key"]
    confs = [
        {"source": key, "start": "2026-05-01T00:00:00Z", "end": "2026-05-02T06:30:00+02:00"},
        {"source": key, "start": "2026-05-01"},
        {"source": key, "end": "yesterday"},
        {"source": key},
    ]
    out = trigger_verdicts(tmp_path, sources, DAGS_FOLDER / "news_reextract.py", "news_reextract", confs)
    assert out["0"] == {"source": key, "start": "2026-05-01T00:00:00Z", "end": "2026-05-02T06:30:00+02:00"}
    assert out["1"] == out["2"] == "refused: ParamValidationError"
    assert out["3"] == {"source": key, "start": None, "end": None}


def test_parse_budget_is_bounded_per_file() -> None:
    """Every ingest DAG file holds at most SOURCES_PER_FILE_BUDGET sources at 10,000 sources.

    The budget (sources per file) comes from ``benchmarks/dag_parse.py``: at ~8 ms of
    import+serialisation CPU per source DAG it keeps a file far inside the 30 s import
    and 50 s file-processor timeouts. The hash spreads keys evenly whatever their shape.
    """
    rng = random.Random(17)
    words = ["daily", "times", "post", "herald", "ledger", "news", "gazette", "tribune", "echo", "mail"]
    key_sets = {
        "numbered": [f"outlet-{i:05d}" for i in range(10_000)],
        "names": [f"{rng.choice(words)}-{rng.choice(words)}-{i}" for i in range(10_000)],
    }
    assert DAG_SHARDS * SOURCES_PER_FILE_BUDGET >= 20_000  # 2x headroom over 10,000 sources
    for label, keys in key_sets.items():
        counts = [0] * DAG_SHARDS
        for key in keys:
            counts[shard_of(key)] += 1
        mean = len(keys) / DAG_SHARDS
        assert max(counts) <= SOURCES_PER_FILE_BUDGET, (label, counts)
        assert max(counts) <= 1.15 * mean and min(counts) >= 0.85 * mean, (label, counts)
    # The assignment is part of every deployment's state (a DAG's file): a change of the
    # hash moves DAGs between files, so it is pinned here.
    assert [shard_of(k) for k in ("capital-examiner", "northern-ledger", "a", "gen-0007")] == [0, 10, 3, 11]


def test_every_shard_has_its_file_and_nothing_else_builds_ingest_dags() -> None:
    for index in range(DAG_SHARDS):
        tree = ast.parse(shard_file(index).read_text())
        calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "define_shard"
        ]
        assert len(calls) == 1, shard_file(index)
        assert isinstance(calls[0].args[1], ast.Constant) and calls[0].args[1].value == index
    shard_files = {shard_file(i) for i in range(DAG_SHARDS)}
    for path in DAGS_FOLDER.glob("*.py"):
        if path not in shard_files:
            assert "define_shard" not in path.read_text() and "news_ingest__" not in path.read_text(), path


WARM_PARSE = r"""
import json, runpy, sys
from pipeline import yamlsafe
calls = []
real_load = yamlsafe.load
yamlsafe.load = lambda text: calls.append(len(text)) or real_load(text)
dags = [k for k in runpy.run_path(sys.argv[1]) if k.startswith("news_ingest__")]
print(json.dumps({"yaml_reads": len(calls), "pydantic_config": "pipeline.config" in sys.modules, "built": len(dags) > 0}))
"""


def test_a_warm_shard_file_reads_only_its_cache_entry(tmp_path: Path) -> None:
    """sources.yaml is validated once per edit (by a helper process); DAG files read their shard."""
    rows = generated_sources(60)
    sources = write_sources(tmp_path / "sources.yaml", rows)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWSFLOW_"))}
    env.update(
        AIRFLOW_HOME=str(tmp_path / "airflow"),
        NEWSFLOW_SOURCES=str(sources),
        NEWSFLOW_DAG_CACHE=str(tmp_path / "cache"),
        PYTHONPATH=str(PROJECT_ROOT),
    )

    def parse(path: Path) -> dict[str, Any]:
        proc = subprocess.run(
            [sys.executable, "-c", WARM_PARSE, str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        seen: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
        return seen

    def entries(prefix: str = "") -> list[Path]:
        """The DAG entries (``prefix`` ``config-``: the tasks' entries, ``pipeline.sourcecache``)."""
        found = [p for p in (tmp_path / "cache").iterdir() if p.is_dir()]
        return [p for p in found if p.name.startswith("config-") == (prefix == "config-")]

    # Every parse reads its shard of the entry only: no YAML, no pydantic in the DAG file's
    # process. The first one had the entry written by the validator helper.
    untouched = {"yaml_reads": 0, "pydantic_config": False, "built": True}
    assert parse(shard_file(3)) == untouched
    [entry] = entries()
    assert (entry / "index.json").exists() and len(list(entry.glob("shard-*.json"))) == DAG_SHARDS
    # The helper also wrote the tasks' entry: a task reads its own source from it.
    [tasks_entry] = entries("config-")
    assert (tasks_entry / "index.json").exists() and (tasks_entry / "order.json").exists()
    assert parse(shard_file(5)) == untouched and entries() == [entry]
    # An edit of sources.yaml is a new entry: nothing is read from the old one.
    write_sources(sources, [*rows, *generated_sources(61)[60:]])
    assert parse(shard_file(5)) == untouched and len(entries()) == 2 and len(entries("config-")) == 2
    # Without a cache, the file validates sources.yaml itself.
    env["NEWSFLOW_DAG_CACHE"] = "off"
    assert parse(shard_file(5)) == {"yaml_reads": 1, "pydantic_config": True, "built": True}


def test_the_view_is_the_file_and_a_shared_cache_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = generated_sources(20)
    sources = write_sources(tmp_path / "sources.yaml", rows)
    monkeypatch.setenv("NEWSFLOW_DAG_CACHE", str(tmp_path / "cache"))
    view = dagspecs.sources_view(sources)
    assert view.keys == [r["key"] for r in rows] and view.issues == [] and view.fatal is None
    by_shard = {i: [s.key for s in view.shard(i)] for i in range(DAG_SHARDS)}
    assert sorted(k for keys in by_shard.values() for k in keys) == sorted(view.keys)
    assert all(shard_of(k) == i for i, keys in by_shard.items() for k in keys)
    # Read back from the entry (another process), the specs are the same.
    dagspecs._MEMO.clear()
    again = dagspecs.sources_view(sources)
    assert again._entry is not None
    assert [again.shard(i) for i in range(DAG_SHARDS)] == [view.shard(i) for i in range(DAG_SHARDS)]
    [found] = [s for s in again.shard(shard_of("gen-0007")) if s.key == "gen-0007"]
    assert (found.cron, found.timezone, found.paused, found.max_pages, found.tags) == (
        "*/20 * * * *",
        "America/New_York",
        False,
        17,
        ("region-0",),
    )
    # An entry removed between reading its index and a shard (pruned by another writer):
    # the file is validated again instead of failing the import.
    dagspecs._MEMO.clear()
    third = dagspecs.sources_view(sources)
    assert third._entry is not None
    shutil.rmtree(third._entry)
    assert [s.key for s in third.shard(shard_of("gen-0007"))] == by_shard[shard_of("gen-0007")]
    # A cache directory others can write to could feed DAG definitions in: not used.
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv("NEWSFLOW_DAG_CACHE", str(shared))
    assert dagspecs.cache_root() is None
    dagspecs._MEMO.clear()
    assert dagspecs.sources_view(sources).keys == view.keys  # still correct, validated in-process
    assert list(shared.iterdir()) == []
    monkeypatch.setenv("NEWSFLOW_DAG_CACHE", "off")
    assert dagspecs.cache_root() is None
