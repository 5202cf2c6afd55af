"""The load loop: read a run's records in batches, write each batch in one transaction.

Memory stays flat: records are read by keyset pages of ``batch_size`` and only 8 bytes per
distinct article are kept (to count in-run duplicates). Every batch is one transaction —
a crash, kill -9 or dropped connection leaves the database exactly as before that batch —
and the upserts are idempotent, so a rerun simply goes through every batch again.

Run counters are *derived* at the end rather than accumulated: new/updated/removed come from
the ``article_versions`` rows this run created, so a rerun, a retry after a kill or a
concurrent load of the same run all report the same numbers.

After the records, the run's removal signals (:mod:`pipeline.load.removals`) mark stored
articles removed, in one transaction of their own. Records of purged URLs (a row in
``article_purges``) are never stored: they count as rejected, reason ``purged``.
"""

from __future__ import annotations

import logging
import queue
import random
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, func, select, text, update
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError

from pipeline.db.models import Article, ArticlePurge, ArticleVersion, CrawlRun, ExtractedRecord, Fetch
from pipeline.errors import UsageError
from pipeline.load import neardup
from pipeline.load.bulk import chunk_size, member_of, prefer_lz4
from pipeline.load.events import REMOVED
from pipeline.load.links import Edge, crawl_edges, resolve_incoming, store_links
from pipeline.load.prepare import PreparedArticle, Rejected, StagedRow, cached_canonicalize, prepare
from pipeline.load.removals import apply_removals, removal_signals
from pipeline.load.upsert import upsert_articles
from pipeline.runs import utcnow
from pipeline.urls import url_hash

log = logging.getLogger("pipeline.load")

MAX_ATTEMPTS = 6
#: Batch transactions in flight on PostgreSQL. Most of a batch's cost is server CPU (search
#: vectors, index entries), so a second connection uses the second core; more add little on
#: two cores and only lengthen the queue at the near-duplicate lock.
DEFAULT_PG_WRITERS = 2

T = TypeVar("T")


@dataclass
class LoadCounts:
    """What one load call saw and did (the run row gets the derived, rerun-stable numbers)."""

    records: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicate: int = 0
    rejected: int = 0
    skipped: int = 0
    removed: int = 0
    near_duplicates: int = 0
    links: int = 0
    batches: int = 0
    rejected_reasons: Counter[str] = field(default_factory=Counter)

    def merge(self, other: LoadCounts) -> None:
        """Add the counts a reader-thread step collected."""
        self.records += other.records
        self.skipped += other.skipped
        self.rejected += other.rejected
        self.duplicate += other.duplicate
        self.rejected_reasons.update(other.rejected_reasons)

    def as_stats(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "skipped_not_article": self.skipped,
            "articles_removed": self.removed,
            "near_duplicates": self.near_duplicates,
            "links": self.links,
            "batches": self.batches,
            "rejected_reasons": dict(self.rejected_reasons),
        }


@dataclass
class _BatchResult:
    stored_hashes: list[str] = field(default_factory=list)
    rejected: list[tuple[PreparedArticle, str]] = field(default_factory=list)
    links: int = 0
    joined: int = 0


def _retryable(exc: DBAPIError) -> bool:
    """Deadlocks, serialisation failures, SQLite lock timeouts and dropped connections."""
    if exc.connection_invalidated:
        return True
    code = getattr(exc.orig, "sqlstate", None)
    if code in {"40P01", "40001", "55P03"}:
        return True
    message = str(exc.orig).lower()
    return "database is locked" in message or "database is busy" in message


