"""The load stage: a run's extracted records -> deduplicated, versioned ``articles``.

A thin entry point over :mod:`pipeline.load.runner` (batches, transactions, counters); the
same function serves the CLI (`newsflow load`), the Airflow task and the tests.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

from pipeline.db.engine import get_engine


@dataclass(frozen=True)
class LoadResult:
    """What the load did for one run (small and JSON-safe: it goes to XCom).

    ``new``/``updated``/``unchanged``/``duplicate``/``rejected`` partition the run's records
    and equal the ``crawl_runs`` counters; they are the same after a rerun. ``removed``: stored
    articles this run found gone from the web (``crawl_runs.stats["load"]["articles_removed"]``);
    records of purged URLs are ``rejected`` with reason ``purged``.
    """

    run_id: str
    records: int
    new: int
    updated: int
    unchanged: int
    duplicate: int
    rejected: int
    removed: int = 0
    near_duplicates: int = 0
    links: int = 0
    batches: int = 0
    seconds: float = 0.0
    rejected_reasons: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def load(
    run_id: str,
    *,
    database_url: str | None = None,
    batch_size: int = 500,
    progress: bool = False,
    near_dup_threshold: float | None = None,
    writers: int | None = None,
) -> LoadResult:
    """Upsert the run's extracted records into ``articles``; each batch is one transaction.

    Idempotent: rerunning it (after success, a crash or a kill) or running it twice at once
    leaves the same rows and the same run counters. ``writers`` batch transactions run at once
    (default: 2 on PostgreSQL, 1 on SQLite).
    """
    from pipeline.load.runner import RunLoader, progress_bar
    from pipeline.settings import get_settings

    started = time.perf_counter()
    threshold = near_dup_threshold if near_dup_threshold is not None else get_settings().near_dup_threshold
    loader = RunLoader(
        get_engine(database_url), run_id, batch_size=batch_size, threshold=threshold, writers=writers
    )
    total = loader.total_records() if progress else 0
    with progress_bar(total, progress) as advance:
        loader.progress = advance
        counts = loader.run()
    return LoadResult(
        run_id=run_id,
        records=counts.records,
        new=counts.new,
        updated=counts.updated,
        unchanged=counts.unchanged,
        duplicate=counts.duplicate,
        rejected=counts.rejected,
        removed=counts.removed,
        near_duplicates=counts.near_duplicates,
        links=counts.links,
        batches=counts.batches,
        seconds=round(time.perf_counter() - started, 3),
        rejected_reasons=dict(counts.rejected_reasons),
    )
