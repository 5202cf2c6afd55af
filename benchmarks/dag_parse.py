"""DAG-parse benchmark: the ``dags/`` folder with 100, 1,000 and 10,000 generated sources.

Both ingest DAG layouts are measured on the same generated ``sources.yaml``: ``per-source``
(one DAG per source, the default) and ``grouped`` (``NEWSFLOW_DAG_LAYOUT=grouped``: one DAG
per schedule group of at most ``NEWSFLOW_DAG_GROUP_SIZE`` sources, ``pipeline.group_dag``).
The generated sources spread over 36 schedule groups (6 crons x 6 timezones).

Measured the way Airflow's DAG processor parses: a process that has imported Airflow (the
processor manager) forks one child per DAG file, ``[dag_processor] parsing_processes`` (2)
at a time; each child pre-imports the Airflow modules the file names, imports the file
into a ``BundleDagBag`` under ``[core] dagbag_import_timeout`` (30 s, SIGALRM, wall time),
then serialises every DAG (``[dag_processor] dag_file_processor_timeout``, 50 s, bounds
import plus serialisation). ``NEWSFLOW_SOURCES`` points at a generated ``sources.yaml``
(loopback demo-style URLs, mixed crons/timezones/tags, every 7th source paused).

Per size: the first round after an edit of ``sources.yaml`` (empty DAG cache: the first file's
validator helper reads the YAML, whose CPU counts in that file's import; the others wait for
the cache entry) and the steady-state rounds
(cache warm), each with the folder's wall time, the slowest file's import and
import+serialise seconds, CPU summed over files, ms of CPU per source, and files that hit
the import timeout. Medians over ``--repeat`` rounds.

Baselines, in the same run:
- ``single file``: the layout before issue 17 (one file builds every source's DAG, reads and
  validates ``sources.yaml`` itself, default JSON Schema dialect for the Params), up to
  ``--single-max`` sources (10,000 of them take minutes and exceed the import timeout);
- ``airflow floor``: ``--floor-dags`` DAGs of the same shape (five TaskFlow tasks, mapped
  extract) with no newsflow code at all — what Airflow itself costs per DAG — with the four
  Params declared the usual way (``@dag(params=…)``: Airflow copies them into every task),
  the same with draft-07 schemas, and without Params (the lower bound of five tasks).

    .venv/bin/python -m benchmarks.dag_parse [--sizes 100,1000,10000] [--repeat 3]
        [--single-max 1000] [--floor-dags 500] [--processes 2] [--output PATH]
        [--layouts per-source,grouped] [--group-size 500]

Wall times on a shared machine are noisy: compare the CPU columns and the ratios; the load
average after each measurement is printed and saved.

One module of ~500 lines on purpose: it runs itself as the measuring subprocess
(``--worker``), and the baselines' DAG file texts, the worker and the report read together.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DAGS_FOLDER = PROJECT_ROOT / "dags"
RESULTS = Path("benchmarks/results")
IMPORT_TIMEOUT = 30.0
PROCESSOR_TIMEOUT = 50.0

CRONS = ("0 * * * *", "15 * * * *", "*/30 * * * *", "@daily", "0 */6 * * *", "5 4 * * 1-5")
TIMEZONES = ("UTC", "Europe/London", "America/New_York", "Asia/Tokyo", "Europe/Berlin", "Australia/Sydney")


def generate_sources(count: int, path: Path) -> Path:
    """A valid ``sources.yaml`` of ``count`` loopback sources (never contacted: parse only)."""
    from pipeline import yamlsafe

    sources = []
    for i in range(count):
        port = 20000 + i % 40000
        base = f"http://127.0.0.1:{port}"
        sources.append(
            {
                "key": f"outlet-{i:05d}",
                "name": f"Outlet {i:05d} Daily",
                "homepage": f"{base}/",
                "discovery": {"feeds": [f"{base}/feed.rss"], "listings": [f"{base}/"]},
                "article_urls": {"allow": [r"/\d{4}/\d{2}/\d{2}/[a-z0-9-]+/?$"]},
                "schedule": {
                    "cron": CRONS[i % len(CRONS)],
                    # Not i % 6 like the cron: 36 (cron, timezone) pairs, as a real list has many.
                    "timezone": TIMEZONES[(i // len(CRONS)) % len(TIMEZONES)],
                    "paused": i % 7 == 0,
                },
                "politeness": {"delay": 0.0, "download_timeout": 2.0},
                "limits": {"max_pages": 100 + i % 400},
                "tags": [f"region-{i % 12}"],
                "owner": f"desk-{i % 5}",
                "allow_private_networks": [f"127.0.0.1:{port}"],
            }
        )
    path.write_text(yamlsafe.dump({"version": 1, "sources": sources}), encoding="utf-8")
    return path


# -- baselines -----------------------------------------------------------------------------

#: The ingest DAG file before issue 17: one file, every source, its own validation.
SINGLE_FILE = '''"""Baseline: every ingest DAG in one Airflow DAG file (the layout before issue 17)."""
from pipeline import dagkit
from pipeline.config import load_sources_partial
from pipeline.dag_tasks import extract_load_check_publish
from airflow.sdk import CronDataIntervalTimetable, Param, dag, task


def build(source):
    @dag(
        dag_id=f"news_ingest__{source.key}",
        dag_display_name=f"Ingest: {source.name}",
        description=f"Crawl {source.name}; schedule {source.schedule.cron} in {source.schedule.timezone}",
        schedule=CronDataIntervalTimetable(source.schedule.cron, timezone=source.schedule.timezone),
        start_date=dagkit.START_DATE, catchup=False, max_active_runs=1,
        is_paused_upon_creation=True if source.schedule.paused else None,
        tags=["newsflow", "ingest", dagkit.source_tag(source.key), *source.tags],
        doc_md=dagkit.ingest_doc(source),
        default_args=dagkit.default_args(source.owner),
        params={
            "max_pages": Param(None, type=["null", "integer"], minimum=1, title="Max pages",
                               description=f"default {source.limits.max_pages}", section="Crawl"),
            "related_depth": Param(None, type=["null", "integer"], minimum=0, maximum=5, title="Depth",
                                   description=f"default {source.related.depth}", section="Crawl"),
            "recrawl": Param(False, type="boolean", title="Recrawl", description="Refetch.", section="Crawl"),
            "dry_run": Param(False, type="boolean", title="Dry run", description="Crawl only.", section="Pipeline"),
        },
    )
    def ingest():
        @task(pool="crawl_pool", max_active_tis_per_dag=1)
        def crawl(**context):
            return []

        extract_load_check_publish(crawl(), dagkit.articles_asset())

    return ingest()


for _source in load_sources_partial(dagkit.sources_path())[0]:
    globals()[f"news_ingest__{_source.key}"] = build(_source)
'''

#: Airflow's own cost per DAG of this shape: no newsflow import, no config, no doc.
FLOOR_FILE = '''"""Baseline: {count} Airflow DAGs of the ingest DAG's shape, no newsflow code."""
from datetime import datetime, timezone
from airflow.sdk import CronDataIntervalTimetable, Param, dag, task

