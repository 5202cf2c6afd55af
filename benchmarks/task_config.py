"""Per-task config CPU: what an ingest task spends reading its source from ``sources.yaml``.

Every ingest task needs one source's configuration (crawl, the crawler subprocess it
starts, extract, check, re-extract). Before issue 17's fix each validated the whole file
(``load_sources(path).get(key)``); now they read their source from a content-hashed cache
entry (:mod:`pipeline.sourcecache`). Measured on the generated ``sources.yaml`` of
``benchmarks/dag_parse.py`` at 100, 1,000 and 10,000 sources, in this process after a
warm-up (imports excluded: every task imports the same modules either way), CPU seconds
(``time.process_time``), medians:

- ``whole file``: the old read, once per task (a crawl task did it twice: the stage and
  the crawler subprocess);
- ``warm``: ``load_source`` with the entry present (the DAG processor's validator wrote it
  when it parsed the file; median over ``--keys`` different sources);
- ``cold``: the first task after an edit (nothing cached yet): validates the whole file once
  and writes the entry;
- ``cache off``: ``NEWSFLOW_DAG_CACHE=off``: the YAML once, pydantic for the one source;
- ``crawler scope``: ``load_valid_sources`` (warm), the other sources the crawler's scope
  needs (pydantic for every source, no YAML).

    .venv/bin/python -m benchmarks.task_config [--sizes 100,1000,10000] [--repeat 3] [--keys 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks._machine import LoadSampler, describe_load
from benchmarks.dag_parse import generate_sources

RESULTS = Path("benchmarks/results")


def cpu(call: Callable[[], object]) -> float:
    started = time.process_time()
    call()
    return time.process_time() - started


def reader(load: Callable[[str, Path], object], key: str, path: Path) -> Callable[[], object]:
    return lambda: load(key, path)


def measure(count: int, repeat: int, keys: int) -> dict[str, Any]:
    from pipeline.config import load_sources
    from pipeline.sourcecache import load_source, load_valid_sources

    with tempfile.TemporaryDirectory(prefix="newsflow-taskcfg-") as tmp:
        path = generate_sources(count, Path(tmp) / "sources.yaml")
        step = max(1, count // keys)
        wanted = [f"outlet-{i:05d}" for i in range(0, count, step)][:keys]
        whole, cold, warm, off, scope = [], [], [], [], []
        for round_ in range(repeat):
            os.environ["NEWSFLOW_DAG_CACHE"] = str(Path(tmp) / f"cache-{round_}")
            whole.append(cpu(lambda: load_sources(path).get(wanted[0])))
            cold.append(cpu(lambda: load_source(wanted[0], path)))
            warm.append(statistics.median(cpu(reader(load_source, key, path)) for key in wanted))
            scope.append(cpu(lambda: load_valid_sources(path)))
            os.environ["NEWSFLOW_DAG_CACHE"] = "off"
            off.append(cpu(lambda: load_source(wanted[0], path)))
        # Same answer either way (the cache is a faster read, not a different one).
        os.environ["NEWSFLOW_DAG_CACHE"] = str(Path(tmp) / "cache-0")
        assert all(load_source(k, path) == load_sources(path).get(k) for k in wanted[:3])
    med = {
        name: statistics.median(values)
        for name, values in (("whole", whole), ("cold", cold), ("warm", warm), ("off", off), ("scope", scope))
    }
    return {
        "sources": count,
        "cpu_seconds_median": {k: round(v, 4) for k, v in med.items()},
        # A crawl task read the file twice (stage + crawler subprocess); now: its source
        # twice and the crawler's scope once.
        "crawl_task_before": round(2 * med["whole"], 4),
        "crawl_task_after": round(2 * med["warm"] + med["scope"], 4),
        "other_task_before": round(med["whole"], 4),
        "other_task_after": round(med["warm"], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keys", type=int, default=20, help="sources read per warm measurement")
    parser.add_argument("--output", type=Path, default=RESULTS / "task_config.json")
    args = parser.parse_args()
    previous = os.environ.get("NEWSFLOW_DAG_CACHE")
    measure(50, 1, 5)  # imports, pydantic schemas and croniter warm
    rows = []
    with LoadSampler() as machine:
        for size in (int(s) for s in args.sizes.split(",")):
            rows.append(measure(size, args.repeat, args.keys))
            r = rows[-1]
            m = r["cpu_seconds_median"]
            print(
                f"{size:>6} sources  whole file {m['whole']:.3f} s  cold {m['cold']:.3f}  warm {m['warm'] * 1000:.1f} ms"
                f"  cache off {m['off']:.3f}  crawler scope {m['scope']:.3f}"
            )
            print(
                f"        per task CPU: crawl {r['crawl_task_before']:.3f} -> {r['crawl_task_after']:.3f} s,"
                f" extract/check/reextract {r['other_task_before']:.3f} -> {r['other_task_after'] * 1000:.1f} ms"
                f" ({r['other_task_before'] / max(r['other_task_after'], 1e-6):.0f}x less)"
            )
    if previous is None:
        os.environ.pop("NEWSFLOW_DAG_CACHE", None)
    load = machine.summary()
    print(describe_load(load))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps({"sizes": rows, "load": load}, indent=2))
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
