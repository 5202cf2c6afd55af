"""Rendering article pages in headless Chromium, inside the crawl's fence.

A source with ``render: browser`` (:mod:`pipeline.rendering`) has its article pages fetched
by scrapy-playwright; everything else (feeds, sitemaps, robots.txt) stays plain HTTP. This
module is imported only by such crawls (through :func:`render_settings`), so no other
crawl loads playwright.

A browser is a second network client, and a page's scripts choose what it requests: so it
gets the same fence as Scrapy, and no way around it.

- **Chromium itself reaches nothing.** It is launched with a proxy that is a local port
  this process holds bound but never listens on (:class:`Sink`), with loopback included
  (``--proxy-bypass-list=<-loopback>``). Any connection the browser's own network stack
  would make (a redirect it follows, a WebSocket, a preconnect hint, background services)
  goes to that port and is refused; with a proxy it does not even resolve names.
- **Every request is decided by the fence.** All requests of the page (navigation,
  subresources, XHR/fetch, also of popups: a context-wide route) are intercepted; each is
  judged by :func:`crawlers.fence.fence_verdict`, the decision Scrapy's
  :class:`~crawlers.fence.FenceMiddleware` applies (the source's own hosts, then the network
  guard on the resolved address), and aborted when refused.
- **Allowed requests are fetched hop by hop.** Playwright's ``route.fetch`` fetches with
  redirects off; each ``Location`` is judged again before it is followed, and the browser is
  handed the final answer. Images, media and fonts are not fetched at all (not needed for
  text, and fewer requests to police).

Requests are counted in the run's crawl stats: ``render_allowed``, ``render_aborted`` and, for
fence refusals, ``render_offsite_blocked`` / ``render_network_blocked``.
"""

from __future__ import annotations

import logging
import socket
import weakref
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

from playwright.async_api import Error as PlaywrightError
from scrapy_playwright.handler import ScrapyPlaywrightDownloadHandler

from crawlers.fence import Fence, fence_verdict
from crawlers.guard import NetworkGuard, policy_from_settings
from pipeline.rendering import chromium_path

if TYPE_CHECKING:
    from playwright.async_api import APIResponse, BrowserContext, Page, Request, Route
    from scrapy import Spider
    from scrapy.crawler import Crawler

    from pipeline.config import Source

log = logging.getLogger(__name__)

HANDLER = "crawlers.render.FencedPlaywrightHandler"
#: Resource types a text crawl never needs: aborted without a fence decision.
SKIPPED_TYPES = frozenset({"image", "media", "font"})
MAX_HOPS = 10
#: How long a rendered page may keep loading after its document (XHRs filling the body).
SETTLE = "networkidle"
#: Chromium switches that keep a headless browser from reaching out on its own.
CHROMIUM_ARGS = (
    "--no-sandbox",  # root in CI containers; the page is still fenced as described above
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-domain-reliability",
    "--disable-sync",
    "--no-pings",
    "--dns-prefetch-disable",
    "--no-first-run",
    "--metrics-recording-only",
    "--force-webrtc-ip-handling-policy=disable_non_proxied_udp",
    "--proxy-bypass-list=<-loopback>",
)


def render_settings(source: Source) -> dict[str, Any]:
    """Scrapy settings that route a source's requests through the fenced browser handler."""
    timeout_ms = int(source.politeness.download_timeout * 1000)
    return {
        "DOWNLOAD_HANDLERS": {"http": HANDLER, "https": HANDLER},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": {
            "executable_path": chromium_path(),
            "headless": True,
            "args": list(CHROMIUM_ARGS),
        },
        "PLAYWRIGHT_CONTEXTS": {
            "default": {"service_workers": "block", "accept_downloads": False, "java_script_enabled": True}
        },
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": source.politeness.concurrency,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout_ms,
        # Our route decides; scrapy-playwright's own predicate would run after it anyway.
        "PLAYWRIGHT_ABORT_REQUEST": None,
    }


def render_meta() -> dict[str, Any]:
    """Request meta of a page fetched by the browser."""
    return {"playwright": True, "playwright_page_goto_kwargs": {"wait_until": SETTLE}}


class Sink:
    """A loopback port held bound and never listened on: connections to it are refused."""

    def __init__(self) -> None:
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.socket.bind(("127.0.0.1", 0))
        self.port: int = self.socket.getsockname()[1]

    @property
    def proxy_arg(self) -> str:
        return f"--proxy-server=http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.socket.close()


