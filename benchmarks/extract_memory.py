"""Extract-stage memory benchmark: peak RSS of the main process at two run sizes.

Crawls one demo outlet twice into a cached SQLite database and raw store (a small run and a
large run; reused on later invocations, so the crawl is paid once), then runs
``newsflow extract --run ID`` on each run in a fresh subprocess, ``--repeat`` times, and
prints the medians of the main process's peak RSS (the kernel's ``ru_maxrss`` of that
process: workers are separate processes), the largest worker's peak and the seconds. The
small run is the baseline measured in the same invocation: with a streaming stage the
large/small RSS ratio stays near 1.0 although the large run has ~5x the pages.

    .venv/bin/python -m benchmarks.extract_memory [--small 2000] [--large 10000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from benchmarks._rss import PeakRss

RESULTS = Path("benchmarks/results")
OUTLET = "capital-examiner"


def prepare(pages: int, cache: Path) -> dict[str, Any]:
    """Crawl one outlet of a demo network big enough for ``pages`` pages (cached in ``cache``)."""
    meta = cache / f"run-{pages}.json"
    if meta.exists():
        return dict(json.loads(meta.read_text()))
    cache.mkdir(parents=True, exist_ok=True)
    database_url = f"sqlite:///{cache}/news-{pages}.db"
    raw_store = str(cache / f"raw-{pages}")
    os.environ["NEWSFLOW_DATABASE_URL"] = database_url
    os.environ["NEWSFLOW_RAW_STORE"] = raw_store
    from pipeline.db import migrate
    from pipeline.db.engine import dispose_engines
    from pipeline.demo_site import DemoNetwork
    from pipeline.settings import reset_settings_cache
    from pipeline.stages.crawl import crawl

    reset_settings_cache()
    dispose_engines()
    migrate.upgrade()
    # The outlets share the articles; one outlet's crawl sees about a third of them.
    with DemoNetwork(port=0, articles=pages * 3, slow_seconds=0.5) as network:
        sources = network.write_sources(cache / f"sources-{pages}.yaml")
        # A big network's sitemap outgrows the demo's 1 MB response cap; without it the
        # crawl finds only the feed and listing pages.
        data = yaml.safe_load(sources.read_text())
        for source in data["sources"]:
            source["politeness"]["max_response_bytes"] = 50_000_000
        sources.write_text(yaml.safe_dump(data))
        result = crawl(
            OUTLET,
            f"{OUTLET}__bench_{pages}",
            max_pages=int(pages * 1.1),
            sources_path=sources,
            log_level="WARNING",
        )
    info = {
        "pages_requested": pages,
        "pages_fetched": result.pages_fetched,
        "run_id": result.run_id,
        "database_url": database_url,
        "raw_store": raw_store,
        "sources": str(sources),
    }
    meta.write_text(json.dumps(info, indent=2))
    return info


def child(run: dict[str, Any], workers: int) -> None:
    """Runs in the measured subprocess: one extract of the run, figures as JSON on stdout."""
    from pipeline.stages.extract import extract

    started = time.perf_counter()
    result = extract(
        run["run_id"], workers=workers, database_url=run["database_url"], sources_path=run["sources"]
    )
    print(
        json.dumps(
            {
                "seconds": round(time.perf_counter() - started, 2),
                "pages": result.pages,
                "extracted": result.extracted,
                "failed": result.failed,
                "main_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            }
        )
    )


def measure(run: dict[str, Any], workers: int) -> dict[str, Any]:
    env = {**os.environ, "NEWSFLOW_DATABASE_URL": run["database_url"], "NEWSFLOW_RAW_STORE": run["raw_store"]}
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.extract_memory",
        "--child",
        json.dumps(run),
        "--workers",
        str(workers),
    ]
    with PeakRss() as rss:
        out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True)
    figures = dict(json.loads(out.stdout.strip().splitlines()[-1]))
    others = [b for role, b in rss.peaks.items() if role not in ("main", "benchmarks.extract_memory")]
    figures["worker_peak_mb"] = round(max(others, default=0) / 1_048_576, 1)
    return figures


def median_of(samples: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("seconds", "main_peak_mb", "worker_peak_mb")
    out: dict[str, Any] = {k: statistics.median(s[k] for s in samples) for k in keys}
    out["pages"] = samples[0]["pages"]
    out["failed"] = samples[0]["failed"]
    out["samples"] = samples
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=2_000)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="Extraction processes (0 = one per core).")
    parser.add_argument(
        "--cache", type=Path, default=Path(tempfile.gettempdir()) / "newsflow-bench-extract-memory"
    )
    parser.add_argument("--label", default="", help="Stored with the results (e.g. before/after).")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(json.loads(args.child), args.workers)
        return
    runs = {size: prepare(size, args.cache) for size in (args.small, args.large)}
    results: dict[int, dict[str, Any]] = {}
    for size, run in runs.items():
        # Interleaving would not help here: each size is its own database.
        results[size] = median_of([measure(run, args.workers) for _ in range(args.repeat)])
    print(f"{'run':>7} {'pages':>6} {'main peak MB':>13} {'worker peak MB':>15} {'seconds':>8}")
    for size, r in results.items():
        print(
            f"{size:>7} {r['pages']:>6} {r['main_peak_mb']:>13} {r['worker_peak_mb']:>15} {r['seconds']:>8}"
        )
    small, large = results[args.small], results[args.large]
    ratio = large["main_peak_mb"] / small["main_peak_mb"]
    print(
        f"main peak RSS large/small = {ratio:.2f} for {large['pages'] / max(small['pages'], 1):.1f}x the pages "
        f"(medians of {args.repeat}, workers={args.workers})"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"extract_memory{'_' + args.label if args.label else ''}.json"
    (RESULTS / name).write_text(
        json.dumps({"label": args.label, "results": results, "ratio": ratio}, indent=2)
    )
    print(f"saved {RESULTS / name}")


if __name__ == "__main__":
    main()
