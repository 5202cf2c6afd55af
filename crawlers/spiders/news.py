"""The generic news spider: discovery surfaces in, one ``FetchItem`` per request out.

Driven entirely by a ``sources.yaml`` entry. The spider never yields requests from
callbacks; discovered URLs go to the :class:`~crawlers.frontier.Frontier` and ``start()``
feeds Scrapy from it as the downloader has room, which keeps memory flat on large sites and
makes ``max_pages`` exact. A site needing special handling can subclass and override
:meth:`NewsSpider.handle_page` (or the smaller hooks it calls).

The spider is four modules with one concern each: this one feeds Scrapy from the frontier
and hands responses and failures on; :mod:`crawlers.spiders.planning` decides what enters
the frontier; :mod:`crawlers.spiders.pages` judges HTML pages and follows their links;
:mod:`crawlers.spiders.surfaces` reads feeds and sitemaps.
"""

from __future__ import annotations

import asyncio
import http
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import scrapy
from scrapy import signals
from scrapy.http import Request, Response

from crawlers.archive import with_redirects
from crawlers.backfill import BackfillWindow
from crawlers.discovery import looks_like_feed, robots_sitemaps
from crawlers.errors import AlreadyClaimed, categorize_request, category_for_status, failure_exception
from crawlers.frontier import PRIO_SURFACE, Frontier, Planned
from crawlers.items import FetchItem, archived_headers, http_headers
from crawlers.recorder import RecordPipeline
from crawlers.revisits import RevisitPlan
from crawlers.scope import Scope
from crawlers.spiders.pages import PageHandling
from crawlers.spiders.planning import Planning
from crawlers.spiders.surfaces import SurfaceHandling
from crawlers.state import Known
from pipeline import clock
from pipeline.config import Source
from pipeline.urls import url_hash

#: Longest wait of ``start()`` for a nudge (a request leaving the downloader, a page done, a
#: URL queued) before it looks again anyway (progress lines, the idle watchdog).
WAKE_SECONDS = 0.1


@dataclass
class CrawlOptions:
    """Per-run knobs (CLI/Airflow params override the source config)."""

    max_pages: int
    related_depth: int
    recrawl: bool = False
    now: datetime = field(default_factory=clock.now)  # the run's reference time (window end)
    backfill: bool = False  # read only feeds/sitemaps, keep entries dated in [window_start, now)
    window_start: datetime | None = None
    progress_every: float = 1.0
    idle_timeout: float = 30.0


