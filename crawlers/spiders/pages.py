"""Handling an HTML page: is it an article candidate, and which of its links to follow.

A mixin of :class:`crawlers.spiders.news.NewsSpider`, kept apart so the spider module stays
about feeding Scrapy and handing responses on. :meth:`PageHandling.handle_page` analyses the
page once (:func:`crawlers.page_analysis.analyse`), settles its canonical URL, judges it (URL
patterns, page signals, who vouches for it) and follows related links of an article or the
links of a listing through the spider's ``add``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from scrapy.http import HtmlResponse, Response, TextResponse

from crawlers.backfill import BackfillWindow
from crawlers.frontier import PRIO_RELATED, PRIO_SURFACE, Frontier, Planned
from crawlers.items import Edge, FetchItem, http_header
from crawlers.page_analysis import MISSING, PageInfo, analyse, listing_links, parse_html, related_links
from crawlers.pagescan import PageScan, page_root
from crawlers.scope import Scope, shape_is_article
from crawlers.spiders.surfaces import REVISIT
from crawlers.state import Known
from pipeline.config import Source
from pipeline.rawstore import read_response
from pipeline.urls import url_hash

if TYPE_CHECKING:
    from scrapy.utils.log import SpiderLoggerAdapter

HTML_TYPES = ("text/html", "application/xhtml+xml")
SURFACE_DISCOVERY = ("feed", "sitemap", "seed")
#: Why a page that showed no article signals is still an article candidate.
VOUCHED_NOTE = "no article signals on the page; vouched by {}, so extraction judges it"


class PageHandling:
    """HTML pages and their links; the spider provides the state, ``add`` and ``is_stored``."""

    source: Source
    scope: Scope
    options: Any  # the spider's CrawlOptions
    known: dict[str, Known]
    window: BackfillWindow | None
    frontier: Frontier
    counts: Counter[str]
    add: Callable[..., bool]
    is_stored: Callable[[str], bool]

    if TYPE_CHECKING:  # scrapy.Spider's, read here

        @property
        def logger(self) -> SpiderLoggerAdapter: ...

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