DIALECT = {dialect!r}
WITH_PARAMS = {with_params!r}


def params(i):
    extra = {{"$schema": DIALECT}} if DIALECT else {{}}
    return {{
        "max_pages": Param(None, type=["null", "integer"], minimum=1, title="Max pages",
                           description=f"default {{i}}", section="Crawl", **extra),
        "related_depth": Param(None, type=["null", "integer"], minimum=0, maximum=5, title="Depth",
                               description="default 1", section="Crawl", **extra),
        "recrawl": Param(False, type="boolean", title="Recrawl", description="Refetch.", section="Crawl", **extra),
        "dry_run": Param(False, type="boolean", title="Dry run", description="Crawl only.", section="Pipeline", **extra),
    }}


def build(i):
    @dag(dag_id=f"floor_{{i:05d}}", schedule=CronDataIntervalTimetable("0 * * * *", timezone="Europe/London"),
         start_date=datetime(2025, 1, 1, tzinfo=timezone.utc), catchup=False, max_active_runs=1,
         tags=["floor"], params=params(i) if WITH_PARAMS else None)
    def floor():
        @task(pool="crawl_pool", max_active_tis_per_dag=1)
        def crawl():
            return []

        @task(max_active_tis_per_dag=4)
        def extract(news_run, shard, shards):
            return {{}}

        @task
        def load():
            return {{}}

        @task(retries=0)
        def check():
            return {{}}

        @task
        def publish():
            return {{}}

        extract.expand_kwargs(crawl()) >> load() >> check() >> publish()

    return floor()


for _i in range({count}):
    globals()[f"floor_{{_i:05d}}"] = build(_i)
