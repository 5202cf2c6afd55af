"""Archiving what no spider callback sees: redirect hops and Scrapy's own robots.txt fetches.

The spider's items cover the response at the end of a request's redirect chain. Two kinds
of exchange never reach it, and both are archived here as WARC request/response pairs in the
run's file:

- **redirect hops**: :class:`ArchivingRedirectMiddleware` replaces Scrapy's
  ``RedirectMiddleware`` (same position, same behaviour) and archives each 3xx response it
  follows (or gives up on) before the body is decompressed, so the record keeps the bytes
  and ``Content-Encoding`` as received. The hops travel with the redirected request
  (``meta["nf_hops"]``) and end in the final fetch row's ``hints.redirects``: one
  ``{url, status, location, warc_path, warc_offset, warc_length}`` per hop, in order.
- **robots.txt**: :class:`RobotsArchiveMiddleware` sits below the retry middleware, so it
  sees the final answer (after retries and redirects, decompressed) or the final failure of
  each robots.txt request that Scrapy's ``RobotsTxtMiddleware`` makes, and records it as a
  ``fetches`` row with ``discovery="robots"`` and ``outcome="robots_txt"`` (an auxiliary
  fetch: no page counter, no quality metric and no extraction reads it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response

from crawlers.errors import categorize_request
from crawlers.items import ROBOTS_OUTCOME, FetchItem, archived_headers, http_headers
from pipeline import clock

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

    from crawlers.recorder import RecordPipeline

HOPS_META = "nf_hops"


def _recorder(crawler: Crawler) -> RecordPipeline | None:
    recorder: RecordPipeline | None = getattr(crawler.spider, "recorder", None)
    return recorder


class ArchivingRedirectMiddleware(RedirectMiddleware):
    """Scrapy's redirect handling, plus a WARC record of every hop it follows."""

    def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        try:
            result = super().process_response(request, response)
        except IgnoreRequest:  # e.g. "max redirections reached": the hop was still received
            self._archive(request, response, request)
            raise
        if isinstance(result, Request):
            self._archive(request, response, result)
        return result

    def _archive(self, request: Request, response: Response, carrier: Request) -> None:
        recorder = _recorder(self.crawler)
        hop = recorder.archive_hop(request, response) if recorder is not None else None
        if hop is not None:
            carrier.meta[HOPS_META] = [*request.meta.get(HOPS_META, ()), hop]


def with_redirects(hints: dict[str, Any], meta: dict[str, Any]) -> dict[str, Any]:
    """A fetch row's hints, plus the archived redirect hops that led to its response."""
    out = dict(hints)
    if meta.get(HOPS_META):
        out["redirects"] = list(meta[HOPS_META])
    return out


def is_robots_request(request: Request) -> bool:
    """A robots.txt request Scrapy made itself (the spider's own requests carry ``nf``)."""
    return "nf" not in request.meta and urlsplit(request.url).path == "/robots.txt"


class RobotsArchiveMiddleware:
    """Records Scrapy's robots.txt fetches (answer or failure) as auxiliary fetch rows."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RobotsArchiveMiddleware:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Response:
        if is_robots_request(request):
            item = self._item(request)
            item.final_url = response.url
            item.status = response.status
            item.request_headers = http_headers(request.headers)
            item.response_headers = archived_headers(http_headers(response.headers), len(response.body))
            item.body = response.body
            self._record(item)
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        if is_robots_request(request):
            item = self._item(request)
            item.final_url = request.url
            item.error_category, message = categorize_request(exception, request.url)
            item.error_message = message[:2000]
            self._record(item)

    def _item(self, request: Request) -> FetchItem:
        chain: list[str] = request.meta.get("redirect_urls") or []
        url = chain[0] if chain else request.url
        return FetchItem(
            url=url,
            canonical_url=url,
            discovery="robots",
            referrer=None,
            depth=0,
            fetched_at=clock.now(),
            outcome=ROBOTS_OUTCOME,
            hints=with_redirects({}, request.meta),
        )

    def _record(self, item: FetchItem) -> None:
        recorder = _recorder(self.crawler)
        if recorder is not None:
            recorder.process_item(item)
