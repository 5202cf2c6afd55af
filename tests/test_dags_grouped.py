"""The grouped DAG layout (``NEWSFLOW_DAG_LAYOUT=grouped``): one DAG per schedule group, the
per-source features kept (``pipeline.dag_groups``, ``pipeline.group_dag``, ``pipeline.pauses``).

Structure and trigger Params are asserted on DagBags built the way the DAG processor builds
them (a subprocess, its own AIRFLOW_HOME); the run itself — mapped task instances labelled
with their source, pause, alerts, status — in ``tests/test_dags_grouped_run.py``.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from pipeline import dag_groups, dagspecs
from pipeline.config import CRON_PRESETS
from pipeline.dag_groups import GROUP_PREFIX, assign_groups, select_sources
from pipeline.dagspecs import IngestSpec, shard_file, shard_of
from pipeline.errors import UsageError
from tests.test_dags_integrity import MAINTENANCE, dagbag
from tests.test_dags_scale import generated_sources, trigger_verdicts, write_sources

GROUPED = {"NEWSFLOW_DAG_LAYOUT": "grouped", "NEWSFLOW_DAG_GROUP_SIZE": "40"}
CHAIN = ["source.crawl", "source.extract", "source.load", "source.check", "source.publish"]


def test_300_sources_in_group_dags_keep_every_per_source_feature(tmp_path: Path) -> None:
    rows = generated_sources(300)  # 5 schedules of 60 sources: 2 DAGs each at 40 per DAG
    bag = dagbag(tmp_path, write_sources(tmp_path / "sources.yaml", rows), GROUPED)
    assert bag["errors"] == {} and bag["io_events"] == []
    groups = {dag_id: dag for dag_id, dag in bag["dags"].items() if dag_id.startswith(GROUP_PREFIX)}
    assert set(bag["dags"]) == set(groups) | MAINTENANCE  # no per-source DAG in this layout
    assert len(groups) == 10
    members: dict[str, str] = {}
    by_key = {row["key"]: row for row in rows}
    for dag_id, dag in groups.items():
        keys = dag["params"]["sources"]["schema"]["items"]["enum"]
        assert 0 < len(keys) <= 40 and not set(keys) & set(members)
        members.update(dict.fromkeys(keys, dag_id))
        # One schedule per group, its timezone kept; the DAG in its file of the 16.
        schedules = {(by_key[k]["schedule"]["cron"], by_key[k]["schedule"]["timezone"]) for k in keys}
        [(cron, timezone)] = schedules
        assert (dag["cron"], dag["timezone"]) == (CRON_PRESETS.get(cron, cron), timezone)
        assert dag["timetable"] == "CronDataIntervalTimetable" and dag["max_active_runs"] == 1
        assert dag["fileloc"] == str(shard_file(shard_of(dag_id)))
        assert dag["display_name"].startswith(f"Ingest group: {cron} {timezone} (part ")
        assert {"newsflow", "ingest", "grouped"} <= set(dag["tags"])
        assert all(k in dag["doc_md"] for k in keys) and "newsflow sources pause" in dag["doc_md"]
        # The trigger form: sources of this group, then the usual ingest Params.
        assert list(dag["params"]) == ["sources", "max_pages", "related_depth", "recrawl", "dry_run"]
        assert dag["params"]["sources"]["value"] is None
        # select -> one mapped chain per source, each instance labelled with its key.
        tasks = dag["tasks"]
        assert set(tasks) == {"select", *CHAIN}
        # (the mapped group's input makes select upstream of each of its tasks)
        chain = [list(pair) for pair in itertools.pairwise(CHAIN)]
        assert dag["edges"] == sorted([*(["select", t] for t in CHAIN), *chain])
        for task_id in CHAIN:
            assert tasks[task_id]["mapped_group"] and "source" in tasks[task_id]["map_index_template"]
        assert tasks["source.crawl"]["pool"] == "crawl_pool"
        assert tasks["source.check"]["retries"] == 0 and tasks["source.crawl"]["retries"] >= 2
        assert tasks["source.publish"]["outlets"] == ["newsflow_articles"]
        # Alerts: the run bookkeeping callback, then the notifiers, on every task.
        assert {"on_task_failure", "WebhookNotifier"} <= set(dag["failure_callbacks"])
        assert all(task["has_failure_callback"] for task in tasks.values())
    assert set(members) == set(by_key)  # every source in exactly one group
    assert bag["dags"]["news_reextract"]["params"]["source"]["schema"]["enum"] == [r["key"] for r in rows]


def test_group_trigger_params_take_only_the_groups_sources(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Triggering one source with Params goes through the served (serialised) group DAG."""
    sources = write_sources(tmp_path / "sources.yaml", generated_sources(30))
    for name, value in GROUPED.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NEWSFLOW_DAG_CACHE", str(tmp_path / "cache"))
    dagspecs._MEMO.clear()
    specs = [s for i in range(dagspecs.DAG_SHARDS) for s in dagspecs.sources_view(sources).shard(i)]
    dagspecs._MEMO.clear()
    dag_id = specs[0].group
    mine = [s.key for s in specs if s.group == dag_id]
    other = next(s.key for s in specs if s.group != dag_id)
    confs: list[dict[str, Any]] = [
        {"sources": [mine[0]], "max_pages": 5},
        {"sources": ["no-such-source"]},
        {"sources": [other]},  # a source of another group DAG
        {"sources": [mine[0], mine[0]]},
        {"sources": [mine[0]], "max_pages": 0},
        {},
    ]
    dag_file = shard_file(shard_of(dag_id))
    out = trigger_verdicts(tmp_path, sources, dag_file, dag_id, confs, GROUPED)
    assert out["0"] == {
        "sources": [mine[0]],
        "max_pages": 5,
        "related_depth": None,
        "recrawl": False,
        "dry_run": False,
    }
    assert [out[str(i)][:8] for i in (1, 2, 3, 4)] == ["refused:"] * 4
    assert out["5"]["sources"] is None


