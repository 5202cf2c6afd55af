"""Item pipeline: each ``FetchItem`` becomes a WARC request/response pair plus a ``fetches`` row.

Scrapy opens and closes it as an item pipeline; the spider hands it its items directly
(``NewsSpider.hand_over`` -> :meth:`RecordPipeline.record_item`), past Scrapy's per-item path.

A 304 becomes a request/``revisit`` pair naming the earlier full capture (see
:mod:`pipeline.rawstore`); its row keeps the earlier capture's validators and body hash and
points at it in ``hints.revisit_of`` (re-extraction reads that full response, never the revisit).

Raw first: the WARC record is written (one gzip member per record) before the row that
points at it, and the file is flushed before each batch of rows is committed, so every
committed row's ``(warc_path, warc_offset)`` is readable even after a crash. Rows and link
edges are inserted in batches, each batch in one transaction together with the run's
counters, so the run row always matches the rows written so far.
"""

from __future__ import annotations

import asyncio
import http
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, insert, update

from crawlers.items import ROBOTS_OUTCOME, FetchItem, archived_headers, http_header, http_headers
from crawlers.state import Known
from pipeline.db.engine import make_engine, session_scope
from pipeline.db.models import CrawlLink, CrawlRun, Fetch
from pipeline.rawstore import RunWarcWriter, WarcLocation, body_hash, read_ref
from pipeline.urls import url_hash

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.http import Request, Response

log = logging.getLogger(__name__)

# Core inserts of the tables: the ORM's bulk path costs twice as much CPU per row for the
# same statement (and the crawl wants no objects back).
FETCHES = cast(Table, Fetch.__table__)
CRAWL_LINKS = cast(Table, CrawlLink.__table__)


@dataclass
class RunContext:
    """Identifies the run the crawl writes into (handed to the spider by ``crawlers.run``)."""

    run_pk: int
    source_pk: int
    run_id: str
    database_url: str
    warc_path: str