class BrowserFence:
    """The crawl's fence applied to one browser request (see the module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.guard = NetworkGuard(policy_from_settings(crawler.settings))
        self.timeout_ms = int(1000 * crawler.settings.getfloat("DOWNLOAD_TIMEOUT", 20.0))

    def fence(self) -> Fence | None:
        spider: Any = self.crawler.spider
        return getattr(getattr(spider, "scope", None), "fence", None)

    def count(self, key: str) -> None:
        """Counted in Scrapy's stats and the run's crawl stats (``render_*`` keys)."""
        key = f"render_{key}"
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(key)
        counts = getattr(self.crawler.spider, "counts", None)
        if counts is not None:
            counts[key] += 1

    async def refusal(self, url: str) -> str | None:
        """Why the browser may not request ``url`` (``None``: it may)."""
        fence = self.fence()
        if fence is None:
            return "no fence: the crawl has no source scope"  # fail closed
        # The browser renders the source's own pages: its requests stay on the own hosts.
        refused = await fence_verdict(url, fence, self.guard, wide=False)
        if refused is None:
            return None
        key, exc = refused
        self.count(key)
        return str(exc)

    async def handle(self, route: Route, request: Request, overrides: dict[str, Any]) -> None:
        """Abort ``request``, or fetch it hop by hop inside the fence and fulfil it."""
        if request.resource_type in SKIPPED_TYPES:
            await route.abort("blockedbyclient")
            return
        url = request.url
        response: APIResponse | None = None
        for _hop in range(MAX_HOPS + 1):
            reason = await self.refusal(url)
            if reason is not None:
                log.info("render fence: not fetching %s: %s", url, reason)
                self.count("aborted")
                await route.abort("blockedbyclient")
                return
            try:
                response = await route.fetch(url=url, max_redirects=0, timeout=self.timeout_ms, **overrides)
            except PlaywrightError as exc:  # refused, timed out, or a hop to another scheme
                log.info("render: %s failed: %s", url, str(exc).splitlines()[0][:200])
                await route.abort("failed")
                return
            location = response.headers.get("location")
            if not (300 <= response.status < 400 and location):
                break
            url = urljoin(url, location)
            overrides = {k: v for k, v in overrides.items() if k == "headers"}  # a redirect is a GET
        else:
            self.count("aborted")
            await route.abort("blockedbyclient")
            return
        self.count("allowed")
        await route.fulfill(response=response)


class _FencedRoute:
    """The ``Route`` scrapy-playwright's request handler sees: ``continue_`` goes through the fence."""

    def __init__(self, route: Route, request: Request, fence: BrowserFence) -> None:
        self._route, self._request, self._fence = route, request, fence

    async def continue_(self, **overrides: Any) -> None:
        await self._fence.handle(self._route, self._request, overrides)

    async def fallback(self, **overrides: Any) -> None:
        await self._fence.handle(self._route, self._request, overrides)

    async def abort(self, error_code: str | None = None) -> None:
        await self._route.abort(error_code)


class FencedPlaywrightHandler(ScrapyPlaywrightDownloadHandler):  # type: ignore[misc]
    """scrapy-playwright's download handler with the browser fenced (module docstring)."""

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler)
        self.sink = Sink()
        self.browser_fence = BrowserFence(crawler)
        options = self.config.launch_options
        options["args"] = [*options.get("args", []), self.sink.proxy_arg]
        self._routed_contexts: weakref.WeakSet[BrowserContext] = weakref.WeakSet()

    def _make_request_handler(self, *args: Any, **kwargs: Any) -> Any:
        inner = super()._make_request_handler(*args, **kwargs)

        async def fenced(route: Route, request: Request) -> None:
            await inner(_FencedRoute(route, request, self.browser_fence), request)

        return fenced

    async def _create_page(self, request: Any, spider: Spider) -> Page:
        page: Page = await super()._create_page(request=request, spider=spider)
        context = page.context
        if context not in self._routed_contexts:
            # Popups and other pages the scripts open get no page route of ours: the context's
            # route fences them (page routes take precedence where they exist).
            self._routed_contexts.add(context)
            await context.route("**", self._context_route)
        return page

    async def _context_route(self, route: Route, request: Request) -> None:
        await self.browser_fence.handle(route, request, {})

    async def _close(self) -> None:
        try:
            await super()._close()
        finally:
            self.sink.close()
