"""End-to-end benchmark: the demo network in scale mode through crawl -> extract -> load -> check.

Prints wall time, articles/s end to end, seconds per stage and peak RSS of every process
role, then the same figures for a smaller network so you can see whether they depend on the
number of articles; saves everything as JSON. Runs against loopback only, in a fresh
temporary SQLite database and raw store (or ``--database-url`` for PostgreSQL).

The machine is usually shared, so it also prints the load average during the run and the
CPU seconds per stored article by stage (sampled per process and thread, see
:class:`benchmarks._machine.CpuByStage`): CPU per article is what the stages cost whatever
else competes for the cores; articles/s is what this machine delivered at that moment.

    .venv/bin/python -m benchmarks.e2e --articles 10000 [--small 2000] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks._machine import CpuByStage, LoadSampler, describe_load
from benchmarks._rss import PeakRss

RESULTS = Path("benchmarks/results")


def run_once(articles: int, database_url: str | None, parallel: int) -> dict[str, Any]:
    """One full run over a fresh database; returns the measured figures."""
    with tempfile.TemporaryDirectory(prefix="newsflow-e2e-") as tmp:
        os.environ["NEWSFLOW_RAW_STORE"] = f"{tmp}/raw"
        os.environ["NEWSFLOW_DATABASE_URL"] = database_url or f"sqlite:///{tmp}/news.db"
        from pipeline.db import migrate
        from pipeline.db.engine import dispose_engines
        from pipeline.demo_site import DemoNetwork
        from pipeline.orchestrate import run_sources
        from pipeline.settings import reset_settings_cache

        reset_settings_cache()
        dispose_engines()
        migrate.upgrade()
        with DemoNetwork(port=0, articles=articles) as network:
            sources = network.write_sources(Path(tmp) / "sources.yaml")
            keys = [o.key for o in network.outlets]
            started = time.perf_counter()
            with PeakRss() as rss, CpuByStage() as cpu, LoadSampler() as machine:
                summaries = run_sources(
                    keys,
                    sources_path=sources,
                    parallel=parallel,
                    crawl_log_level="WARNING",
                    on_stage=cpu.on_stage,
                )
            wall = time.perf_counter() - started
    pipeline_cpu = sum(v for k, v in cpu.seconds.items() if k != "main (other)")
    stage_seconds: dict[str, float] = {}
    for summary in summaries:
        for stage, seconds in summary.stage_seconds.items():
            stage_seconds[stage] = round(stage_seconds.get(stage, 0.0) + seconds, 2)
    stored = sum(
        s.articles_new + s.articles_updated + s.articles_unchanged + s.articles_duplicate for s in summaries
    )
    return {
        "articles_requested": articles,
        "articles_stored": stored,
        "pages_fetched": sum(s.pages_fetched for s in summaries),
        "wall_seconds": round(wall, 2),
        "articles_per_second": round(stored / wall, 1) if wall else 0.0,
        "parallel_sources": parallel,
        "stage_seconds_summed_over_sources": stage_seconds,
        "peak_rss_mb": {role: round(b / 1_048_576, 1) for role, b in sorted(rss.peaks.items())},
        "cpu_seconds_by_stage": cpu.seconds,
        "cpu_ms_per_article_by_stage": {
            stage: round(1000 * seconds / stored, 2) if stored else None
            for stage, seconds in cpu.seconds.items()
        },
        "cpu_ms_per_article": round(1000 * sum(cpu.seconds.values()) / stored, 2) if stored else None,
        "load_average": machine.summary(),
        # What the cores could sustain if the run had them to itself: the pipeline's CPU per
        # article (the demo web server and the rest of the benchmark process, "main (other)",
        # left out) spread over every core. An upper bound (stages never overlap perfectly).
        "cpu_bound_articles_per_second": (
            round((os.cpu_count() or 1) * stored / pipeline_cpu, 1) if pipeline_cpu else None
        ),
        "statuses": {s.source: s.status for s in summaries},
        "errors": {s.source: s.error for s in summaries if s.error},
    }


def stage_benchmarks() -> dict[str, Any]:
    """Figures saved by the stage benchmarks (crawl/extraction/load), if they were run."""
    found = {}
    for name in ("crawl", "extraction", "load"):
        path = RESULTS / f"{name}.json"
        if path.exists():
            found[name] = json.loads(path.read_text())
    return found


def print_table(results: list[dict[str, Any]]) -> None:
    print(f"{'articles':>9} {'stored':>7} {'wall s':>7} {'art/s':>6}  stages (s)  peak RSS (MB)")
    for r in results:
        stages = " ".join(f"{k}={v}" for k, v in r["stage_seconds_summed_over_sources"].items())
        rss = " ".join(f"{k}={v}" for k, v in r["peak_rss_mb"].items())
        print(
            f"{r['articles_requested']:>9} {r['articles_stored']:>7} {r['wall_seconds']:>7} "
            f"{r['articles_per_second']:>6}  {stages}  {rss}"
        )
        per_stage = " ".join(f"{k}={v}" for k, v in r["cpu_ms_per_article_by_stage"].items())
        print(f"{'':>9} CPU ms per stored article: {r['cpu_ms_per_article']} total; {per_stage}")
        print(
            f"{'':>9} CPU-bound ceiling on {os.cpu_count()} idle cores: {r['cpu_bound_articles_per_second']} "
            "articles/s (pipeline CPU only, demo server excluded; an upper bound)"
        )
        print(f"{'':>9} {describe_load(r['load_average'])}")
        if r["errors"]:
            print("   errors:", r["errors"])


def main() -> None:
    from pipeline.orchestrate import DEFAULT_PARALLEL

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--articles", type=int, default=10_000)
    parser.add_argument("--small", type=int, default=2_000, help="A smaller run to show scaling (0 = skip).")
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--parallel", type=int, default=DEFAULT_PARALLEL, help="Sources run at once (as `newsflow run`)."
    )
    args = parser.parse_args()
    results = []
    if args.small:
        results.append(run_once(args.small, args.database_url, args.parallel))
    results.append(run_once(args.articles, args.database_url, args.parallel))
    print_table(results)
    big = results[-1]
    stage_sum = sum(big["stage_seconds_summed_over_sources"].values())
    print(
        f"stage time {stage_sum:.1f} s summed over sources (run {big['parallel_sources']} at once) for {big['wall_seconds']} s wall; "
        f"share: "
        + ", ".join(f"{k} {v / stage_sum:.0%}" for k, v in big["stage_seconds_summed_over_sources"].items())
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"runs": results, "stage_benchmarks": stage_benchmarks(), "cores": os.cpu_count()}
    (RESULTS / "e2e.json").write_text(json.dumps(out, indent=2))
    print(f"saved {RESULTS / 'e2e.json'}")


if __name__ == "__main__":
    main()