def spec(key: str, cron: str = "0 * * * *", timezone: str = "UTC") -> IngestSpec:
    return IngestSpec(key, key, cron, timezone, False, "ops", (), 10, 1, "")


def test_groups_are_bounded_and_a_new_source_moves_no_other() -> None:
    rng = random.Random(17)
    crons = ("0 * * * *", "15 * * * *", "*/30 * * * *", "@daily", "0 */6 * * *", "5 4 * * 1-5")
    zones = ("UTC", "Europe/London", "America/New_York", "Asia/Tokyo", "Europe/Berlin", "Etc/GMT+5")
    specs = [spec(f"outlet-{i:05d}", rng.choice(crons), rng.choice(zones)) for i in range(10_000)]
    for size in (100, 500, 1024):
        grouped = assign_groups(specs, size)
        counts = Counter(s.group for s in grouped)
        assert max(counts.values()) <= size
        assert len(counts) <= 36 * (10_000 // 36 // size + 2)  # ~ceil(n/size) DAGs per schedule
        for s in grouped:  # one schedule per group; ids Airflow accepts
            assert s.group.startswith(GROUP_PREFIX) and len(s.group) < 250
            assert all(c.isalnum() or c in "_-." for c in s.group), s.group
    before = {s.key: s.group for s in assign_groups(specs, 500)}
    after = {s.key: s.group for s in assign_groups([*specs, spec("newcomer", "@daily", "UTC")], 500)}
    assert {k: g for k, g in after.items() if k in before} == before
    # Two schedules whose readable names collide still get two DAGs.
    clash = assign_groups([spec("a", "0 * * * *", "A/B"), spec("b", "0 * * * *", "A.B")], 500)
    assert clash[0].group != clash[1].group
    assert dag_groups.schedule_slug("*/30 * * * *", "America/New_York") == "america.new_york__x.30_x_x_x_x"


def test_select_sources_refuses_unknown_keys_and_leaves_out_paused_ones() -> None:
    keys = ["a", "b", "c", "d"]
    assert select_sources(keys, None, {"b"}) == (["a", "c", "d"], ["b"])
    assert select_sources(keys, ["d", "b"], {"b"}) == (["d"], ["b"])
    assert select_sources(keys, [], ()) == (keys, [])
    with pytest.raises(UsageError, match="not sources of this group DAG: zz"):
        select_sources(keys, ["a", "zz"], ())


def test_pause_state_overrides_sources_yaml_and_skips_the_crawl(
    sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow.sdk.exceptions import AirflowSkipException

    from pipeline import dagkit
    from pipeline.db import migrate
    from pipeline.db.engine import get_engine
    from pipeline.pauses import overrides, paused_keys, set_paused
    from pipeline.settings import reset_settings_cache

    engine = get_engine(sqlite_url)
    assert paused_keys(engine, ["a", "b", "c"], {"c"}) == {"c"}  # sources.yaml's flag
    set_paused(engine, "a", True, "site down")
    set_paused(engine, "c", False)  # resumed by an operator: sources.yaml's flag no longer counts
    assert paused_keys(engine, ["a", "b", "c"], {"c"}) == {"a"}
    set_paused(engine, "a", True, "still down")  # idempotent, reason replaced
    assert overrides(engine)["a"].reason == "still down"
    monkeypatch.setenv("NEWSFLOW_DATABASE_URL", sqlite_url)
    reset_settings_cache()
    with pytest.raises(AirflowSkipException, match="source a is paused"):
        dagkit.skip_if_paused("a", paused_in_config=False)
    dagkit.skip_if_paused("b", paused_in_config=False)  # not paused: returns
    # A database not yet upgraded to 0006 has no operator state: sources.yaml decides.
    old = f"sqlite:///{Path(sqlite_url.removeprefix('sqlite:///')).parent}/old.db"
    migrate.upgrade(old, "0005")
    assert overrides(get_engine(old)) == {}
    assert paused_keys(get_engine(old), ["a", "c"], {"c"}) == {"c"}


def test_an_unknown_layout_is_one_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    sources = write_sources(tmp_path / "sources.yaml", generated_sources(3))
    monkeypatch.setenv("NEWSFLOW_DAG_CACHE", str(tmp_path / "cache"))
    for name, value, message in (
        ("NEWSFLOW_DAG_LAYOUT", "by-host", "NEWSFLOW_DAG_LAYOUT='by-host' is not one of per-source, grouped"),
        (
            "NEWSFLOW_DAG_GROUP_SIZE",
            "5000",
            "NEWSFLOW_DAG_GROUP_SIZE='5000' must be an integer from 1 to 1024",
        ),
    ):
        monkeypatch.setenv(name, value)
        dagspecs._MEMO.clear()
        view = dagspecs.sources_view(sources)
        assert view.fatal is not None and message in view.fatal
        monkeypatch.delenv(name)
    dagspecs._MEMO.clear()
