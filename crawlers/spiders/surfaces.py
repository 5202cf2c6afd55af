"""Reading discovery surfaces: feeds and sitemaps (gzipped too), and entries that vanished.

A mixin of :class:`crawlers.spiders.news.NewsSpider`, kept apart so the spider module stays
about scheduling and pages. Everything here turns a surface's bytes into calls of the
spider's ``add``: entries to fetch, sub-sitemaps, and stored articles to ask again because
the surface dropped them since its previous capture (how a retraction shows first).
"""

from __future__ import annotations

import logging
import zlib
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta

from scrapy.http import Response

from crawlers.backfill import BackfillWindow
from crawlers.discovery import Entry, looks_like_feed, looks_like_sitemap, parse_feed, parse_sitemap
from crawlers.frontier import PRIO_SURFACE, Planned
from crawlers.items import FetchItem, http_header
from crawlers.scope import Scope
from crawlers.state import Known
from crawlers.surfaces import TooLarge, gunzip, is_gzip, vanished
from pipeline.config import Source
from pipeline.rawstore import read_response
from pipeline.urls import url_hash

#: Discovery of a stored article asked again (the schedule, or it vanished from a surface).
REVISIT = "revisit"

log = logging.getLogger(__name__)


class SurfaceHandling:
    """Feed/sitemap handling; the spider provides the state and ``add``."""

    source: Source
    scope: Scope
    known: dict[str, Known]
    window: BackfillWindow | None
    counts: Counter[str]
    now: datetime  # the run's reference time
    add: Callable[..., bool]  # the spider's NewsSpider.add

    def is_stored(self, url: str) -> bool:
        if not self.known:  # a source's first run: no hash to compute
            return False
        known = self.known.get(url_hash(url))
        return known is not None and known.stored

    def surface_body(self, response: Response, item: FetchItem) -> bytes | None:
        """A feed's or sitemap's XML: gunzipped when served as a gzip file; ``None`` on error."""
        body = response.body
        ctype = http_header(response.headers, "Content-Type")
        if not is_gzip(response.url, ctype, body):
            return body
        try:
            body = gunzip(body, self.source.politeness.max_response_bytes)
        except TooLarge as exc:
            item.outcome = "error"
            item.error_category = "too_large"
            item.error_message = str(exc)
            return None
        except (OSError, zlib.error, EOFError) as exc:  # BadGzipFile is an OSError
            item.outcome = "error"
            item.error_category = "other"
            item.error_message = f"not a valid gzip file: {exc}"[:2000]
            return None
        item.hints["gzip"] = True
        return body

    def previous_entries(self, surface_url: str) -> list[Entry] | None:
        """The entries of the surface's previous capture (from the WARC); ``None`` if unreadable."""
        known = self.known.get(url_hash(surface_url))
        if known is None or known.body_location is None:
            return None
        try:
            stored = read_response(known.body_location)
            body = stored.body
            if is_gzip(stored.url, stored.header("Content-Type"), body):
                body = gunzip(body, self.source.politeness.max_response_bytes)
        except (OSError, ValueError, zlib.error, EOFError) as exc:  # pruned, damaged: no comparison
            log.info("previous capture of %s unreadable (%s)", surface_url, exc)
            return None
        if looks_like_feed(body):
            return parse_feed(body, stored.url)
        if looks_like_sitemap(body):
            page = parse_sitemap(body, stored.url)
            return page.entries if page.kind == "urlset" else None
        return None

    def refetch_vanished(self, surface_url: str, current: list[Entry], item: FetchItem) -> None:
        """Refetch stored articles the surface listed last time and dropped since (a retraction?)."""
        if self.window is not None:
            return  # a backfill compares nothing with today's surfaces
        previous = self.previous_entries(surface_url)
        if not previous:
            return
        gone = 0
        for entry in vanished(previous, current, lambda u: self.scope.usable(u) or u):
            canonical = self.scope.usable(entry.url)
            if canonical is None or not self.is_stored(canonical) or not self.scope.is_own(canonical):
                continue
            gone += 1
            reason = f"vanished from {surface_url}"
            self.add(
                canonical,
                REVISIT,
                referrer=surface_url,
                hints={"vanished_from": surface_url},
                refetch_reason=reason,
            )
        if gone:
            item.hints["vanished"] = gone
            self.counts["vanished_entries"] += gone

    def _too_old(self, entry: Entry) -> bool:
        max_age = self.source.discovery.max_age_days
        newest = entry.newest()
        return bool(max_age and newest and newest < self.now - timedelta(days=max_age))

    def _add_entry(self, entry: Entry, discovery: str, referrer: str) -> None:
        if self.scope.denied(entry.url) or not self.scope.is_own(entry.url):
            self.counts["skipped_offsite_entries"] += 1
            return
        self.counts["listed_articles"] += 1
        if self.window is not None and not self.window.admits(entry, referrer):
            return
        if self._too_old(entry):
            self.counts["skipped_old_entries"] += 1
            return
        added = self.add(
            entry.url,
            discovery,
            referrer=referrer,
            hints=entry.hint_dict(),
            published=entry.published,
            updated=entry.updated,
        )
        if self.window is not None:
            self.counts["backfill_requested" if added else "backfill_stored"] += 1

    def handle_feed(self, body: bytes, url: str, planned: Planned, item: FetchItem) -> None:
        entries = parse_feed(body, url)
        item.hints["entries"] = len(entries)
        for entry in entries:
            self._add_entry(entry, "feed", planned.url)
        self.refetch_vanished(planned.url, entries, item)

    def handle_sitemap(self, body: bytes, url: str, planned: Planned, item: FetchItem) -> None:
        if not looks_like_sitemap(body):
            item.outcome = "error"
            item.error_category = "other"
            item.error_message = "not a sitemap (no <urlset> or <sitemapindex>)"
            return
        page = parse_sitemap(body, url)
        item.hints["entries"] = len(page.entries)
        item.hints["sitemap"] = page.kind
        for entry in page.entries:
            if page.kind == "index":
                if self.window is not None and not self.window.covers(entry):
                    self.counts["backfill_sitemaps_skipped"] += 1
                elif not self._too_old(entry):
                    self.add(
                        entry.url,
                        "sitemap",
                        role="sitemap",
                        referrer=planned.url,
                        priority=PRIO_SURFACE,
                        incremental=False,
                    )
            else:
                self._add_entry(entry, "sitemap", planned.url)
        if page.kind == "urlset":
            self.refetch_vanished(planned.url, page.entries, item)
