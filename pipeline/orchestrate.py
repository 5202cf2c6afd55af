"""``newsflow run``: every stage, in order, for each chosen source — the DAG's path without Airflow.

It calls exactly the stage functions the DAG tasks call (crawl -> extract -> load -> check
-> publish), so a run from the CLI and a run from Airflow leave the same rows.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import UsageError
from pipeline.jsonout import encode, gate_fields
from pipeline.redact import redact

STAGES = ("crawl", "extract", "load", "check")

#: Sources ``newsflow run`` runs at once by default: overlaps one source's crawl with another's extraction.
DEFAULT_PARALLEL = 3

#: How often a run that found its source busy looks again (seconds).
BUSY_POLL_SECONDS = 2.0

log = logging.getLogger("newsflow.run")

#: Called as ``on_stage(source_key, stage)`` when a stage starts (progress display).
StageCallback = Callable[[str, str], None]


@dataclass
class SourceRunSummary:
    """What one source's run did, for the summary table and ``--json``."""

    source: str
    run_id: str
    status: str = "running"
    pages_fetched: int = 0
    pages_failed: int = 0
    pages_unchanged: int = 0
    pages_skipped: int = 0
    articles_new: int = 0
    articles_updated: int = 0
    articles_unchanged: int = 0
    articles_duplicate: int = 0
    articles_rejected: int = 0
    articles_removed: int = 0
    failures_by_category: dict[str, int] = field(default_factory=dict)
    quality: str = "not run"  # for the summary table; ``gate`` is the verdict for scripts
    stage_seconds: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    #: the quality gate's verdict as fields (:func:`pipeline.jsonout.gate_fields`), set at the gate
    gate: dict[str, Any] = field(default_factory=lambda: gate_fields(None))

    @property
    def seconds(self) -> float:
        return round(sum(self.stage_seconds.values()), 2)

    def as_dict(self) -> dict[str, Any]:
        """JSON conventions of :mod:`pipeline.jsonout`: ``source_key``, the gate as fields."""
        data: dict[str, Any] = encode(asdict(self))
        data["seconds"] = self.seconds
        return data