def _reason(status: int) -> str:
    """The standard reason phrase of ``status`` for the archived status line ("" if unknown)."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


@dataclass
class Totals:
    """Running counters of the crawl, mirrored into the ``crawl_runs`` row."""

    fetched: int = 0
    failed: int = 0
    unchanged: int = 0
    skipped: int = 0
    changed: int = 0
    articles: int = 0
    bytes: int = 0
    links: int = 0
    surfaces: int = 0
    surfaces_ok: int = 0
    robots: int = 0
    redirect_hops: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    discovery: Counter[str] = field(default_factory=Counter)
    surface_errors: list[str] = field(default_factory=list)

    def add(self, item: FetchItem) -> None:
        if item.outcome == ROBOTS_OUTCOME:
            self.robots += 1  # archived and logged, but not a page of the run
            return
        self.discovery[item.discovery] += 1
        if item.outcome == "fetched":
            self.fetched += 1
        elif item.outcome == "not_modified":
            self.unchanged += 1
        elif item.outcome == "error":
            self.failed += 1
        else:
            self.skipped += 1
        if item.error_category:
            self.errors[item.error_category] += 1
        if item.is_article_candidate:
            self.articles += 1
        if item.hints.get("change") == "changed":
            self.changed += 1
        if item.body:
            self.bytes += len(item.body)
        if item.is_surface:
            self.surfaces += 1
            if item.outcome in ("fetched", "not_modified"):
                self.surfaces_ok += 1
            elif len(self.surface_errors) < 5:
                self.surface_errors.append(f"{item.url}: {item.error_category}: {item.error_message}")


class RecordPipeline:
    """Writes the raw store and the fetch log of one run."""

    flush_rows = 500
    flush_seconds = 2.0

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.totals = Totals()
        self._rows: list[dict[str, Any]] = []
        self._links: list[dict[str, Any]] = []
        self._link_keys: set[bytes] = set()  # 128-bit prefixes of both hashes, not the hex strings
        self._last_flush = time.monotonic()
        self._writer: RunWarcWriter | None = None
        self.failed: BaseException | None = None
        self._closing: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecordPipeline:
        return cls(crawler)

    @property
    def context(self) -> RunContext:
        ctx: RunContext = self.crawler.spider.run_context  # type: ignore[union-attr]
        return ctx

    def open_spider(self) -> None:
        ctx = self.context
        self.engine = make_engine(ctx.database_url)
        self._writer = RunWarcWriter(ctx.warc_path)
        self.crawler.spider.recorder = self  # type: ignore[union-attr]

    def process_item(self, item: Any) -> Any:
        if not isinstance(item, FetchItem):
            return item
        if self.failed is not None:
            return None
        try:
            self._record(item)
            if len(self._rows) >= self.flush_rows or time.monotonic() - self._last_flush > self.flush_seconds:
                self.flush()
        except Exception as exc:
            self.failed = exc
            log.exception("cannot record fetches; stopping the crawl")
            engine = self.crawler.engine
            if engine is not None:
                self._closing = asyncio.ensure_future(engine.close_spider_async(reason="recorder_failed"))
        item.body = None  # free the page now; the WARC has it
        return None

    def record_item(self, item: FetchItem) -> None:
        """Record a spider's item handed over directly (``NewsSpider.hand_over``).

        What Scrapy's item path would do with it, minus that path's per-item machinery;
        Scrapy's ``item_scraped_count`` still counts it (the crawl log's summary line).
        """
        self.process_item(item)
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value("item_scraped_count")

    def _record(self, item: FetchItem) -> None:
        known = getattr(self.crawler.spider, "known", {})
        key = url_hash(item.url)
        previous = known.get(key)
        location = None
        digest = None
        if item.body is not None and item.status is not None and self._writer is not None:
            digest = body_hash(item.body)
            location = self._archive(item, previous)
        if item.outcome == "fetched" and item.status == 200 and previous is not None:
            item.hints["change"] = "same" if previous.body_hash == digest else "changed"
        elif item.outcome == "fetched" and item.status == 200:
            item.hints["change"] = "new"
        elif item.outcome == "not_modified":
            item.hints["change"] = "same"
        headers = dict((k.lower(), v) for k, v in item.response_headers)
        etag = headers.get("etag")
        last_modified = headers.get("last-modified")
        if item.outcome == "not_modified" and previous is not None:
            # A 304 keeps the validators (and body) of the fetch it confirmed.
            etag = etag or previous.etag
            last_modified = last_modified or previous.last_modified
            digest = digest if item.body else previous.body_hash
        self.totals.add(item)
        ctx = self.context
        self._rows.append(
            {
                "run_id": ctx.run_pk,
                "source_id": ctx.source_pk,
                "url": item.url,
                "url_hash": key,
                "canonical_url": item.canonical_url,
                "final_url": item.final_url,
                "status": item.status,
                "content_type": (headers.get("content-type") or "")[:200] or None,
                "content_length": len(item.body) if item.body is not None else None,
                "etag": etag[:500] if etag else None,
                "last_modified": last_modified[:100] if last_modified else None,
                "fetched_at": item.fetched_at,
                "duration_ms": item.duration_ms,
                "discovery": item.discovery,
                "referrer": item.referrer,
                "depth": item.depth,
                "hints": item.hints,
                "is_article_candidate": item.is_article_candidate,
                "outcome": item.outcome,
                "warc_path": location.path if location else None,
                "warc_offset": location.offset if location else None,
                "warc_length": location.length if location else None,
                "body_hash": digest,
                "error_category": item.error_category,
                "error_message": item.error_message,
            }
        )
        from_hashes: dict[str, str] = {}  # an article's edges share their from_url
        for edge in item.edges:
            from_hash = from_hashes.get(edge.from_url)
            if from_hash is None:
                from_hash = from_hashes[edge.from_url] = url_hash(edge.from_url)
            pair = (from_hash, url_hash(edge.to_url))
            link_key = bytes.fromhex(pair[0][:32] + pair[1][:32])
            if link_key in self._link_keys:
                continue
            self._link_keys.add(link_key)
            self.totals.links += 1
            self._links.append(
                {
                    "run_id": ctx.run_pk,
                    "from_url": edge.from_url,
                    "from_url_hash": pair[0],
                    "to_url": edge.to_url,
                    "to_url_hash": pair[1],
                    "kind": edge.kind,
                }
            )

    def _archive(self, item: FetchItem, previous: Known | None) -> WarcLocation:
        """The WARC record pair of one exchange: a revisit for a 304, else the response."""
        assert self._writer is not None and item.body is not None and item.status is not None
        url = item.final_url or item.url
        if item.status != 304:
            return self._writer.write_exchange(
                url=url,
                method=item.method,
                request_headers=item.request_headers,
                status=item.status,
                reason=_reason(item.status),
                response_headers=item.response_headers,
                body=item.body,
                fetched_at=item.fetched_at,
            )
        refers_to = item.refers_to
        if previous is not None and previous.body_location is not None:
            path, offset = previous.body_location
            item.hints["revisit_of"] = {"warc_path": path, "warc_offset": offset}
            if refers_to is None:
                try:
                    refers_to = read_ref(previous.body_location)
                except (OSError, ValueError) as exc:  # pruned or damaged: a revisit without target
                    log.info("earlier capture of %s unreadable (%s)", url, exc)
        return self._writer.write_revisit(
            url=url,
            method=item.method,
            request_headers=item.request_headers,
            status=item.status,
            reason=_reason(item.status),
            response_headers=item.response_headers,
            refers_to=refers_to,
            fetched_at=item.fetched_at,
        )

    def archive_hop(self, request: Request, response: Response) -> dict[str, Any] | None:
        """Archive a redirect response (as received) and return its entry for ``hints.redirects``."""
        if self._writer is None or self.failed is not None:
            return None
        body = response.body
        location = self._writer.write_exchange(
            url=response.url,
            method=request.method,
            request_headers=http_headers(request.headers),
            status=response.status,
            reason=_reason(response.status),
            response_headers=archived_headers(http_headers(response.headers), len(body), decoded=False),
            body=body,
        )
        self.totals.redirect_hops += 1
        return {
            "url": response.url,
            "status": response.status,
            "location": http_header(response.headers, "Location"),
            "warc_path": location.path,
            "warc_offset": location.offset,
            "warc_length": location.length,
        }

    def counters(self) -> dict[str, Any]:
        t = self.totals
        return {
            "pages_fetched": t.fetched,
            "pages_failed": t.failed,
            "pages_unchanged": t.unchanged,
            "errors_by_category": dict(sorted(t.errors.items())),
        }

    def crawl_stats(self) -> dict[str, Any]:
        spider: Any = self.crawler.spider
        t = self.totals
        stats: dict[str, Any] = {
            "article_candidates": t.articles,
            "changed": t.changed,
            "skipped": t.skipped,
            "bytes": t.bytes,
            "links": t.links,
            "by_discovery": dict(sorted(t.discovery.items())),
            "surfaces": t.surfaces,
            "surfaces_ok": t.surfaces_ok,
            "robots_txt": t.robots,
            "redirect_hops": t.redirect_hops,
        }
        if spider is not None and hasattr(spider, "frontier"):
            stats["requests_issued"] = spider.frontier.issued
            stats["over_budget"] = spider.frontier.over_budget
            stats.update(dict(spider.counts))
        window = getattr(spider, "window", None)
        if window is not None:
            stats["backfill"] = window.report(dict(spider.counts))
        return stats

    def flush(self) -> None:
        rows, links = self._rows, self._links
        self._rows, self._links = [], []
        self._last_flush = time.monotonic()
        if self._writer is not None:
            self._writer.flush()  # raw first: the records before the rows that point at them
        with session_scope(self.engine) as session:
            if rows:
                session.execute(insert(FETCHES), rows)
            if links:
                session.execute(insert(CRAWL_LINKS), links)
            session.execute(
                update(CrawlRun).where(CrawlRun.id == self.context.run_pk).values(**self.counters())
            )

    def close_spider(self) -> None:
        if self._writer is not None:
            self._writer.close()  # flushes: raw first, then the last rows
            self._writer = None
        if self.failed is None:
            try:
                self.flush()
            except Exception as exc:
                self.failed = exc
                log.exception("cannot record the last fetches")
        self.engine.dispose()
