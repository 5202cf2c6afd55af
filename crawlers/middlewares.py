"""Downloader middlewares of the news crawl (see ``crawlers.settings`` for their order).

- :class:`crawlers.fence.FenceMiddleware` refuses requests outside the source's fence (scope
  and network guard);
- :class:`RedirectGuardMiddleware` stops redirect loops early (with a clear category,
  instead of Scrapy's generic "max redirections reached") and keeps a redirect from
  fetching a canonical URL the run fetches anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crawlers.errors import AlreadyClaimed, RedirectLoop

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler


class RedirectGuardMiddleware:
    """Runs on every redirect hop (Scrapy re-schedules redirected requests)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RedirectGuardMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> Any:
        chain: list[str] = request.meta.get("redirect_urls") or []
        spider: Any = self.crawler.spider
        planned = request.meta.get("nf")
        if not chain or planned is None or not hasattr(spider, "scope"):
            return None
        scope = spider.scope
        target = scope.canonical(request.url)
        visited = [scope.canonical(u) for u in chain]
        if target in visited:
            hops = " -> ".join([*chain, request.url])
            raise RedirectLoop(f"redirect loop after {len(chain)} hop(s): {hops}")
        if target != planned.url and request.meta.get("nf_claimed") != target:
            # (a retried hop carries nf_claimed: it claimed its target on the first attempt)
            if spider.frontier.seen(target):
                raise AlreadyClaimed(f"redirects to {target}, which this run fetches separately")
            spider.frontier.claim(target)
            request.meta["nf_claimed"] = target
        return None