class NewsSpider(Planning, PageHandling, SurfaceHandling, scrapy.Spider):
    """One spider for every ordinary news site, configured by a :class:`Source`."""

    name = "news"

    def __init__(
        self,
        *,
        source: Source,
        scope: Scope,
        options: CrawlOptions,
        known: dict[str, Known] | None = None,
        purged: frozenset[str] = frozenset(),
        on_progress: Callable[[dict[str, Any]], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(name=f"news-{source.key}", **kwargs)
        self.source = source
        self.scope = scope
        self.options = options
        self.now = options.now
        self.known = known or {}
        self.purged = purged | {key for key, k in self.known.items() if k.purged}
        self.schedule = source.limits.revisit_ages()
        self.window = BackfillWindow(options.window_start, options.now) if options.backfill else None
        self.revisits = RevisitPlan([], [])
        self.on_progress = on_progress
        self.frontier = Frontier(options.max_pages)
        self.outstanding = 0
        self.counts: Counter[str] = Counter()
        self.pending: dict[str, Planned] = {}  # queued, not yet requested
        self.skipped: set[str] = set()  # stored, unchanged, old: not requested (yet)
        self.held_listings: list[Planned] = []
        self.surfaces_pending = 0  # feeds/sitemaps queued or in flight
        self._waiter: asyncio.Future[None] | None = None  # start() waiting for a nudge
        self.recorder: RecordPipeline | None = None  # set when the recorder opens

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> NewsSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._request_dropped, signal=signals.request_dropped)
        crawler.signals.connect(spider._nudge, signal=signals.request_left_downloader)
        return spider

    def _request_dropped(self, request: Request, spider: Any = None) -> None:
        if "nf" in request.meta:
            self._done(request.meta["nf"])

    # -- scheduling -------------------------------------------------------------------------

    def make_request(self, planned: Planned) -> Request:
        meta: dict[str, Any] = {"nf": planned, "nf_started": time.monotonic()}
        if planned.role == "robots":
            meta["dont_obey_robotstxt"] = True
        elif planned.role == "page" and self.source.render == "browser":
            from crawlers.render import render_meta

            meta.update(render_meta())
        return Request(
            planned.url,
            callback=self.parse_response,
            errback=self.on_error,
            dont_filter=True,
            headers=planned.headers or None,
            meta=meta,
            priority=-planned.priority,
        )

    async def start(self) -> AsyncIterator[Any]:
        self.seed_frontier()
        engine = self.crawler.engine
        last_progress = 0.0
        idle_since: float | None = None
        while True:
            now = time.monotonic()
            if now - last_progress >= self.options.progress_every:
                last_progress = now
                self.emit_progress()
            if engine is not None and engine.needs_backout():
                await self._wait_for_nudge()
                continue
            if self.held_listings and (self.surfaces_pending <= 0 or self.frontier.budget_left <= 0):
                for listing in self.held_listings:
                    self.frontier.push(listing)
                    self.pending[listing.url] = listing
                self.held_listings.clear()
            planned = self.frontier.pop()
            if planned is not None:
                self.pending.pop(planned.url, None)
            if planned is None:
                if self.outstanding <= 0 and not self.held_listings:
                    break
                idle_since = self._watch_idle(idle_since)
                if idle_since is not None and now - idle_since > self.options.idle_timeout:
                    if self.held_listings:  # a surface never reported back: go on without it
                        self.surfaces_pending = 0
                        idle_since = None
                        continue
                    self.logger.error("%d requests never completed; finishing the run", self.outstanding)
                    break
                await self._wait_for_nudge()
                continue
            idle_since = None
            self.outstanding += 1
            yield self.make_request(planned)
        self.emit_progress()

    async def _wait_for_nudge(self) -> None:
        """Sleep until something may have changed (:meth:`_nudge`), at most :data:`WAKE_SECONDS`.

        ``start()`` used to poll (every 5 ms while the downloader was full, every 10 ms while
        the frontier was empty): ~6 sleeps per page, two thirds of the event loop's turns and
        each one a timer, an ``epoll_wait`` and a resume of the whole start-request chain.
        Now it wakes when a request leaves the downloader, a page is done or a URL is queued.
        """
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiter = waiter
        timer = loop.call_later(WAKE_SECONDS, self._nudge)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None

    def _nudge(self, *_: Any, **__: Any) -> None:
        """Wake ``start()`` if it waits (signal handler, also called by the spider itself)."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def _watch_idle(self, idle_since: float | None) -> float | None:
        engine = self.crawler.engine
        busy = engine is not None and (
            engine.downloader.active
            or (engine._slot is not None and engine._slot.scheduler.has_pending_requests())
            or (engine.scraper.slot is not None and not engine.scraper.slot.is_idle())
        )
        if busy:
            return None
        return idle_since if idle_since is not None else time.monotonic()

    def emit_progress(self) -> None:
        if self.on_progress is not None:
            self.on_progress(
                {
                    "issued": self.frontier.issued,
                    "queued": len(self.frontier),
                    "in_flight": self.outstanding,
                    "skipped_known": self.counts["skipped_known"],
                }
            )

    # -- responses --------------------------------------------------------------------------

    def parse_response(self, response: Response) -> list[Any]:
        planned: Planned = response.meta["nf"]
        try:
            return self.hand_over(self.response_items(response, planned))
        finally:
            self._done(planned)

    def response_items(self, response: Response, planned: Planned) -> list[Any]:
        try:
            return self.handle_response(response, planned)
        except Exception as exc:  # a bug on one page must not end the run
            self.logger.exception("failed to handle %s", response.url)
            item = self.base_item(response, planned)
            item.outcome = "error"
            item.error_category = "other"
            item.error_message = f"crawler error: {type(exc).__name__}: {exc}"[:2000]
            return [item]

    def hand_over(self, output: list[Any]) -> list[Any]:
        """Record the callback's items here; give Scrapy back only what it must handle.

        A ``FetchItem`` goes straight to the recorder instead of through Scrapy's item path
        (a coroutine per item through the pipeline chain, the "scraped" log record, the
        ``item_scraped`` signal): the same ``RecordPipeline.process_item`` call, about a
        tenth of the crawler's CPU per page less. Anything else (a subclass yielding a
        request) and every item while no recorder is open go the usual way.
        """
        recorder = self.recorder
        if recorder is None:
            return output
        rest = []
        for out in output:
            if isinstance(out, FetchItem):
                recorder.record_item(out)
            else:
                rest.append(out)
        return rest

    def _done(self, planned: Planned) -> None:
        self.outstanding -= 1
        self._nudge()
        if planned.role in ("feed", "sitemap", "robots"):
            self.surfaces_pending -= 1

    def on_error(self, failure: Any) -> list[Any]:
        try:
            return self.hand_over(self.failure_items(failure))
        finally:
            self._done(failure.request.meta["nf"])

    def failure_items(self, failure: Any) -> list[Any]:
        request: Request = failure.request
        planned: Planned = request.meta["nf"]
        exc = failure_exception(failure)
        item = self.planned_item(planned, request.meta, outcome="error", final_url=request.url)
        if isinstance(exc, AlreadyClaimed):
            item.outcome = "skipped"
            item.error_message = str(exc)
            target = self.scope.canonical(request.url)
            if self.is_stored(planned.url) and not self.scope.article_like(target):
                # A stored story now redirects to a page this run fetches anyway (the
                # homepage, a section front): judged by its URL, it is a removal.
                item.hints["removal"] = f"redirected to {target}, which is not an article"
            return [item]
        category, message = categorize_request(exc, request.url)
        item.error_category = category
        item.error_message = message[:2000]
        if category in ("robots", "offsite"):
            item.outcome = "skipped"
        return [item]

    def planned_item(
        self,
        planned: Planned,
        meta: dict[str, Any],
        *,
        outcome: str,
        final_url: str,
    ) -> FetchItem:
        """The fetch row of one planned request, as far as the request decides it.

        The one place both a response (:meth:`base_item`) and a failure
        (:meth:`failure_items`) start from: URL, discovery, referrer, depth, time, duration,
        hints (plus the redirect hops archived on the way) and the surface flag. A request
        without ``nf_started`` (not made by :meth:`make_request`) has no known duration.
        """
        started = meta.get("nf_started")
        return FetchItem(
            url=planned.url,
            canonical_url=planned.url,
            discovery=planned.discovery,
            referrer=planned.referrer,
            depth=planned.depth,
            fetched_at=clock.now(),
            outcome=outcome,
            final_url=final_url,
            duration_ms=int((time.monotonic() - started) * 1000) if started else None,
            hints=with_redirects(planned.hints, meta),
            is_surface=planned.surface,
        )

    def base_item(self, response: Response, planned: Planned) -> FetchItem:
        item = self.planned_item(planned, response.meta, outcome="fetched", final_url=response.url)
        item.canonical_url = self.scope.canonical(response.url)
        item.status = response.status
        if response.request is not None:
            item.request_headers = http_headers(response.request.headers)
        item.response_headers = archived_headers(http_headers(response.headers), len(response.body))
        item.body = response.body
        return item

    def handle_response(self, response: Response, planned: Planned) -> list[Any]:
        item = self.base_item(response, planned)
        status = response.status
        if status == 304:
            item.outcome = "not_modified"
            if planned.role == "page":
                # A stored article confirmed unchanged: seen this run (the quality gate counts it).
                known = self.known.get(url_hash(planned.url))
                item.is_article_candidate = known is not None and (known.stored or known.was_article)
                self.follow_unchanged(planned, item)
            return [item]
        category = category_for_status(status)
        if category is not None:
            item.outcome = "error"
            item.error_category = category
            item.error_message = f"HTTP {status} after retries" if status >= 500 else f"HTTP {status}"
            if status in (404, 410) and planned.role == "page" and self.is_stored(planned.url):
                item.hints["removal"] = f"HTTP {status} {http.HTTPStatus(status).phrase}"
            return [item]
        if status >= 300:
            item.outcome = "error"
            item.error_category = "other"
            item.error_message = f"HTTP {status} without a usable Location"
            return [item]
        if planned.role in ("feed", "sitemap"):
            body = self.surface_body(response, item)
            if body is None:
                return [item]
            if planned.role == "feed" or looks_like_feed(body):
                self.handle_feed(body, response.url, planned, item)
            else:
                self.handle_sitemap(body, response.url, planned, item)
        elif planned.role == "robots":
            for sitemap in robots_sitemaps(response.body, response.url):
                self.add(sitemap, "sitemap", role="sitemap", priority=PRIO_SURFACE, incremental=False)
        else:
            self.handle_page(response, planned, item)
        return [item]
