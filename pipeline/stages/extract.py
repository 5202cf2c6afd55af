"""The extract stage: a run's archived responses -> ``extracted_records`` rows.

Staging lives in the database (``extracted_records``, one row per fetch, upserted on
``fetch_id``), so extract and load can run on different workers and a rerun replaces rows
instead of adding them. Pages are extracted in a process pool sized to the cores; a page
that crashes the extractor becomes a row with ``status='error'`` and the run goes on.
Site-learned boilerplate is merged and applied in the parent process after the pool, so
the result does not depend on which worker saw which page.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.db.engine import get_engine, session_scope
from pipeline.db.models import CrawlRun, ExtractedRecord, Fetch

IN_PROCESS_BELOW = 8  # a pool costs a second of start-up; tiny runs do not need one
WRITE_BATCH = 200


@dataclass(frozen=True)
class ExtractResult:
    """What extraction did for one run (JSON-safe; goes to XCom)."""

    run_id: str
    pages: int
    extracted: int
    not_article: int
    empty: int
    failed: int
    learned_lines: int
    shard: int = 0
    shards: int = 1
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PageTask:
    fetch_id: int
    url: str
    warc_path: str
    warc_offset: int
    content_type: str | None


@dataclass(frozen=True)
class PageResult:
    fetch_id: int
    status: str  # ok | not_article | empty | error
    reason: str | None
    record: dict[str, Any] | None


# --- worker side ------------------------------------------------------------------------
_WORKER_SOURCE: Any = None


def _init_worker(source_json: dict[str, Any] | None) -> None:
    global _WORKER_SOURCE
    from pipeline.config import Source

    _WORKER_SOURCE = Source.model_validate(source_json) if source_json is not None else None


def extract_page(task: PageTask) -> PageResult:
    """Read one response from the raw store and extract it; never raises."""
    try:
        from pipeline.extract.api import extract_outcome
        from pipeline.rawstore import read_response

        response = read_response((task.warc_path, task.warc_offset))
        content_type = task.content_type or response.header("Content-Type")
        outcome = extract_outcome(response.body, task.url, _WORKER_SOURCE, content_type=content_type)
        record = outcome.article.model_dump(mode="json") if outcome.article is not None else None
        return PageResult(task.fetch_id, outcome.status, outcome.reason, record)
    except Exception as exc:  # recorded, never fatal: one bad page must not stop the run
        return PageResult(task.fetch_id, "error", f"{type(exc).__name__}: {exc}"[:1000], None)


# --- parent side ------------------------------------------------------------------------
def _select_tasks(session: Session, run: CrawlRun, shard: int, shards: int) -> list[PageTask]:
    base = select(Fetch).where(
        Fetch.warc_path.is_not(None),
        Fetch.warc_offset.is_not(None),
        Fetch.is_article_candidate.is_(True),
    )
    if run.kind == "reextract":
        # The source's latest stored response per URL inside the run's window.
        latest = (
            select(func.max(Fetch.id).label("id"))
            .where(
                Fetch.source_id == run.source_id,
                Fetch.warc_path.is_not(None),
                Fetch.is_article_candidate.is_(True),
            )
            .group_by(Fetch.url_hash)
        )
        if run.window_start is not None:
            latest = latest.where(Fetch.fetched_at >= run.window_start)
        if run.window_end is not None:
            latest = latest.where(Fetch.fetched_at < run.window_end)
        query = base.where(Fetch.id.in_(latest.scalar_subquery()))
    else:
        query = base.where(Fetch.run_id == run.id)
    if shards > 1:
        query = query.where(Fetch.id % shards == shard)
    tasks = []
    for fetch in session.scalars(query.order_by(Fetch.id)):
        url = fetch.final_url or fetch.url
        tasks.append(
            PageTask(fetch.id, url, fetch.warc_path or "", int(fetch.warc_offset or 0), fetch.content_type)
        )
    return tasks


def _worker_count(workers: int | None, tasks: int) -> int:
    if workers is None:
        from pipeline.settings import get_settings

        workers = get_settings().workers
    if workers <= 0:
        workers = os.cpu_count() or 1
    return max(1, min(workers, tasks))


def _run_pool(
    tasks: list[PageTask],
    workers: int,
    source_json: dict[str, Any] | None,
    advance: Callable[[], None],
) -> list[PageResult]:
    if workers == 1 or len(tasks) < IN_PROCESS_BELOW:
        _init_worker(source_json)
        out = []
        for task in tasks:
            out.append(extract_page(task))
            advance()
        return out
    results: dict[int, PageResult] = {}
    # spawn, not fork: the parent may hold DB connections and (under Airflow) threads.
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=get_context("spawn"),
        initializer=_init_worker,
        initargs=(source_json,),
    ) as pool:
        futures: dict[Future[PageResult], PageTask] = {pool.submit(extract_page, t): t for t in tasks}
        for future, task in futures.items():
            try:
                results[task.fetch_id] = future.result()
            except BrokenProcessPool:
                results[task.fetch_id] = PageResult(task.fetch_id, "error", "extractor process crashed", None)
            advance()
    return [results[t.fetch_id] for t in tasks]


def _apply_learned(
    session: Session, run: CrawlRun, results: list[PageResult], learn: bool
) -> tuple[list[PageResult], int]:
    from pipeline.extract import learned as learned_mod

    if not learn:
        return results, 0
    texts = [str(r.record["text"]) for r in results if r.status == "ok" and r.record]
    learned_mod.record(session, run.source_id, learned_mod.collect(texts))
    hashes = learned_mod.learned_hashes(session, run.source_id)
    out: list[PageResult] = []
    for result in results:
        if result.status != "ok" or result.record is None or not hashes:
            out.append(result)
            continue
        text, removed = learned_mod.strip_learned(str(result.record["text"]), hashes)
        if not removed:
            out.append(result)
            continue
        record = dict(result.record)
        record["text"] = text
        record["removed_lines"] = [*record.get("removed_lines", []), *removed][:200]
        status, reason = ("ok", None) if text else ("empty", "only site boilerplate left")
        out.append(PageResult(result.fetch_id, status, reason, record))
    return out, len(hashes)


def _write(session: Session, run: CrawlRun, results: list[PageResult], version: str) -> None:
    from pipeline.runs import utcnow

    now = utcnow()
    for start in range(0, len(results), WRITE_BATCH):
        batch = results[start : start + WRITE_BATCH]
        ids = [r.fetch_id for r in batch]
        existing = {
            row.fetch_id: row
            for row in session.scalars(select(ExtractedRecord).where(ExtractedRecord.fetch_id.in_(ids)))
        }
        for result in batch:
            row = existing.get(result.fetch_id)
            if row is None:
                row = ExtractedRecord(fetch_id=result.fetch_id, run_id=run.id, created_at=now)
                session.add(row)
            row.run_id = run.id
            row.status = result.status
            row.reason = result.reason
            row.record = result.record
            row.extractor_version = version
            row.created_at = now
        session.flush()


def _update_counters(session: Session, run: CrawlRun) -> dict[str, int]:
    counts = {
        status: int(n)
        for status, n in session.execute(
            select(ExtractedRecord.status, func.count())
            .where(ExtractedRecord.run_id == run.id)
            .group_by(ExtractedRecord.status)
        )
    }
    run.pages_extracted = counts.get("ok", 0)
    run.pages_not_article = counts.get("not_article", 0)
    run.extract_failed = counts.get("error", 0)
    run.stage = "extract"
    return counts


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[], None]]:
    if not enabled:
        yield lambda: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    ) as bar:
        task = bar.add_task("extracting", total=total)
        yield lambda: bar.advance(task)


def _source_config(source_key: str, sources_path: str | Path | None) -> Any:
    from pipeline.config import ConfigError, load_sources

    try:
        return load_sources(sources_path).get(source_key)
    except (ConfigError, KeyError):
        # A source removed from sources.yaml still gets the generic rules.
        return None


def extract(
    run_id: str,
    *,
    shard: int = 0,
    shards: int = 1,
    workers: int | None = None,
    database_url: str | None = None,
    sources_path: str | Path | None = None,
    progress: bool = False,
) -> ExtractResult:
    """Extract every article-candidate response of the run (shard ``shard`` of ``shards``).

    Idempotent: a rerun rewrites the same ``extracted_records`` rows (upsert on fetch id)
    and recomputes the run counters from them.
    """
    from pipeline.errors import UsageError
    from pipeline.extract.api import EXTRACTOR_VERSION
    from pipeline.runs import get_run

    if shards < 1 or not 0 <= shard < shards:
        raise UsageError(f"shard must be in [0, {shards}), got {shard}")
    started = time.perf_counter()
    engine = get_engine(database_url)
    with session_scope(engine) as session:
        run = get_run(session, run_id)
        source_key = run.source.key
        tasks = _select_tasks(session, run, shard, shards)
    config = _source_config(source_key, sources_path)
    source_json = config.model_dump(mode="json") if config is not None else None
    learn = config.extraction.learn_boilerplate if config is not None else True

    with _progress(len(tasks), progress) as advance:
        results = _run_pool(tasks, _worker_count(workers, len(tasks)), source_json, advance)

    with session_scope(engine) as session:
        run = get_run(session, run_id)
        results, learned_lines = _apply_learned(session, run, results, learn)
        _write(session, run, results, EXTRACTOR_VERSION)
        _update_counters(session, run)

    def count(status: str) -> int:
        return sum(1 for r in results if r.status == status)

    return ExtractResult(
        run_id=run_id,
        pages=len(results),
        extracted=count("ok"),
        not_article=count("not_article"),
        empty=count("empty"),
        failed=count("error"),
        learned_lines=learned_lines,
        shard=shard,
        shards=shards,
        seconds=round(time.perf_counter() - started, 3),
    )
