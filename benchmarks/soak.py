"""Soak: simulated days of hourly runs against the living network, then a scorecard.

Every simulated hour the harness moves one clock — the living network's and the pipeline's
(``NEWSFLOW_NOW``) — and runs every outlet through :func:`pipeline.orchestrate.run_sources`,
i.e. the same stage functions the ingest DAG calls (crawl -> extract -> load -> check ->
publish). After the last hour it scores the database against the network's ground truth
(:mod:`benchmarks.scorecard`): completeness, corrections and retractions captured (and how
late), false and missed alarms of the quality gate, provenance, duplicates and the requests
the revisits cost.

    .venv/bin/python -m benchmarks.soak --days 30 [--seed 13] [--json] [--database-url URL]

Loopback only: the network listens on 127.0.0.1 with OS-chosen ports. A 30-day soak makes
about 2,200 source runs (each crawl is its own Scrapy subprocess) and takes the better part
of an hour on a 2-core machine; ``--days 2`` takes a few minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.scorecard import RunRecord, Scorecard, score

if TYPE_CHECKING:
    from pipeline.demo_site.living import LivingNetwork

DEFAULT_START = datetime(2026, 10, 1, tzinfo=UTC)
DEFAULT_SEED = 13
RESULTS = Path("benchmarks/results")


@dataclass(frozen=True)
class SoakResult:
    scorecard: Scorecard
    runs: list[RunRecord]
    database_url: str


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def soak(
    days: float,
    *,
    workdir: Path,
    seed: int = DEFAULT_SEED,
    start: datetime = DEFAULT_START,
    database_url: str | None = None,
    parallel: int = 3,
    network_days: int | None = None,
    on_hour: Callable[[datetime, list[RunRecord]], None] | None = None,
    on_day: Callable[[Scorecard], None] | None = None,
) -> SoakResult:
    """Run ``days`` simulated days of hourly runs of every outlet and score the result.

    ``workdir`` receives the raw store, the sources file and (without ``database_url``) the
    SQLite database. ``network_days`` is the length of the network's timeline (default: the
    soak's length rounded up), so a short soak can run on the first hours of a month.
    ``on_day`` receives the scorecard so far at every simulated midnight (a month-long soak
    leaves figures behind even when it is stopped early).
    """
    from pipeline.db import migrate
    from pipeline.db.engine import dispose_engines
    from pipeline.demo_site.living import LivingNetwork
    from pipeline.orchestrate import run_sources
    from pipeline.settings import reset_settings_cache

    workdir.mkdir(parents=True, exist_ok=True)
    url = database_url or f"sqlite:///{workdir / 'news.db'}"
    hours = round(days * 24)
    env = {
        "NEWSFLOW_DATABASE_URL": url,
        "NEWSFLOW_RAW_STORE": str(workdir / "raw"),
        "NEWSFLOW_NOW": start.isoformat(),
    }
    runs: list[RunRecord] = []
    started = time.perf_counter()
    timeline_days = network_days or max(1, int(-(-days // 1)))
    with _environment(env), LivingNetwork(seed=seed, start=start, days=timeline_days) as network:
        reset_settings_cache()
        dispose_engines()
        migrate.upgrade(url)
        sources = network.write_sources(workdir / "sources.yaml")
        keys = [outlet.key for outlet in network.outlets]
        at = start
        for _ in range(hours):
            at += timedelta(hours=1)
            network.set_now(at)
            os.environ["NEWSFLOW_NOW"] = at.isoformat()
            summaries = run_sources(
                keys, sources_path=sources, database_url=url, parallel=parallel, crawl_log_level="WARNING"
            )
            batch = [RunRecord(s.source, at, s.run_id, s.status, s.error) for s in summaries]
            runs.extend(batch)
            if on_hour is not None:
                on_hour(at, batch)
            if on_day is not None and at.hour == 0 and at != start + timedelta(hours=hours):
                on_day(_score(network, url, runs, at, started))
        card = _score(network, url, runs, at, started)
    dispose_engines()
    return SoakResult(card, runs, url)


def _score(
    network: LivingNetwork, url: str, runs: list[RunRecord], at: datetime, started: float
) -> Scorecard:
    """The database against the network's ground truth, up to ``at``."""
    from pipeline.db.engine import get_engine

    broken = {(outlet, _run_hour(served_at)) for outlet, _url, served_at in network.served_broken()}
    return score(
        get_engine(url),
        network.timeline,
        {o.key: o.base_url for o in network.outlets},
        runs,
        end=at,
        broken=broken,
        requests=network.requests(),
        wall_seconds=round(time.perf_counter() - started, 1),
    )


def _run_hour(served_at: datetime) -> datetime:
    """The run that fetched a page: runs happen on the hour, and the clock stands still during one."""
    return served_at.replace(minute=0, second=0, microsecond=0)


def _progress(at: datetime, batch: list[RunRecord]) -> None:
    failed = [r for r in batch if r.status == "failed"]
    if at.hour == 0 or failed:
        note = "; ".join(f"{r.source}: {(r.error or '')[:160]}" for r in failed)
        print(
            f"[{at:%Y-%m-%d %H:%M}] {len(batch)} runs{', failed: ' + note if failed else ''}", file=sys.stderr
        )


def _checkpoint_writer(path: Path | None) -> Callable[[Scorecard], None] | None:
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(card: Scorecard) -> None:
        with path.open("a", encoding="utf-8") as out:
            out.write(json.dumps(card.as_dict(), default=str) + "\n")

    return write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=30.0, help="simulated days of hourly runs (default 30)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--start", default=DEFAULT_START.isoformat(), help="simulated start (ISO 8601)")
    parser.add_argument("--database-url", help="news database (default: a fresh SQLite file in the workdir)")
    parser.add_argument("--parallel", type=int, default=3, help="sources run at once (as newsflow run)")
    parser.add_argument("--workdir", type=Path, help="keep the database and WARCs here (default: a temp dir)")
    parser.add_argument("--json", action="store_true", help="print the scorecard as one JSON object")
    parser.add_argument("--output", type=Path, help="also write the JSON scorecard to this file")
    parser.add_argument(
        "--checkpoints",
        type=Path,
        help="append the scorecard so far at every simulated midnight (JSON Lines)",
    )
    args = parser.parse_args(argv)
    start = datetime.fromisoformat(args.start.replace("Z", "+00:00"))
    if start.tzinfo is None:
        start = start.replace(tzinfo=UTC)
    with tempfile.TemporaryDirectory(prefix="newsflow-soak-") as tmp:
        workdir = args.workdir or Path(tmp)
        result = soak(
            args.days,
            workdir=workdir,
            seed=args.seed,
            start=start,
            database_url=args.database_url,
            parallel=args.parallel,
            on_hour=_progress,
            on_day=_checkpoint_writer(args.checkpoints),
        )
    data: dict[str, Any] = result.scorecard.as_dict()
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(data, default=str))
    else:
        print(result.scorecard.table())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
