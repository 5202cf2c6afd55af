"""The extract stage: a run's archived responses -> ``extracted_records`` rows.

Staging lives in the database (``extracted_records``, one row per fetch, upserted on
``fetch_id``), so extract and load can run on different workers and a rerun replaces rows
instead of adding them. A row's status is ``ok``, ``not_article``, ``empty``, ``error`` or
``removed`` (the page is a removal notice; the load marks the stored story removed). Pages
are extracted by a pool of worker processes (:mod:`pipeline.procpool`, which also works
inside Airflow tasks); a page that crashes, hangs or errors the extractor becomes a row with
``status='error'`` and the run goes on.

Memory is flat in the number of pages: fetches are read in keyset pages, results stream
back as they complete and are written in batches of :data:`WRITE_BATCH`, and the parent
keeps only counters and the site-learned line tally. Site-learned boilerplate needs every
page of the run before it can judge a line, so it is applied in a second pass over the
rows just written: the result does not depend on which worker saw which page or in which
order pages completed.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, Engine, func, select
from sqlalchemy.orm import Session

from pipeline.db.engine import get_engine, session_scope
from pipeline.db.models import CrawlRun, ExtractedRecord, Fetch
from pipeline.extract_worker import PageResult, PageTask, page_extractor, page_failed

IN_PROCESS_BELOW = 8  # a pool costs a second of start-up; tiny runs do not need one
WRITE_BATCH = 200  # results per write transaction (and records per learned-lines pass batch)
READ_BATCH = 1000  # fetch rows per keyset page
#: Seconds one page may take in a worker before the worker is killed and the page recorded
#: as an error (a pathological page must not hang the run; normal pages take milliseconds).
PAGE_TIMEOUT = 300.0


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
    workers: int = 0  # extraction processes used; 0 = in the calling process
    removed: int = 0  # pages that are a removal notice ("This story has been removed.")

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def stored_page_conditions() -> tuple[ColumnElement[bool], ...]:
    """WHERE conditions on :class:`Fetch` for an archived article page with a body.

    Only full responses: a 304 is a WARC revisit without a body; robots.txt and redirect
    hops are archived too but are not pages. (The reextract stage sizes its shards with them.)
    """
    return (
        Fetch.outcome == "fetched",
        Fetch.warc_path.is_not(None),
        Fetch.warc_offset.is_not(None),
        Fetch.is_article_candidate.is_(True),
    )


@dataclass(frozen=True)
class _Scope:
    """The fetches one call covers: a run's (or a reextract window's) candidates, one shard."""

    run_pk: int
    source_id: int
    reextract: bool
    window: tuple[datetime | None, datetime | None]
    shard: int
    shards: int

    @classmethod
    def of(cls, run: CrawlRun, shard: int, shards: int) -> _Scope:
        window = (run.window_start, run.window_end)
        return cls(run.id, run.source_id, run.kind == "reextract", window, shard, shards)

    def conditions(self) -> list[ColumnElement[bool]]:
        """WHERE conditions on :class:`Fetch` selecting the scope's pages."""
        stored_pages = stored_page_conditions()
        conds: list[ColumnElement[bool]] = list(stored_pages)
        if self.reextract:
            # The source's latest stored response per URL inside the run's window.
            latest = (
                select(func.max(Fetch.id).label("id"))
                .where(Fetch.source_id == self.source_id, *stored_pages)
                .group_by(Fetch.url_hash)
            )
            start, end = self.window
            if start is not None:
                latest = latest.where(Fetch.fetched_at >= start)
            if end is not None:
                latest = latest.where(Fetch.fetched_at < end)
            conds.append(Fetch.id.in_(latest.scalar_subquery()))
        else:
            conds.append(Fetch.run_id == self.run_pk)
        if self.shards > 1:
            conds.append(Fetch.id % self.shards == self.shard)
        return conds


def _count(engine: Engine, scope: _Scope) -> int:
    with engine.connect().execution_options(read_only=True) as conn:
        return int(conn.scalar(select(func.count()).select_from(Fetch).where(*scope.conditions())) or 0)