def with_retries(action: Callable[[], T], what: str) -> T:
    """Run ``action`` (one whole transaction) again after a transient database failure."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return action()
        except (IntegrityError, DataError):
            raise
        except DBAPIError as exc:
            if attempt == MAX_ATTEMPTS or not _retryable(exc):
                raise
            delay = min(2.0, 0.05 * 2**attempt) * (0.5 + random.random())
            log.warning("%s: transient database error (attempt %d), retrying: %s", what, attempt, exc.orig)
            time.sleep(delay)
    raise AssertionError("unreachable")


def default_writers(engine: Engine) -> int:
    """Concurrent batch transactions: two on PostgreSQL, one on SQLite (a single writer anyway)."""
    return DEFAULT_PG_WRITERS if engine.dialect.name == "postgresql" else 1


class RunLoader:
    """Loads one run; construct, then :meth:`run`."""

    def __init__(
        self,
        engine: Engine,
        run_id: str,
        *,
        batch_size: int = 500,
        threshold: float = neardup.DEFAULT_THRESHOLD,
        progress: Callable[[int], None] | None = None,
        writers: int | None = None,
    ) -> None:
        if batch_size < 1:
            raise UsageError("batch size must be at least 1")
        if writers is not None and writers < 1:
            raise UsageError("writers must be at least 1")
        self.engine = engine
        self.run_id = run_id
        self.batch_size = batch_size
        self.threshold = threshold
        self.progress = progress
        self.writers = writers or default_writers(engine)
        self.counts = LoadCounts()
        self._seen: set[int] = set()

        def claim() -> int:
            with engine.begin() as conn:
                # Write first: on SQLite a transaction that reads before writing fails outright
                # (stale snapshot) instead of waiting when another load committed meanwhile.
                marked = conn.execute(update(CrawlRun).where(CrawlRun.run_id == run_id).values(stage="load"))
                if not marked.rowcount:
                    raise UsageError(f"no run {run_id!r} in the database (see `newsflow status`)")
                return int(conn.execute(select(CrawlRun.id).where(CrawlRun.run_id == run_id)).scalar_one())

        self.run_pk: int = with_retries(claim, f"run {run_id} start")

    # -- reading -----------------------------------------------------------------------------

    def total_records(self) -> int:
        def count() -> int:
            with self.engine.connect() as conn:
                return int(
                    conn.execute(
                        select(func.count()).where(
                            ExtractedRecord.run_id == self.run_pk, ExtractedRecord.status == "ok"
                        )
                    ).scalar_one()
                )

        return with_retries(count, f"run {self.run_id} count")

    def _pages(self) -> Iterator[list[StagedRow]]:
        last = 0
        er, f = ExtractedRecord, Fetch
        query = (
            select(
                er.id,
                er.fetch_id,
                f.source_id,
                f.fetched_at,
                f.url,
                f.final_url,
                f.canonical_url,
                er.extractor_version,
                er.record,
            )
            .join(f, f.id == er.fetch_id)
            .where(er.run_id == self.run_pk, er.status == "ok")
            .order_by(er.id)
            .limit(self.batch_size)
        )
        # A read-only transaction of its own: the write transaction then starts with a write,
        # which SQLite needs to queue writers instead of failing on a stale snapshot, and on
        # SQLite the read does not take the write lock (so it overlaps with the batch writes).
        # Every read is retried like the writes: a dropped reader connection (failover, an
        # admin's pg_terminate_backend) just reads the same keyset page again.
        reader = self.engine.execution_options(read_only=True)

        def page(after: int) -> list[StagedRow]:
            with reader.connect() as conn:
                return [StagedRow(*row) for row in conn.execute(query.where(er.id > after))]

        while True:
            rows = with_retries(partial(page, last), f"run {self.run_id} read")
            if not rows:
                return
            last = rows[-1].record_id
            yield rows

    # -- shaping -----------------------------------------------------------------------------

    def _reject(self, counts: LoadCounts, fetch_id: int, reason: str) -> None:
        counts.rejected += 1
        counts.rejected_reasons[reason.split(":", 1)[0]] += 1
        log.warning("run %s: rejected record of fetch %s: %s", self.run_id, fetch_id, reason)

    def _purged(self, hashes: set[str]) -> set[str]:
        """Which of ``hashes`` are tombstoned by a purge (``article_purges``)."""
        if not hashes:
            return set()
        ordered = sorted(hashes)

        def read() -> set[str]:
            found: set[str] = set()
            with self.engine.execution_options(read_only=True).connect() as conn:
                size = chunk_size(conn)
                for start in range(0, len(ordered), size):
                    chunk = ordered[start : start + size]
                    found.update(
                        conn.execute(
                            select(ArticlePurge.url_hash).where(member_of(conn, ArticlePurge.url_hash, chunk))
                        ).scalars()
                    )
            return found

        return with_retries(read, f"run {self.run_id} purge check")

    @staticmethod
    def _fetch_hashes(staged: StagedRow) -> set[str]:
        hashes = set()
        # Usually one URL three times (fetched, final, canonical): canonicalised once.
        for url in {staged.fetch_url, staged.final_url, staged.fetch_canonical_url}:
            if url:
                try:
                    hashes.add(url_hash(cached_canonicalize(url)))
                except ValueError:
                    continue
        return hashes

    def _prepare(self, rows: Sequence[StagedRow], now: datetime, counts: LoadCounts) -> list[PreparedArticle]:
        """Shape one page of records (runs in the reader thread; counts go to ``counts``)."""
        batch: dict[str, PreparedArticle] = {}
        shaped: list[tuple[StagedRow, PreparedArticle | Rejected]] = []
        for staged in rows:
            counts.records += 1
            if staged.payload is not None and staged.payload.get("is_article") is False:
                counts.skipped += 1
                continue
            try:
                shaped.append((staged, prepare(staged, now, self.run_pk)))
            except Rejected as exc:
                shaped.append((staged, exc))
        fetched = [self._fetch_hashes(staged) for staged, _done in shaped]  # once per record
        keys = {
            key
            for (_staged, done), own in zip(shaped, fetched, strict=True)
            for key in ({done.url_hash, *done.alias_hashes} if isinstance(done, PreparedArticle) else set())
            | own
        }
        purged = self._purged(keys)
        for (staged, done), mine in zip(shaped, fetched, strict=True):
            if isinstance(done, PreparedArticle):
                mine |= {done.url_hash, *done.alias_hashes}
            if not mine.isdisjoint(purged):
                self._reject(counts, staged.fetch_id, "purged: the URL was purged (newsflow purge)")
                continue
            if isinstance(done, Rejected):
                self._reject(counts, staged.fetch_id, str(done))
                continue
            prepared = done
            other = batch.get(prepared.url_hash)
            if other is None:
                batch[prepared.url_hash] = prepared
                continue
            # Two records of one article in a batch: the newest fetch wins, the earliest
            # sighting is kept, the other record counts as a duplicate.
            counts.duplicate += 1
            keep, drop = (
                (prepared, other)
                if (prepared.fetched_at, prepared.fetch_id) > (other.fetched_at, other.fetch_id)
                else (other, prepared)
            )
            keep.row["first_seen_at"] = min(keep.row["first_seen_at"], drop.row["first_seen_at"])
            keep.links.extend(drop.links)
            keep.alias_hashes |= drop.alias_hashes
            batch[prepared.url_hash] = keep
        return list(batch.values())

    # -- writing -----------------------------------------------------------------------------

    def _write(self, conn: Connection, batch: Sequence[PreparedArticle], now: datetime) -> _BatchResult:
        prefer_lz4(conn)
        upserted = upsert_articles(conn, batch, now, self.run_pk)
        stored, ids = upserted.stored, dict(upserted.ids)
        # Only rows the upsert left alone (nothing new about them) still need their ids.
        hashes = [p.url_hash for p in batch if p.url_hash not in ids]
        size = chunk_size(conn)
        for start in range(0, len(hashes), size):
            chunk = hashes[start : start + size]
            ids.update(
                (key, article_id)
                for article_id, key in conn.execute(
                    select(Article.id, Article.url_hash).where(member_of(conn, Article.url_hash, chunk))
                )
            )
        items = []
        for prepared in batch:
            done = stored.get(prepared.url_hash)
            sig = neardup.from_bytes(prepared.row["minhash"])
            if done is not None and sig is not None:
                items.append(neardup.Fingerprinted(done.article_id, sig, done.outcome == "updated"))
        neardup.take_turn(conn)
        joined = neardup.assign_clusters(conn, items, self.threshold)
        aliases = {alias: (ids[p.url_hash], p.fetched_at) for p in batch for alias in sorted(p.alias_hashes)}
        edges = crawl_edges(conn, self.run_pk, aliases)
        edges += [Edge(ids[p.url_hash], url, kind, p.fetched_at) for p in batch for url, kind in p.links]
        links = store_links(conn, edges)
        resolve_incoming(conn, [key for key, done in stored.items() if done.outcome == "new"])
        return _BatchResult(stored_hashes=[p.url_hash for p in batch], links=links, joined=joined)

    def _write_batch(self, batch: list[PreparedArticle], now: datetime) -> _BatchResult:
        def whole() -> _BatchResult:
            with self.engine.begin() as conn:
                return self._write(conn, batch, now)

        def one_by_one() -> _BatchResult:
            # Still one transaction; each article in a savepoint so a bad one is set aside.
            result = _BatchResult()
            with self.engine.begin() as conn:
                for prepared in batch:
                    try:
                        with conn.begin_nested():
                            part = self._write(conn, [prepared], now)
                    except (IntegrityError, DataError) as exc:
                        result.rejected.append((prepared, f"database refused: {exc.orig}"))
                        continue
                    result.stored_hashes += part.stored_hashes
                    result.links += part.links
                    result.joined += part.joined
            return result

        try:
            return with_retries(whole, f"run {self.run_id} batch")
        except (IntegrityError, DataError) as exc:
            log.warning("run %s: batch refused (%s); retrying record by record", self.run_id, exc.orig)
            return with_retries(one_by_one, f"run {self.run_id} batch (one by one)")

    # -- the loop ----------------------------------------------------------------------------

    def _prepared(self) -> Iterator[tuple[int, list[PreparedArticle], datetime, LoadCounts]]:
        """Pages read and shaped one step ahead in a thread, overlapping with the writes.

        The database works on batch n while Python parses, validates and fingerprints batch
        n+1; the queue holds one batch, so memory stays at two batches whatever the run size.
        """
        pipe: queue.Queue[Any] = queue.Queue(maxsize=1)
        stop = threading.Event()

        def put(item: Any) -> None:
            while not stop.is_set():
                try:
                    pipe.put(item, timeout=0.2)
                    return
                except queue.Full:
                    continue

        def produce() -> None:
            try:
                for rows in self._pages():
                    now, delta = utcnow(), LoadCounts()
                    put((len(rows), self._prepare(rows, now, delta), now, delta))
                    if stop.is_set():
                        return
                put(None)
            except BaseException as exc:
                put(exc)

        reader = threading.Thread(target=produce, name="load-reader", daemon=True)
        reader.start()
        try:
            while True:
                item = pipe.get()
                if item is None:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()
            reader.join(timeout=10)

    def run(self) -> LoadCounts:
        """Write every batch, ``writers`` transactions at a time, then derive the run counters.

        With one writer the batches are written in order on this thread. With more (PostgreSQL),
        each batch is still one transaction on its own pooled connection: the server computes
        the search vectors and index entries of two batches on two cores, then the batches take
        turns for clusters and links (:func:`neardup.take_turn`), exactly like concurrent loads.
        Results are taken in submission order and at most ``writers`` batches are in flight, so
        memory stays flat. A batch that shares an article with a batch in flight waits for it
        (and the batches before it) to commit, so each article's fetches are written in run
        order and its versions are the ones a serial load makes.
        """
        if self.writers == 1:
            for size, batch, now, delta in self._prepared():
                self.counts.merge(delta)
                self._account(size, self._write_batch(batch, now) if batch else None)
        else:
            with ThreadPoolExecutor(self.writers, thread_name_prefix="load-writer") as pool:
                inflight: deque[tuple[int, set[str], Future[_BatchResult] | None]] = deque()
                for size, batch, now, delta in self._prepared():
                    self.counts.merge(delta)
                    hashes = {p.url_hash for p in batch}
                    while any(not hashes.isdisjoint(other) for _, other, _ in inflight):
                        self._await(*inflight.popleft())
                    future = pool.submit(self._write_batch, batch, now) if batch else None
                    inflight.append((size, hashes, future))
                    while len(inflight) >= self.writers:
                        self._await(*inflight.popleft())
                while inflight:
                    self._await(*inflight.popleft())
        self._apply_removals()
        self._finish()
        return self.counts

    def _apply_removals(self) -> None:
        """Mark the articles of the run's removal signals removed (one transaction, after the records).

        After the records, so a story that a record of this run serves and a signal of this
        run removes is judged by the fetch times alone (the later one wins, see
        :mod:`pipeline.load.removals`), whatever order the batches committed in.
        """

        def read() -> Any:
            with self.engine.execution_options(read_only=True).connect() as conn:
                return removal_signals(conn, self.run_pk)

        signals = with_retries(read, f"run {self.run_id} removal signals")
        if not signals:
            return

        def write() -> int:
            with self.engine.begin() as conn:
                # Write first (SQLite queues writers only for transactions that start writing).
                conn.execute(update(CrawlRun).where(CrawlRun.id == self.run_pk).values(stage="load"))
                return apply_removals(conn, signals, utcnow(), self.run_pk)

        with_retries(write, f"run {self.run_id} removals")

    def _await(self, size: int, _hashes: set[str], future: Future[_BatchResult] | None) -> None:
        self._account(size, None if future is None else future.result())

    def _account(self, size: int, result: _BatchResult | None) -> None:
        """Fold one written batch into the counts (main thread only)."""
        counts = self.counts
        if result is not None:
            for prepared, reason in result.rejected:
                self._reject(counts, prepared.fetch_id, reason)
            for key in result.stored_hashes:
                short = int(key[:16], 16)
                if short in self._seen:
                    counts.duplicate += 1
                else:
                    self._seen.add(short)
            counts.links += result.links
            counts.near_duplicates += result.joined
        counts.batches += 1
        if self.progress is not None:
            self.progress(size)

    def _finish(self) -> None:
        def finish() -> None:
            with self.engine.begin() as conn:
                conn.execute(update(CrawlRun).where(CrawlRun.id == self.run_pk).values(stage="load"))
                first_versions = (
                    select(func.min(ArticleVersion.version).label("first"))
                    .where(ArticleVersion.run_id == self.run_pk, ArticleVersion.event != REMOVED)
                    .group_by(ArticleVersion.article_id)
                    .subquery()
                )
                removed = conn.execute(
                    select(func.count(func.distinct(ArticleVersion.article_id))).where(
                        ArticleVersion.run_id == self.run_pk, ArticleVersion.event == REMOVED
                    )
                ).scalar_one()
                new, updated = conn.execute(
                    select(
                        func.count().filter(first_versions.c.first == 1),
                        func.count().filter(first_versions.c.first > 1),
                    )
                ).one()
                counts = self.counts
                counts.new, counts.updated = int(new or 0), int(updated or 0)
                counts.removed = int(removed or 0)
                counts.unchanged = max(0, len(self._seen) - counts.new - counts.updated)
                stats = conn.execute(select(CrawlRun.stats).where(CrawlRun.id == self.run_pk)).scalar_one()
                conn.execute(
                    update(CrawlRun)
                    .where(CrawlRun.id == self.run_pk)
                    .values(
                        articles_new=counts.new,
                        articles_updated=counts.updated,
                        articles_unchanged=counts.unchanged,
                        articles_duplicate=counts.duplicate,
                        articles_rejected=counts.rejected,
                        stats={**(stats or {}), "load": counts.as_stats()},
                    )
                )

        with_retries(finish, f"run {self.run_id} counters")
        self._merge_search_index()

    def _merge_search_index(self) -> None:
        """Fold the GIN pending list into the search index once, after the last batch.

        The index queues new entries (up to 32 MB, see migration 0002) because merging them in
        bulk costs less than half of merging each batch's; rows are searchable either way, and
        this keeps searches after the load from scanning the queue.
        """
        if self.engine.dialect.name != "postgresql":
            return

        def merge() -> None:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT gin_clean_pending_list('ix_articles_search_vector'::regclass)"))
                conn.commit()

        with_retries(merge, f"run {self.run_id} search index")


def progress_bar(total: int, enabled: bool) -> AbstractContextManager[Callable[[int], None] | None]:
    """A rich progress bar on stderr (or nothing) that the loader advances per batch."""
    if not enabled:
        return nullcontext(None)
    from contextlib import contextmanager

    from rich.progress import Progress

    @contextmanager
    def bar() -> Iterator[Callable[[int], None]]:
        with Progress(transient=True) as progress:
            task = progress.add_task("loading", total=total)
            yield lambda n: progress.advance(task, n)

    return bar()
