"""The crawl's fence: every request is checked where it is downloaded, whatever produced it.

A source's pages are untrusted: a 302, a sitemap index, a robots.txt ``Sitemap:`` line, a
feed entry, a related link, ``<base href>`` or a meta refresh can all point anywhere, and a
check in each of those places is one forgotten place away from a leak. So the one check
sits in a downloader middleware (:class:`FenceMiddleware`), which Scrapy runs for every
request it downloads: the spider's own, every redirect hop and meta refresh (Scrapy
schedules them as new requests) and robots.txt. It refuses, in this order:

1. a URL without a usable host (unparseable, broken IPv6 literal, bad port) or not http(s)
   (``offsite``);
2. an IP-literal host no ``allow_private_networks`` entry could ever open: link-local
   (cloud metadata), unspecified, multicast (``blocked_network``, no DNS needed);
3. a host outside the source's scope (``offsite``): its ``allowed_domains`` and the hosts of
   its configured discovery URLs; related links (and revisits of what they stored) may
   also go where ``related.scope`` allows (``configured_sources``: the other sources'
   domains, ``any``: anywhere). No DNS lookup is made for a host refused here;
4. an address (literal, or what the host name resolves to through the crawl's pinned
   resolver, see :mod:`crawlers.guard`) that is not public and not listed in
   ``allow_private_networks`` with this port (``blocked_network``).

Hosts are compared in their normalised spelling (:mod:`pipeline.hosts`): ``2130706433``,
``0x7f.1`` and ``[::ffff:127.0.0.1]`` are ``127.0.0.1``; ``http://allowed@evil/`` is
``evil``; ports count (``127.0.0.1:8701`` admits no other port). Refusals are logged, counted
(``offsite_blocked`` / ``network_blocked`` in the run's crawl stats) and never fetched.
"""

from __future__ import annotations

import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from scrapy.exceptions import IgnoreRequest

from crawlers.guard import BlockedNetwork, NetworkGuard, policy_from_settings, refusal_message
from pipeline.hosts import url_target
from pipeline.urls import SiteIndex, same_site

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

    from pipeline.config import Source

log = logging.getLogger(__name__)

#: Discoveries that may leave the source's own hosts as far as ``related.scope`` allows.
WIDE_DISCOVERIES = frozenset({"related", "revisit"})
SCHEMES = ("http", "https")


class OffsiteRequest(IgnoreRequest):
    """The request leaves the source's scope (or has no usable URL)."""


class Fence:
    """The scope half of the fence: which hosts one source's crawl may request."""

    def __init__(self, source: Source, others: list[Source] | tuple[Source, ...] = ()) -> None:
        own = list(source.allowed_domains)
        for url in [str(source.homepage), *source.all_start_urls()]:
            try:
                own.append(url_target(url).authority)
            except ValueError:
                continue
        self.own = own
        self.scope = source.related.scope
        # Hosts of every configured source, for related.scope configured_sources: indexed, as
        # one same_site over thousands of sources' domains cost milliseconds per request.
        self.wide: SiteIndex[bool] = SiteIndex()
        self.wide.add(own + [d for o in others if o.key != source.key for d in o.allowed_domains], True)
        # Every URL the crawl plans or requests is asked about, and a site's links recur on
        # page after page: a bounded cache of the verdicts (a pure function of URL and width).
        self.refusal = lru_cache(maxsize=16384)(self._refusal)  # type: ignore[method-assign]

    def refusal(self, url: str, *, wide: bool = False) -> str | None:
        """Why ``url`` is outside the fence (``None``: inside); ``wide`` for related links."""
        return self._refusal(url, wide=wide)

    def _refusal(self, url: str, *, wide: bool = False) -> str | None:
        try:
            target = url_target(url)
        except ValueError as exc:
            return f"unusable URL {url[:200]!r}: {exc}"
        if target.scheme not in SCHEMES:
            return f"{target.scheme!r} URLs are never fetched: {url[:200]!r}"
        if same_site(url, self.own):
            return None
        if wide and self.scope == "any":
            return None
        if wide and self.scope == "configured_sources" and self.wide.first(url) is not None:
            return None
        allowed = ", ".join(self.own[:6]) + (", ..." if len(self.own) > 6 else "")
        reach = f"related.scope {self.scope}" if wide else "own hosts only"
        return f"{target.authority} is outside the source's fence ({allowed}; {reach})"


class FenceMiddleware:
    """Downloader middleware: the one check every downloaded request passes (see the module)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.guard = NetworkGuard(policy_from_settings(crawler.settings))

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FenceMiddleware:
        return cls(crawler)

    def _count(self, key: str) -> None:
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)
        counts = getattr(self.crawler.spider, "counts", None)
        if counts is not None:
            counts[key] += 1

    def _refuse(self, request: Request, key: str, exc: IgnoreRequest) -> IgnoreRequest:
        self._count(key)
        log.info("fence: not fetching %s: %s", request.url, exc)
        return exc

    async def process_request(self, request: Request) -> Any:
        spider: Any = self.crawler.spider
        planned = request.meta.get("nf")
        fence: Fence | None = getattr(getattr(spider, "scope", None), "fence", None)
        wide = planned is None or planned.discovery in WIDE_DISCOVERIES
        refused = await fence_verdict(request.url, fence, self.guard, wide=wide)
        if refused is not None:
            key, exc = refused
            raise self._refuse(request, key, exc) from None
        return None


async def fence_verdict(
    url: str, fence: Fence | None, guard: NetworkGuard, *, wide: bool
) -> tuple[str, IgnoreRequest] | None:
    """The fence's decision on one URL: ``None`` to fetch it, else (stats key, exception).

    The one decision for every request of a crawl: Scrapy's (through :class:`FenceMiddleware`)
    and a rendering browser's (:mod:`crawlers.render`) alike.
    """
    try:
        target = url_target(url)
    except ValueError as exc:
        return "offsite_blocked", OffsiteRequest(f"unusable URL: {exc}")
    ip = target.ip
    problem = guard.policy.problem(ip, target.port) if ip is not None else None
    if ip is not None and problem and not guard.policy.openable(ip):
        return "network_blocked", BlockedNetwork(refusal_message(target.host, problem))
    if fence is not None:
        reason = fence.refusal(url, wide=wide)
        if reason:
            return "offsite_blocked", OffsiteRequest(f"refused by fence: {reason}")
    elif target.scheme not in SCHEMES:
        return "offsite_blocked", OffsiteRequest(f"{target.scheme!r} URL")
    if ip is None:
        problem = await guard.verdict(url)
    if problem:
        return "network_blocked", BlockedNetwork(refusal_message(target.host, problem))
    return None