def _tasks(engine: Engine, scope: _Scope) -> Iterator[PageTask]:
    """The scope's pages in fetch id order, read in keyset pages (one short read each)."""
    last = 0
    columns = (
        Fetch.id,
        Fetch.url,
        Fetch.final_url,
        Fetch.warc_path,
        Fetch.warc_offset,
        Fetch.content_type,
        Fetch.warc_length,
    )
    while True:
        with engine.connect().execution_options(read_only=True) as conn:
            rows = conn.execute(
                select(*columns)
                .where(*scope.conditions(), Fetch.id > last)
                .order_by(Fetch.id)
                .limit(READ_BATCH)
            ).all()
        if not rows:
            return
        for fid, url, final_url, warc_path, warc_offset, content_type, warc_length in rows:
            yield PageTask(
                fid,
                final_url or url,
                warc_path or "",
                int(warc_offset or 0),
                content_type,
                int(warc_length or 0),
            )
        last = rows[-1][0]


def workers_sharing_cores(concurrent: int, *, cores: int | None = None) -> int:
    """Processes for one of ``concurrent`` extract calls running at once on this machine.

    ``NEWSFLOW_WORKERS`` when set (> 0); else the cores split over the concurrent calls, so
    calls x workers <= cores (parallel sources of ``newsflow run``, mapped shard tasks).
    """
    from pipeline.settings import get_settings

    configured = get_settings().workers
    if configured > 0:
        return configured
    cores = cores or os.cpu_count() or 1
    return max(1, cores // max(1, concurrent))


def _worker_count(workers: int | None, tasks: int, *, in_process: bool = True) -> int:
    """Extraction processes for ``tasks`` pages; 0 = extract in this process.

    One worker means this process, unless ``in_process`` is false (see :func:`extract`).
    """
    if workers is None:
        from pipeline.settings import get_settings

        workers = get_settings().workers
    if workers <= 0:
        workers = os.cpu_count() or 1
    workers = max(1, min(workers, tasks))
    return 0 if (workers == 1 and in_process) or tasks < IN_PROCESS_BELOW else workers


def _extract_pages(
    tasks: Iterable[PageTask], workers: int, source_json: dict[str, Any] | None
) -> Iterator[PageResult]:
    """Results as they complete (pool) or in order (in-process); never raises for a page."""
    if workers == 0:
        return map(page_extractor(source_json), tasks)
    from pipeline.procpool import imap_unordered

    return imap_unordered(
        f"{page_extractor.__module__}:{page_extractor.__name__}",
        source_json,
        tasks,
        workers=workers,
        on_failure=page_failed,
        timeout=PAGE_TIMEOUT,
    )


def _batches(results: Iterable[PageResult], size: int) -> Iterator[list[PageResult]]:
    batch: list[PageResult] = []
    for result in results:
        batch.append(result)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _write(session: Session, run_pk: int, results: list[PageResult], version: str) -> None:
    """Upsert one batch of results on ``fetch_id``."""
    from pipeline.runs import utcnow

    now = utcnow()
    existing = {
        row.fetch_id: row
        for row in session.scalars(
            select(ExtractedRecord).where(ExtractedRecord.fetch_id.in_([r.fetch_id for r in results]))
        )
    }
    for result in results:
        row = existing.get(result.fetch_id)
        if row is None:
            row = ExtractedRecord(fetch_id=result.fetch_id, run_id=run_pk, created_at=now)
            session.add(row)
        row.run_id = run_pk
        row.status = result.status
        row.reason = result.reason
        row.detection_score = result.score
        row.record = result.record
        row.extractor_version = version
        row.created_at = now


def _strip_learned(session: Session, scope: _Scope, hashes: frozenset[str]) -> int:
    """Remove the source's learned lines from the scope's ``ok`` rows; return how many emptied.

    Runs after every page is written (a line is judged on the whole run), in keyset
    batches, one transaction each. Rows were just rewritten from the extractor's output,
    so stripping them again on a rerun gives the same records.
    """
    from pipeline.extract.learned import strip_learned

    emptied, last = 0, 0
    while True:
        rows = session.scalars(
            select(ExtractedRecord)
            .join(Fetch, Fetch.id == ExtractedRecord.fetch_id)
            .where(
                *scope.conditions(),
                ExtractedRecord.run_id == scope.run_pk,
                ExtractedRecord.status == "ok",
                ExtractedRecord.fetch_id > last,
            )
            .order_by(ExtractedRecord.fetch_id)
            .limit(WRITE_BATCH)
        ).all()
        if not rows:
            return emptied
        last = rows[-1].fetch_id
        for row in rows:
            record = dict(row.record or {})
            text, removed = strip_learned(str(record.get("text", "")), hashes)
            if not removed:
                continue
            record["text"] = text
            record["removed_lines"] = [*record.get("removed_lines", []), *removed][:200]
            row.record = record
            if not text:
                row.status, row.reason = "empty", "only site boilerplate left"
                emptied += 1
        _commit_batch(session)


def _commit_batch(session: Session) -> None:
    """End one batch's transaction and forget its rows, so the session never grows."""
    session.commit()
    session.expunge_all()


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
    # Removal notices are neither articles nor failures: counted apart (the load marks the
    # stored story removed), next to every status's count, recomputed like the columns.
    run.stats = {
        **(run.stats or {}),
        "extract": {"pages_removed": counts.get("removed", 0), "statuses": dict(sorted(counts.items()))},
    }
    run.stage = "extract"
    return counts


@contextmanager
def _progress(total: int, enabled: bool) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda n: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(), TimeRemainingColumn()
    ) as bar:
        task = bar.add_task("extracting", total=total)
        yield lambda n: bar.advance(task, n)


