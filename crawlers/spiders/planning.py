"""Planning a crawl: which URLs go into the frontier, and with which request headers.

A mixin of :class:`crawlers.spiders.news.NewsSpider`, kept apart so the spider module stays
about feeding Scrapy and handing responses on. Everything that discovers a URL (a surface,
a page, the revisit schedule) calls :meth:`Planning.add`, which canonicalises it, checks the
fence, de-duplicates it against the run's frontier and decides fetch / conditional refetch /
skip from what earlier runs know (:func:`crawlers.state.decide`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from crawlers.backfill import BackfillWindow
from crawlers.fence import WIDE_DISCOVERIES
from crawlers.frontier import PRIO_ARTICLE, PRIO_SURFACE, Frontier, Planned
from crawlers.revisits import RevisitPlan, plan_revisits
from crawlers.scope import Scope
from crawlers.spiders.surfaces import REVISIT
from crawlers.state import REVISIT_DUE, Decision, Known, decide
from pipeline.config import Source
from pipeline.urls import url_hash

if TYPE_CHECKING:
    from scrapy.utils.log import SpiderLoggerAdapter


class Planning:
    """Seeding and growing the frontier; the spider provides the state."""

    source: Source
    scope: Scope
    options: Any  # the spider's CrawlOptions
    known: dict[str, Known]
    purged: frozenset[str]
    schedule: list[timedelta]
    window: BackfillWindow | None
    revisits: RevisitPlan
    frontier: Frontier
    counts: Counter[str]
    pending: dict[str, Planned]
    skipped: set[str]
    held_listings: list[Planned]
    surfaces_pending: int
    _nudge: Callable[..., None]

    if TYPE_CHECKING:  # scrapy.Spider's, read here

        @property
        def logger(self) -> SpiderLoggerAdapter: ...

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