'''


# -- the measuring worker (runs in a subprocess that plays the DAG processor manager) -----


def worker(dags: Path, processes: int, rounds: int, cold_cache: Path | None) -> list[dict[str, Any]]:
    """``rounds`` parses of every DAG file in ``dags``, forked like the DAG processor does."""
    import structlog
    from airflow.dag_processing.processor import _pre_import_airflow_modules, _serialize_dags
    from airflow.utils.file import list_py_file_paths

    log = structlog.get_logger(logger_name="processor")
    files = sorted(list_py_file_paths(str(dags)))

    def parse_one(path: str) -> dict[str, Any]:
        from airflow.dag_processing.dagbag import BundleDagBag

        os.environ["_AIRFLOW_PROCESS_CONTEXT"] = "client"
        started_cpu = time.process_time()
        _pre_import_airflow_modules(path, log)
        pre_wall, pre_cpu = time.perf_counter(), time.process_time()
        helpers_before = _children_cpu()
        bag = BundleDagBag(dag_folder=path, bundle_path=dags, bundle_name="dags-folder", load_op_links=False)
        import_wall, import_cpu = time.perf_counter(), time.process_time()
        # The sources.yaml validator helper a cold parse starts and waits for counts too (in
        # the import only: added to import_cpu itself, it was subtracted from serialisation).
        helper_cpu = _children_cpu() - helpers_before
        serialized, errors = _serialize_dags(bag, log)
        done_wall, done_cpu = time.perf_counter(), time.process_time()
        messages = {**bag.import_errors, **errors}
        return {
            "file": Path(path).name,
            "dags": len(serialized),
            "pre_import_cpu": pre_cpu - started_cpu,
            "import_wall": import_wall - pre_wall,
            "import_cpu": import_cpu - pre_cpu + helper_cpu,
            "serialize_wall": done_wall - import_wall,
            "serialize_cpu": done_cpu - import_cpu,
            "errors": {Path(k).name: str(v)[:300] for k, v in messages.items()},
            "timed_out": any("DagBag import timeout" in str(v) for v in messages.values()),
        }

    results = []
    for round_no in range(rounds):
        if round_no == 0 and cold_cache is not None:
            shutil.rmtree(cold_cache, ignore_errors=True)
        pending = list(files)
        running: dict[int, tuple[int, str]] = {}
        per_file: list[dict[str, Any]] = []
        started = time.perf_counter()
        while pending or running:
            while pending and len(running) < processes:
                path = pending.pop(0)
                read_end, write_end = os.pipe()
                pid = os.fork()
                if pid == 0:  # the file processor
                    os.close(read_end)
                    try:
                        out = parse_one(path)
                    except BaseException as exc:
                        out = {"file": Path(path).name, "crashed": repr(exc)[:300]}
                    with os.fdopen(write_end, "w") as pipe:
                        pipe.write(json.dumps(out))
                    os._exit(0)
                os.close(write_end)
                running[pid] = (read_end, path)
            pid, _status = os.wait()
            read_end, _path = running.pop(pid)
            with os.fdopen(read_end) as pipe:
                per_file.append(json.loads(pipe.read() or "{}"))
        results.append({"wall": time.perf_counter() - started, "files": per_file})
    return results


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_worker(
    dags: Path,
    sources: Path,
    home: Path,
    cache: Path,
    processes: int,
    rounds: int,
    cold: bool,
    layout_env: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "NEWSFLOW_"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT=str(IMPORT_TIMEOUT),
        NEWSFLOW_SOURCES=str(sources),
        NEWSFLOW_DAG_CACHE=str(cache),
        PYTHONPATH=os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p),
    )
    env.update(layout_env or {})
    args = [sys.executable, "-m", "benchmarks.dag_parse", "--worker", str(dags)]
    args += ["--processes", str(processes), "--rounds", str(rounds)]
    if cold:
        args += ["--cold-cache", str(cache)]
    proc = subprocess.run(args, env=env, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=7200)
    if proc.returncode != 0 or "@@JSON@@" not in proc.stdout:
        raise SystemExit(f"worker failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    rounds_out: list[dict[str, Any]] = json.loads(proc.stdout.split("@@JSON@@", 1)[1])
    return rounds_out


# -- summaries ---------------------------------------------------------------------------------


def summarise(round_: dict[str, Any], sources: int) -> dict[str, Any]:
    files = round_["files"]
    crashed = [f for f in files if "crashed" in f]
    if crashed:
        raise SystemExit(f"a file processor crashed: {crashed}")
    import_cpu = sum(f["import_cpu"] for f in files)
    serialize_cpu = sum(f["serialize_cpu"] for f in files)
    slowest = max(files, key=lambda f: f["import_wall"] + f["serialize_wall"])
    return {
        "folder_wall": round_["wall"],
        "files": len(files),
        "dags": sum(f["dags"] for f in files),
        "import_cpu": import_cpu,
        "serialize_cpu": serialize_cpu,
        "max_import_wall": max(f["import_wall"] for f in files),
        "max_file_wall": slowest["import_wall"] + slowest["serialize_wall"],
        "slowest_file": slowest["file"],
        "max_dags_per_file": max(f["dags"] for f in files),
        "timed_out": [f["file"] for f in files if f["timed_out"]],
        "import_ms_per_source": 1000 * import_cpu / max(sources, 1),
        "serialize_ms_per_source": 1000 * serialize_cpu / max(sources, 1),
        "errors": {k: v for f in files for k, v in f["errors"].items()},
    }


def median_summary(summaries: list[dict[str, Any]]) -> dict[str, Any]:
    out = dict(summaries[0])
    for key, value in summaries[0].items():
        if isinstance(value, float):
            out[key] = statistics.median(s[key] for s in summaries)
    out["timed_out"] = sorted({f for s in summaries for f in s["timed_out"]})
    out["rounds"] = len(summaries)
    return out


def row(label: str, s: dict[str, Any]) -> str:
    over = f"  TIMEOUT: {', '.join(s['timed_out'])}" if s["timed_out"] else ""
    return (
        f"  {label:<22} {s['dags']:>6} DAGs {s['files']:>3} files  folder {s['folder_wall']:6.1f} s wall"
        f"  slowest file import {s['max_import_wall']:5.1f} s, +serialise {s['max_file_wall']:5.1f} s"
        f"  | CPU import {s['import_cpu']:6.1f} s + serialise {s['serialize_cpu']:6.1f} s"
        f"  = {s['import_ms_per_source']:.2f} + {s['serialize_ms_per_source']:.2f} ms/source{over}"
    )


def measure(
    label: str,
    dags: Path,
    sources: Path,
    count: int,
    tmp: Path,
    args: argparse.Namespace,
    cold: bool,
    layout_env: dict[str, str] | None = None,
) -> dict[str, Any]:
    cache = tmp / f"cache-{label.replace(' ', '-')}-{count}"
    home = tmp / "airflow"
    results: dict[str, Any] = {}
    if cold:
        cold_rounds = []
        for _ in range(args.repeat):
            cold_rounds += run_worker(dags, sources, home, cache, args.processes, 1, True, layout_env)
        results["cold"] = median_summary([summarise(r, count) for r in cold_rounds])
        print(row(f"{label} (1st parse)", results["cold"]), flush=True)
    warm_rounds = run_worker(dags, sources, home, cache, args.processes, args.repeat + 1, False, layout_env)
    # The first of these rounds may still have been cold (no earlier run): dropped.
    results["warm"] = median_summary([summarise(r, count) for r in warm_rounds[1:]])
    print(row(f"{label} (steady)", results["warm"]), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeat", type=int, default=3, help="Rounds per measurement (median).")
    parser.add_argument(
        "--single-max", type=int, default=1000, help="Largest size for the single-file baseline."
    )
    parser.add_argument(
        "--floor-dags", type=int, default=500, help="DAGs in the Airflow-floor baseline (0: skip)."
    )
    parser.add_argument("--processes", type=int, default=2, help="[dag_processor] parsing_processes.")
    parser.add_argument("--output", type=Path, default=RESULTS / "dag_parse.json")
    parser.add_argument("--layouts", default="per-source,grouped", help="Ingest DAG layouts to measure.")
    parser.add_argument("--group-size", type=int, default=500, help="NEWSFLOW_DAG_GROUP_SIZE (grouped).")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--rounds", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--cold-cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        out = worker(args.worker, args.processes, args.rounds, args.cold_cache)
        print("@@JSON@@" + json.dumps(out))
        return

    load = os.getloadavg()
    print(
        f"DAG parse, {args.processes} parsing processes, {os.cpu_count()} CPUs, load {load[0]:.1f}",
        flush=True,
    )
    report: dict[str, Any] = {
        "processes": args.processes,
        "load_before": load,
        "group_size": args.group_size,
        "sizes": {},
        "floor": {},
    }
    layouts = [name.strip() for name in args.layouts.split(",") if name.strip()]
    loads: list[float] = []
    with tempfile.TemporaryDirectory(prefix="newsflow-dagparse-") as tmp_name:
        tmp = Path(tmp_name)
        if args.floor_dags:
            print(f"airflow floor: {args.floor_dags} DAGs of the ingest shape in one file", flush=True)
            for label, dialect, with_params in (
                ("usual Params", "", True),  # on the DAG, copied into every task by Airflow
                ("usual Params draft-07", "http://json-schema.org/draft-07/schema#", True),
                ("no Params", "", False),  # the lower bound of five tasks
            ):
                folder = tmp / f"floor-{label.replace(' ', '-')}"
                folder.mkdir()
                text = FLOOR_FILE.format(count=args.floor_dags, dialect=dialect, with_params=with_params)
                (folder / "floor.py").write_text(text)
                empty = generate_sources(0, tmp / "empty.yaml")
                result = measure(f"floor {label}", folder, empty, args.floor_dags, tmp, args, cold=False)
                report["floor"][label] = result["warm"]
        for count in [int(s) for s in args.sizes.split(",")]:
            sources = generate_sources(count, tmp / f"sources-{count}.yaml")
            size_mb = sources.stat().st_size / 1e6
            print(f"{count:,} sources ({size_mb:.1f} MB sources.yaml)", flush=True)
            entry: dict[str, Any] = {"sources_yaml_mb": size_mb}
            if "per-source" in layouts:
                entry["sharded"] = measure("per-source", DAGS_FOLDER, sources, count, tmp, args, cold=True)
                loads.append(os.getloadavg()[0])
            if "grouped" in layouts:
                grouped_env = {
                    "NEWSFLOW_DAG_LAYOUT": "grouped",
                    "NEWSFLOW_DAG_GROUP_SIZE": str(args.group_size),
                }
                entry["grouped"] = measure(
                    "grouped", DAGS_FOLDER, sources, count, tmp, args, True, grouped_env
                )
                loads.append(os.getloadavg()[0])
            if count <= args.single_max:
                folder = tmp / "single"
                folder.mkdir(exist_ok=True)
                (folder / "news_ingest.py").write_text(SINGLE_FILE)
                entry["single"] = measure("single file", folder, sources, count, tmp, args, cold=False)
            report["sizes"][str(count)] = entry
            print_ratios(count, entry, report["floor"])
    report["load_after"] = os.getloadavg()
    report["load_during"] = loads  # 1-minute load average after each layout's measurement
    shown = ", ".join(f"{value:.1f}" for value in loads)
    print(f"load average after: {report['load_after'][0]:.1f}; after each measurement: {shown}")
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str))
    print(f"saved {args.output}")


def print_ratios(count: int, entry: dict[str, Any], floor: dict[str, Any]) -> None:
    for layout in ("sharded", "grouped"):
        if layout in entry:
            _print_layout(count, layout, entry, floor)
    if "sharded" in entry and "grouped" in entry:
        ours, theirs = entry["grouped"]["warm"], entry["sharded"]["warm"]
        print(
            f"     grouped vs per-source: folder {ours['folder_wall']:.1f} vs {theirs['folder_wall']:.1f} s wall,"
            f" CPU/source {_cpu_ms(ours):.2f} vs {_cpu_ms(theirs):.2f} ms"
            f" ({_cpu_ms(theirs) / max(_cpu_ms(ours), 1e-9):.1f}x less),"
            f" slowest file {ours['max_file_wall']:.1f} vs {theirs['max_file_wall']:.1f} s;"
            f" {ours['dags']} vs {theirs['dags']} ingest+maintenance DAGs"
        )


def _cpu_ms(summary: dict[str, Any]) -> float:
    return float(summary["import_ms_per_source"] + summary["serialize_ms_per_source"])


def _print_layout(count: int, layout: str, entry: dict[str, Any], floor: dict[str, Any]) -> None:
    ours = entry[layout]["warm"]
    total = _cpu_ms(ours)
    verdict = "within" if ours["max_import_wall"] < IMPORT_TIMEOUT else "OVER"
    name = "per-source" if layout == "sharded" else layout
    print(
        f"  -> {name}, {count:,} sources: folder {ours['folder_wall']:.1f} s wall, slowest file"
        f" {ours['max_import_wall']:.1f} s import ({verdict} the {IMPORT_TIMEOUT:.0f} s import timeout),"
        f" {ours['max_file_wall']:.1f} s with serialisation (timeout {PROCESSOR_TIMEOUT:.0f} s);"
        f" CPU {total:.2f} ms/source"
    )
    if "single" in entry:
        single = entry["single"]["warm"]
        base = single["import_ms_per_source"] + single["serialize_ms_per_source"]
        print(
            f"     vs single file: CPU/source {total / base:.2f}x, slowest file"
            f" {ours['max_file_wall'] / single['max_file_wall']:.2f}x"
        )
    for label, f in floor.items():
        per_dag = 1000 * (f["import_cpu"] + f["serialize_cpu"]) / max(f["dags"], 1)
        print(f"     vs airflow floor ({label}): {per_dag:.2f} ms/DAG -> ours {total / per_dag:.2f}x")


if __name__ == "__main__":
    main()