def _source_config(source_key: str, sources_path: str | Path | None) -> Any:
    from pipeline.config import ConfigError
    from pipeline.sourcecache import load_source

    try:
        return load_source(source_key, sources_path)
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
    in_process: bool = True,
) -> ExtractResult:
    """Extract every article-candidate response of the run (shard ``shard`` of ``shards``).

    ``workers``: extraction processes (default ``NEWSFLOW_WORKERS``; 0 = one per core).
    One worker extracts in this process unless ``in_process`` is false: several extract
    calls running in threads of one process (``newsflow run`` with parallel sources) would
    take turns on its one GIL, so each gets a worker process of its own instead.
    Idempotent: a rerun rewrites the same ``extracted_records`` rows (upsert on fetch id)
    and recomputes the run counters from them.
    """
    from pipeline.errors import UsageError
    from pipeline.extract import learned as learned_mod
    from pipeline.extract.api import EXTRACTOR_VERSION
    from pipeline.runs import get_run

    if shards < 1 or not 0 <= shard < shards:
        raise UsageError(f"shard must be in [0, {shards}), got {shard}")
    started = time.perf_counter()
    engine = get_engine(database_url)
    with session_scope(engine) as session:
        run = get_run(session, run_id)
        source_key = run.source.key
        scope = _Scope.of(run, shard, shards)
    config = _source_config(source_key, sources_path)
    source_json = config.model_dump(mode="json") if config is not None else None
    learn = config.extraction.learn_boilerplate if config is not None else True
    total = _count(engine, scope)
    processes = _worker_count(workers, total, in_process=in_process)

    statuses: Counter[str] = Counter()
    from pipeline.extract.learned import LineTally

    tally = LineTally()
    with _progress(total, progress) as advance, session_scope(engine) as session:
        results = _extract_pages(_tasks(engine, scope), processes, source_json)
        for batch in _batches(results, WRITE_BATCH):
            _write(session, scope.run_pk, batch, EXTRACTOR_VERSION)
            _commit_batch(session)  # a killed run keeps what it wrote; a rerun replaces it
            for result in batch:
                statuses[result.status] += 1
                if learn and result.status == "ok" and result.record:
                    tally.add(str(result.record["text"]))
            advance(len(batch))

    learned_lines = 0
    if learn:
        with session_scope(engine) as session:
            learned_mod.record(session, scope.source_id, tally.evidence())
            hashes = learned_mod.learned_hashes(session, scope.source_id)
        learned_lines = len(hashes)
        if hashes:
            with session_scope(engine) as session:
                emptied = _strip_learned(session, scope, hashes)
            statuses["ok"] -= emptied
            statuses["empty"] += emptied
    with session_scope(engine) as session:
        _update_counters(session, get_run(session, run_id))

    return ExtractResult(
        run_id=run_id,
        pages=sum(statuses.values()),
        extracted=statuses["ok"],
        not_article=statuses["not_article"],
        empty=statuses["empty"],
        failed=statuses["error"],
        removed=statuses["removed"],
        learned_lines=learned_lines,
        shard=shard,
        shards=shards,
        seconds=round(time.perf_counter() - started, 3),
        workers=processes,
    )
