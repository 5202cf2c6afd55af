"""Downloader middlewares of the news crawl (see ``crawlers.settings`` for their order).

- :class:`crawlers.fence.FenceMiddleware` refuses requests outside the source's fence (scope
  and network guard);
- :class:`RedirectGuardMiddleware` stops redirect loops early (with a clear category,
  instead of Scrapy's generic "max redirections reached") and keeps a redirect from
  fetching a canonical URL the run fetches anyway;
- :class:`QuickMetaRefreshMiddleware` is Scrapy's meta refresh with a quick answer for the
  pages that have none.

:class:`LeanStatsCollector` (``STATS_CLASS``) is here too: a component of the same lean stack.
"""

from __future__ import annotations

import codecs
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
from scrapy.http import HtmlResponse
from scrapy.statscollectors import MemoryStatsCollector

from crawlers.errors import AlreadyClaimed, RedirectLoop

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response


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


@lru_cache(maxsize=64)
def _ascii_transparent(encoding: str) -> bool:
    """Whether every ASCII character of a text in ``encoding`` is that same byte, and no
    other byte sequence decodes to one (UTF-8 and ASCII-compatible single-byte codecs).

    Then a word the decoded text does not contain is not in its bytes either, and the other
    way round. Other encodings (UTF-16, the stateful ISO-2022 and UTF-7, the legacy
    multi-byte ones) answer ``False``: they take the full check.
    """
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return False
    if name == "utf-8":
        return True
    try:
        ascii_ok = bytes(range(128)).decode(name) == "".join(map(chr, range(128)))
        high = bytes(range(128, 256)).decode(name, errors="replace")
    except (UnicodeDecodeError, LookupError, TypeError):  # not a plain text codec
        return False
    return ascii_ok and len(high) == 128 and not any(ord(c) < 128 for c in high)


#: ``text[0:4096]`` is what Scrapy scans for a meta refresh: at most 4 bytes per character.
_REFRESH_SCAN_BYTES = 4 * 4096


class QuickMetaRefreshMiddleware(MetaRefreshMiddleware):
    """Scrapy's ``MetaRefreshMiddleware``, answering most pages without parsing them.

    Scrapy's finds a refresh with w3lib in the first 4,096 characters of the decoded page,
    and a refresh is a ``<meta>`` whose ``http-equiv`` contains ``refresh`` (any case). So
    when the page's encoding writes ASCII as itself (UTF-8, single-byte codecs) and the
    bytes that hold those characters (at most 4 per character) do not contain ``refresh``
    in any case, there is none and the response passes unchanged; everything else (a
    page that mentions the word, another encoding) goes through Scrapy's own code. Same
    answers, same ``METAREFRESH_*`` settings; about a tenth of the CPU per plain page.
    """

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        if (
            isinstance(response, HtmlResponse)
            and b"refresh" not in response.body[:_REFRESH_SCAN_BYTES].lower()
            and _ascii_transparent(response.encoding)
        ):
            return response
        return super().process_response(request, response)


class LeanStatsCollector(MemoryStatsCollector):
    """Scrapy's default stats collector without its ``__getattribute__`` hook.

    Scrapy 2.19 routes every attribute read of a stats collector (each ``inc_value`` and,
    inside it, ``self._stats``) through a Python ``__getattribute__`` that wraps the
    methods to warn about a deprecated ``spider`` argument; with a dozen stats updates per
    page that was ~1.4 % of the crawl's CPU. The methods, keys and values are Scrapy's own;
    only that deprecation warning is gone (nothing of ours passes ``spider``).
    """

    __getattribute__ = object.__getattribute__
