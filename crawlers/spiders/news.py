"""The generic news spider: discovery surfaces in, one ``FetchItem`` per request out.

Driven entirely by a ``sources.yaml`` entry. The spider never yields requests from
callbacks; discovered URLs go to the :class:`~crawlers.frontier.Frontier` and ``start()``
feeds Scrapy from it as the downloader has room, which keeps memory flat on large sites and
makes ``max_pages`` exact. A site needing special handling can subclass and override
:meth:`NewsSpider.handle_page` (or the smaller hooks it calls).
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
from scrapy.http import HtmlResponse, Request, Response, TextResponse

from crawlers.archive import with_redirects
from crawlers.backfill import BackfillWindow
from crawlers.discovery import (
    looks_like_feed,
    robots_sitemaps,
)
from crawlers.errors import AlreadyClaimed, categorize_request, category_for_status, failure_exception
from crawlers.fence import WIDE_DISCOVERIES
from crawlers.frontier import PRIO_ARTICLE, PRIO_RELATED, PRIO_SURFACE, Frontier, Planned
from crawlers.items import Edge, FetchItem, archived_headers, http_header, http_headers
from crawlers.pages import MISSING, PageInfo, analyse, listing_links, parse_html, related_links
from crawlers.pagescan import PageScan, page_root
from crawlers.revisits import RevisitPlan, plan_revisits
from crawlers.scope import Scope, shape_is_article
from crawlers.spiders.surfaces import REVISIT, SurfaceHandling
from crawlers.state import REVISIT_DUE, Decision, Known, decide
from pipeline import clock
from pipeline.config import Source
from pipeline.rawstore import read_response
from pipeline.urls import url_hash

HTML_TYPES = ("text/html", "application/xhtml+xml")
#: Longest wait of ``start()`` for a nudge (a request leaving the downloader, a page done, a
#: URL queued) before it looks again anyway (progress lines, the idle watchdog).
WAKE_SECONDS = 0.1
SURFACE_DISCOVERY = ("feed", "sitemap", "seed")
#: Why a page that showed no article signals is still an article candidate.
VOUCHED_NOTE = "no article signals on the page; vouched by {}, so extraction judges it"


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


class NewsSpider(SurfaceHandling, scrapy.Spider):
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

    def seed_frontier(self) -> None:
        """Surfaces first; then the stored articles the revisit schedule says are due.

        A backfill reads feeds and sitemaps only: listings and seeds show today's site, and
        revisits judge today's pages, neither says anything about a past window.
        """
        d = self.source.discovery
        for url in d.feeds:
            self.add(str(url), "feed", role="feed", priority=PRIO_SURFACE, surface=True, incremental=False)
        for url in d.sitemaps:
            self.add(
                str(url), "sitemap", role="sitemap", priority=PRIO_SURFACE, surface=True, incremental=False
            )
        if d.robots_sitemaps:
            robots = str(self.source.homepage).rstrip("/") + "/robots.txt"
            self.add(robots, "sitemap", role="robots", priority=PRIO_SURFACE, surface=True, incremental=False)
        if self.window is not None:
            return
        self.plan_revisits()
        for url in d.listings:
            self.add(str(url), "listing", role="page", priority=PRIO_SURFACE, surface=True, incremental=False)
        for url in d.seeds:
            self.add(str(url), "seed", role="page", priority=PRIO_ARTICLE, surface=True)

    def plan_revisits(self) -> None:
        """Queue the stored articles due at the run's reference time (capped, most overdue first)."""
        self.revisits = plan_revisits(
            self.known,
            self.schedule,
            now=self.options.now,
            cap=self.source.limits.max_revisits_per_run,
            purged=self.purged,
        )
        self.counts["revisits_due"] = len(self.revisits.selected) + len(self.revisits.deferred)
        self.counts["revisits_deferred"] = len(self.revisits.deferred)
        for due in self.revisits.selected:
            self.add(
                due.url,
                REVISIT,
                hints={"due_at": due.due_at.isoformat()},
                refetch_reason=REVISIT_DUE,
            )

    def add(
        self,
        url: str,
        discovery: str,
        *,
        role: str = "page",
        referrer: str | None = None,
        depth: int = 0,
        listing_depth: int = 0,
        priority: int = PRIO_ARTICLE,
        hints: dict[str, Any] | None = None,
        published: datetime | None = None,
        updated: datetime | None = None,
        surface: bool = False,
        incremental: bool = True,
        refetch_reason: str | None = None,
    ) -> bool:
        """Queue a URL unless its canonical form was seen, it is purged, or it is stored and not due.

        A URL seen again keeps its first discovery, but later hints still count: a feed's
        ``updated`` date arriving after a listing linked the URL revives a skipped URL (and
        fills the hints of a queued one); so does ``refetch_reason`` (a scheduled revisit,
        an entry that vanished from a surface), which refetches a known URL conditionally.
        """
        if not url.startswith(("http://", "https://")):
            return False
        canonical = self.scope.usable(url)
        if canonical is None:  # unparseable (a broken IPv6 literal, a bad port): this link only
            self.counts["unusable_urls"] += 1
            return False
        refused = self.scope.fence.refusal(canonical, wide=discovery in WIDE_DISCOVERIES)
        if refused:
            self.counts["offsite_blocked"] += 1
            self.logger.info("fence: not queueing %s (%s): %s", canonical, discovery, refused)
            return False
        key = url_hash(canonical)
        if key in self.purged:
            if self.frontier.claim(canonical):
                self.counts["skipped_purged"] += 1
            return False
        if self.frontier.seen(canonical):
            self.counts["duplicate_urls"] += 1
            queued = self.pending.get(canonical)
            if queued is not None and hints:
                for hint, value in hints.items():
                    queued.hints.setdefault(hint, value)
            if canonical not in self.skipped or not (published or updated or refetch_reason):
                return False
        plan_hints = dict(hints or {})
        headers: dict[str, str] = {}
        if incremental:
            decision = self.plan(key, refetch_reason, published, updated)
            if decision.action == "skip":
                if canonical not in self.skipped:
                    self.frontier.claim(canonical)
                    self.skipped.add(canonical)
                    self.counts["skipped_known"] += 1
                return False
            headers = decision.request_headers()
            plan_hints["plan"] = decision.reason
        if canonical in self.skipped:
            self.skipped.discard(canonical)
            self.counts["skipped_known"] -= 1
        self.frontier.claim(canonical)
        planned = Planned(
            url=canonical,
            discovery=discovery,
            role=role,
            referrer=referrer,
            depth=depth,
            listing_depth=listing_depth,
            hints=plan_hints,
            headers=headers,
            surface=surface,
            priority=priority,
        )
        if role in ("feed", "sitemap", "robots"):
            self.surfaces_pending += 1
        if role == "page" and surface and discovery == "listing":
            # Listings wait until feeds and sitemaps are read, so that the URLs they share
            # are planned with the feed's dates (recrawl decisions need them).
            self.held_listings.append(planned)
        else:
            self.frontier.push(planned)
            self.pending[canonical] = planned
            self._nudge()
        return True

    def plan(
        self, key: str, refetch_reason: str | None, published: datetime | None, updated: datetime | None
    ) -> Decision:
        """The fetch/refetch/skip decision for a URL (see :func:`crawlers.state.decide`).

        A stored article the schedule says is due but that is not in the run's revisit plan
        waits (the cap keeps the run's politeness cost bounded; the plan took the most
        overdue); a backfill never revisits.
        """
        known = self.known.get(key)
        if refetch_reason is not None and known is not None and not (known.was_article and not known.stored):
            return Decision("refetch", refetch_reason, known)
        decision = decide(
            known,
            now=self.options.now,
            schedule=self.schedule,
            force=self.options.recrawl,
            published_hint=published,
            updated_hint=updated,
        )
        if decision.reason == REVISIT_DUE and known is not None:
            if self.window is not None:
                return Decision("skip", "backfill: no revisits", known)
            if known.stored and key not in self.revisits.selected_hashes:
                return Decision("skip", "revisit due, over max_revisits_per_run", known)
        return decision

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
            return self.handle_response(response, planned)
        except Exception as exc:  # a bug on one page must not end the run
            self.logger.exception("failed to handle %s", response.url)
            item = self.base_item(response, planned)
            item.outcome = "error"
            item.error_category = "other"
            item.error_message = f"crawler error: {type(exc).__name__}: {exc}"[:2000]
            return [item]
        finally:
            self._done(planned)

    def _done(self, planned: Planned) -> None:
        self.outstanding -= 1
        self._nudge()
        if planned.role in ("feed", "sitemap", "robots"):
            self.surfaces_pending -= 1

    def on_error(self, failure: Any) -> list[Any]:
        try:
            request: Request = failure.request
            planned: Planned = request.meta["nf"]
            exc = failure_exception(failure)
            item = FetchItem(
                url=planned.url,
                canonical_url=planned.url,
                discovery=planned.discovery,
                referrer=planned.referrer,
                depth=planned.depth,
                fetched_at=clock.now(),
                outcome="error",
                final_url=request.url,
                hints=with_redirects(planned.hints, request.meta),
                is_surface=planned.surface,
                duration_ms=int((time.monotonic() - request.meta.get("nf_started", time.monotonic())) * 1000),
            )
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
        finally:
            self._done(failure.request.meta["nf"])

    def base_item(self, response: Response, planned: Planned) -> FetchItem:
        started = response.meta.get("nf_started")
        latency = int((time.monotonic() - started) * 1000) if started else None
        redirected = self.scope.canonical(response.url)
        request_headers = http_headers(response.request.headers) if response.request is not None else []
        return FetchItem(
            url=planned.url,
            canonical_url=redirected,
            discovery=planned.discovery,
            referrer=planned.referrer,
            depth=planned.depth,
            fetched_at=clock.now(),
            outcome="fetched",
            final_url=response.url,
            status=response.status,
            request_headers=request_headers,
            response_headers=archived_headers(http_headers(response.headers), len(response.body)),
            body=response.body,
            duration_ms=latency,
            hints=with_redirects(planned.hints, response.meta),
            is_surface=planned.surface,
        )

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

    def is_html(self, response: Response) -> bool:
        ctype = (http_header(response.headers, "Content-Type") or "").lower()
        if ctype:
            return any(t in ctype for t in HTML_TYPES)
        head = response.body[:512].lstrip().lower()
        return head.startswith((b"<!doctype html", b"<html"))

    def handle_page(self, response: Response, planned: Planned, item: FetchItem) -> None:
        if not self.is_html(response):
            item.outcome = "error"
            item.error_category = "not_html"
            ctype = http_header(response.headers, "Content-Type") or "no Content-Type"
            item.error_message = f"not an HTML page ({ctype})"
            return
        if isinstance(response, HtmlResponse):
            root = page_root(response)  # the tree response.selector would parse, cheaper
        elif isinstance(response, TextResponse):
            root = response.selector.root
        else:
            root = parse_html(response.body)
        if root is None:
            item.outcome = "error"
            item.error_category = "other"
            item.error_message = "empty or unparseable HTML"
            return
        info = analyse(root, response.url)
        if response.meta.get("playwright"):
            item.hints["rendered"] = "browser"  # the body is the DOM after the page's scripts ran
        canonical = self.resolve_canonical(item, info, planned)
        item.canonical_url = canonical
        item.hints["signals"] = info.signals
        if info.title and "title" not in item.hints:
            item.hints["title"] = info.title[:500]
        if info.published and "published" not in item.hints:
            item.hints["published"] = info.published
        if item.hints.get("duplicate_of"):
            return
        if self.redirected_away(item, info, planned):
            return
        item.is_article_candidate = self.is_article(canonical, info, planned)
        if not item.is_article_candidate:
            voucher = self.voucher(canonical, planned)
            if voucher is not None:
                # A lost candidate (JS shell, empty page, new template) must count against the
                # extraction yield, not vanish before extraction: extraction judges it.
                item.is_article_candidate = True
                item.hints["vouched"] = VOUCHED_NOTE.format(voucher)
        if item.is_article_candidate:
            self.follow_related(root, response.url, canonical, planned, item, body=info.body, page=info.scan)
        elif planned.discovery in ("listing", "pagination"):
            self.follow_listing(root, response.url, planned, page=info.scan)

    def resolve_canonical(self, item: FetchItem, info: PageInfo, planned: Planned) -> str:
        """The page's canonical URL: the declared one when trustworthy, else the fetched URL.

        A declared canonical on another site (syndication) or pointing at a non-article
        (a site that declares its homepage everywhere) is ignored. When it names a URL this
        run has already claimed, the page is a duplicate and is not an article candidate.
        An AMP page hands over to its canonical page instead of standing in for it.
        """
        fetched = item.canonical_url
        if not info.canonical:
            return fetched
        declared = self.scope.usable(info.canonical)
        if declared is None:  # unparseable: the page keeps its fetched URL
            item.hints["declared_canonical"] = info.canonical[:500]
            return fetched
        if declared in (fetched, planned.url):
            return fetched
        if not self.scope.is_own(declared) or not self.scope.article_like(declared):
            item.hints["declared_canonical"] = declared
            return fetched
        if self.frontier.seen(declared) or info.amp:
            if not self.frontier.seen(declared):
                self.add(declared, "canonical", referrer=planned.url, depth=planned.depth, incremental=True)
            item.hints["duplicate_of"] = declared
            return declared
        self.frontier.claim(declared)
        return declared

    def voucher(self, canonical: str, planned: Planned) -> str | None:
        """Who vouches for a page being an article whatever its signals, or ``None``.

        A feed/sitemap entry (or a configured seed) and a stored article asked again are
        articles by the site's own word, unless the source's URL patterns say otherwise.
        """
        if self.scope.denied(canonical) or self.scope.url_verdict(canonical) is False:
            return None
        if planned.discovery in SURFACE_DISCOVERY:
            return f"the {planned.discovery}"
        if planned.discovery == REVISIT or self.is_stored(planned.url):
            return "an earlier fetch (a stored article)"
        return None

    def redirected_away(self, item: FetchItem, info: PageInfo, planned: Planned) -> bool:
        """A stored article that now redirects to a page that is no article (section front, home).

        Records the removal signal the load turns into ``articles.removed_at``; a redirect to
        another article (a moved story) is an ordinary fetch.
        """
        final = self.scope.canonical(item.final_url or planned.url)
        if final == planned.url or not self.is_stored(planned.url):
            return False
        as_link = Planned(url=final, discovery="listing", role="page")
        if self.is_article(final, info, as_link):
            return False
        item.hints["removal"] = f"redirected to {final}, which is not an article"
        item.is_article_candidate = False
        return True

    def is_article(self, canonical: str, info: PageInfo, planned: Planned) -> bool:
        """URL patterns first, then page signals; feeds/sitemaps vouch for their entries."""
        if self.scope.denied(canonical):
            return False
        verdict = self.scope.url_verdict(canonical)
        vouched = planned.discovery in SURFACE_DISCOVERY
        if verdict is True:
            threshold = 1
        elif verdict is False:
            if not vouched:
                return False
            threshold = 3
        else:
            threshold = 2 if vouched or shape_is_article(canonical) else 3
        return info.score >= threshold

    def follow_unchanged(self, planned: Planned, item: FetchItem) -> None:
        """A 304 has no body: follow the related links of the stored copy instead.

        Without this, an article reachable only through an unchanged article's related
        block would never be refetched (and its own changes never seen).
        """
        known = self.known.get(url_hash(planned.url))
        if known is None or known.body_location is None or not known.was_article:
            return
        try:
            stored = read_response(known.body_location)
        except (OSError, ValueError) as exc:
            self.logger.info(
                "stored copy of %s unreadable (%s); related links not followed", planned.url, exc
            )
            return
        root = parse_html(stored.body)
        if root is None:
            return
        item.hints["related_from"] = "stored copy"
        item.refers_to = stored.ref
        self.follow_related(root, stored.url, planned.url, planned, item)

    def follow_related(
        self,
        root: Any,
        url: str,
        canonical: str,
        planned: Planned,
        item: FetchItem,
        body: Any = MISSING,
        page: PageScan | None = None,
    ) -> None:
        # A backfill records the edges but follows none: related links show today's site.
        follow = planned.depth < self.options.related_depth and self.window is None
        seen: set[str] = set()
        for link in related_links(root, url, self.source.related.selectors, body, page):
            target = self.scope.usable(link.url)
            if target is None:
                self.counts["unusable_urls"] += 1
                continue
            if target in seen or target in (canonical, planned.url) or not self.scope.article_like(target):
                continue
            seen.add(target)
            item.edges.append(Edge(canonical, target, link.kind))
            if follow and self.scope.may_follow_related(target):
                self.add(
                    target,
                    "related",
                    referrer=canonical,
                    depth=planned.depth + 1,
                    priority=PRIO_RELATED + planned.depth,
                )

    def follow_listing(self, root: Any, url: str, planned: Planned, page: PageScan | None = None) -> None:
        max_pages = self.source.discovery.max_listing_pages
        for link in listing_links(root, url, page):
            if not self.scope.is_own(link.url):
                continue
            canonical = self.scope.usable(link.url)
            if canonical is None:
                self.counts["unusable_urls"] += 1
                continue
            if self.scope.article_like(canonical):
                self.counts["listed_articles"] += 1
                self.add(link.url, "listing", referrer=planned.url)
            elif link.kind == "pagination":
                if planned.listing_depth < max_pages:
                    self.add(
                        link.url,
                        "pagination",
                        referrer=planned.url,
                        listing_depth=planned.listing_depth + 1,
                        priority=PRIO_SURFACE,
                        incremental=False,
                    )
            elif link.kind == "nav" and planned.surface and planned.discovery == "listing":
                # Section fronts linked from a configured listing; their own nav is not followed.
                self.add(link.url, "listing", referrer=planned.url, priority=PRIO_SURFACE, incremental=False)