def run_source(
    source_key: str,
    *,
    run_id: str | None = None,
    max_pages: int | None = None,
    sources_path: str | Path | None = None,
    database_url: str | None = None,
    on_stage: StageCallback | None = None,
    crawl_log_level: str = "INFO",
    sources_at_once: int = 1,
    wait_if_busy: bool = True,
) -> SourceRunSummary:
    """Crawl, extract, load and check one source; never raises for a failed stage.

    A failed stage ends that source's run (the later stages need its output) and is
    reported in the summary; other sources still run. A stage after the crawl that raises
    marks the run failed in the database (``fail_run``), so it does not stay ``running``.
    ``sources_at_once``: sources this process runs at the same time, in threads (``run_sources``).
    Alone, extraction uses ``NEWSFLOW_WORKERS`` (0 = every core). Beside others, it takes its
    share of the cores (``workers_sharing_cores``, unless ``NEWSFLOW_WORKERS`` is set), always
    in worker processes: in this process's threads the extractions would take turns on its GIL.

    When another crawl of the source is live (:class:`~pipeline.runs.SourceBusy`: another
    ``newsflow run``, or its Airflow DAG), ``wait_if_busy`` waits for it — saying so once on
    the log — and then crawls (mostly conditional requests by then); otherwise the run fails
    with the busy message. The wait is bounded: a run still 'running' after
    ``NEWSFLOW_STALE_RUN_HOURS`` is expired as dead.
    """
    from pipeline.quality import QualityGateFailed
    from pipeline.runs import SourceBusy
    from pipeline.stages.check import check, fail_run, publish
    from pipeline.stages.crawl import crawl
    from pipeline.stages.extract import extract, workers_sharing_cores
    from pipeline.stages.load import load

    summary = SourceRunSummary(source=source_key, run_id=run_id or "")
    crawled_run: list[str] = []  # the run id, once the crawl has created the run row
    current: list[str] = []

    def timed(stage: str, fn: Callable[[], Any]) -> Any:
        if on_stage is not None:
            on_stage(source_key, stage)
        current[:] = [stage]
        started = time.perf_counter()
        try:
            return fn()
        finally:
            summary.stage_seconds[stage] = round(time.perf_counter() - started, 2)

    def crawl_when_free() -> Any:
        announced = False
        while True:
            try:
                return crawl(
                    source_key,
                    run_id,
                    max_pages=max_pages,
                    sources_path=sources_path,
                    database_url=database_url,
                    log_level=crawl_log_level,
                )
            except SourceBusy as busy:
                if not wait_if_busy:
                    raise
                if not announced:
                    log.warning("%s; waiting for it to finish", busy)
                    announced = True
                time.sleep(BUSY_POLL_SECONDS)

    try:
        crawled = timed("crawl", crawl_when_free)
        summary.run_id = crawled.run_id
        crawled_run[:] = [crawled.run_id]
        summary.pages_fetched = crawled.pages_fetched
        summary.pages_failed = crawled.pages_failed
        summary.pages_unchanged = crawled.pages_unchanged
        summary.pages_skipped = int(crawled.stats.get("skipped_known", 0))
        summary.failures_by_category = dict(crawled.errors_by_category)
        if crawled.status == "failed":
            summary.status = "failed"
            summary.error = "crawl failed"
            return summary
        timed(
            "extract",
            lambda: extract(
                crawled.run_id,
                database_url=database_url,
                sources_path=sources_path,
                workers=workers_sharing_cores(sources_at_once) if sources_at_once > 1 else None,
                in_process=sources_at_once == 1,
            ),
        )
        loaded = timed("load", lambda: load(crawled.run_id, database_url=database_url))
        summary.articles_removed = loaded.removed
        summary.articles_new = loaded.new
        summary.articles_updated = loaded.updated
        summary.articles_unchanged = loaded.unchanged
        summary.articles_duplicate = loaded.duplicate
        summary.articles_rejected = loaded.rejected
        try:
            timed(
                "check",
                lambda: check(crawled.run_id, database_url=database_url, sources_path=sources_path),
            )
            summary.quality = "passed"
            summary.gate = gate_fields({"passed": True})
            summary.status = "success"
        except QualityGateFailed as exc:
            summary.quality = f"failed: {exc}"
            summary.gate = gate_fields(None, list(exc.failures))
            summary.status = "failed"
            summary.error = str(exc)
        publish(crawled.run_id, database_url=database_url)
    except Exception as exc:  # one source's failure must not stop the others
        summary.status = "failed"
        summary.error = redact(f"{type(exc).__name__}: {exc}")
        if crawled_run:
            stage = current[0] if current else "run"
            try:
                fail_run(crawled_run[0], f"{stage} failed: {summary.error}", database_url=database_url)
            except Exception as also:  # the database itself may be what failed
                summary.error += f" (and the run could not be marked failed: {type(also).__name__}: {also})"
    return summary


def run_sources(
    source_keys: Sequence[str] | None = None,
    *,
    max_pages: int | None = None,
    sources_path: str | Path | None = None,
    database_url: str | None = None,
    on_stage: StageCallback | None = None,
    crawl_log_level: str = "INFO",
    parallel: int = 1,
    wait_if_busy: bool = True,
) -> list[SourceRunSummary]:
    """Run the pipeline for the chosen sources (all configured ones by default).

    ``parallel`` sources run at once, each in a thread driving its own stages: a crawl is
    mostly waiting on the network (its own subprocess), so overlapping one source's crawl
    with another's extraction keeps both cores busy, just as concurrent DAG runs do.
    Summaries come back in the order of ``source_keys``.
    """
    from pipeline.config import load_sources
    from pipeline.db import migrate

    configured = load_sources(sources_path)
    keys = list(source_keys) if source_keys else [s.key for s in configured.sources]
    for key in keys:
        try:
            configured.get(key)
        except KeyError as exc:
            raise UsageError(str(exc.args[0])) from exc
    migrate.upgrade(database_url)

    at_once = max(1, min(parallel, len(keys)))

    def one(key: str) -> SourceRunSummary:
        return run_source(
            key,
            max_pages=max_pages,
            sources_path=sources_path,
            database_url=database_url,
            on_stage=on_stage,
            crawl_log_level=crawl_log_level,
            sources_at_once=at_once,
            wait_if_busy=wait_if_busy,
        )

    if at_once == 1:
        return [one(key) for key in keys]
    with ThreadPoolExecutor(max_workers=at_once, thread_name_prefix="source") as pool:
        return list(pool.map(one, keys))
