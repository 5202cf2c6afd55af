"""Per-page CPU of the Scrapy components the crawler's lean stack turns off or replaces.

A whole-crawl comparison cannot see them: each is 0.01–0.3 ms/page and two crawls of the
same ~1,200 pages differ by ±0.5 ms/page on a shared machine. So each component's own
method runs here, in a loop, on real inputs: the demo network's pages (fetched once over
loopback, then kept in memory), a real ``Crawler`` with the crawl's settings, and Scrapy's
own spider-middleware manager for the start requests. CPU (``time.process_time``) per call,
the median of ``--repeat`` rounds, printed per page: Scrapy's default component against
what ``crawlers.settings.lean_stack`` puts in its place (nothing, or ours).

What it cannot show: the engine's signal dispatch to fewer receivers, and cache effects
in a real crawl. ``benchmarks.crawl`` measures the whole.

    .venv/bin/python -m benchmarks.crawl_stack [--pages 300] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable
from typing import Any

from scrapy import Request, Spider
from scrapy.core.spidermw import SpiderMiddlewareManager
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawlers.settings import lean_stack

D = "scrapy.downloadermiddlewares"


def demo_pages(count: int) -> list[tuple[str, bytes, bytes]]:
    """(url, Content-Type, body) of ``count`` HTML pages of the demo network's first outlet."""
    import re

    from pipeline.demo_site import DemoNetwork

    pages: list[tuple[str, bytes, bytes]] = []
    with DemoNetwork(host="127.0.0.1", port=0, articles=max(300, count)) as net:
        home = str(net.sources()[0]["homepage"])
        queue, seen = [home], {home}
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, direct
        while queue and len(pages) < count:
            url = queue.pop(0)
            try:
                with opener.open(url, timeout=10) as answer:
                    body, ctype = answer.read(), answer.headers.get("Content-Type", "")
            except urllib.error.HTTPError:  # the demo's deliberate 404s and 503s
                continue
            if "html" not in ctype:
                continue
            pages.append((url, ctype.encode(), body))
            for link in re.findall(rb'href="(/[^"#?]*)"', body):
                full = home.rstrip("/") + link.decode()
                if full not in seen:
                    seen.add(full)
                    queue.append(full)
    return pages


def each(func: Callable[[Any], Any], items: list[Any]) -> Callable[[int], Any]:
    """``func`` on the ``i``-th item: one new input per call."""
    return lambda i: func(items[i])


def per_call_ms(func: Callable[[int], Any], calls: int, repeat: int) -> float:
    """Median CPU milliseconds per call of ``func(i)`` for ``i`` in ``range(calls)``."""
    rounds = []
    for _ in range(repeat):
        started = time.process_time()
        for i in range(calls):
            func(i)
        rounds.append((time.process_time() - started) / calls * 1000)
    return statistics.median(rounds)


def start_ms(settings: dict[str, Any], calls: int, repeat: int) -> float:
    """Median CPU ms per start request through Scrapy's spider-middleware manager."""

    class Starter(Spider):
        name = "starter"

        async def start(self) -> AsyncIterator[Any]:
            for i in range(calls):
                yield Request(f"http://127.0.0.1:9/{i}")

    async def consume(manager: SpiderMiddlewareManager) -> None:
        async for _ in await manager.process_start():  # type: ignore[union-attr]
            pass

    rounds = []
    for _ in range(repeat):
        crawler = get_crawler(Starter, settings)
        crawler.spider = crawler._create_spider()
        manager = SpiderMiddlewareManager.from_crawler(crawler)
        started = time.process_time()
        asyncio.run(consume(manager))
        rounds.append((time.process_time() - started) / calls * 1000)
    return statistics.median(rounds)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    from scrapy.downloadermiddlewares.httpauth import HttpAuthMiddleware
    from scrapy.downloadermiddlewares.httpproxy import HttpProxyMiddleware
    from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
    from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware
    from scrapy.statscollectors import MemoryStatsCollector

    from crawlers.middlewares import LeanStatsCollector, QuickMetaRefreshMiddleware

    pages = demo_pages(args.pages)
    n, rep = len(pages), args.repeat
    crawler = get_crawler(Spider, {"USER_AGENT": "newsflow/0.1 (+https://example.org/newsflow-bot)"})
    spider = crawler.spider = crawler._create_spider("bench")
    fresh = [Request(url) for url, _, _ in pages]

    def requests() -> list[Request]:
        return [Request(url) for url, _, _ in pages]

    def responses() -> list[HtmlResponse]:
        return [
            HtmlResponse(url, body=body, headers={"Content-Type": ctype}, request=fresh[i])
            for i, (url, ctype, body) in enumerate(pages)
        ]

    offsite = OffsiteMiddleware.from_crawler(crawler)
    offsite.spider_opened(spider)
    auth = HttpAuthMiddleware.from_crawler(crawler)
    auth.spider_opened(spider)
    proxy = HttpProxyMiddleware.from_crawler(crawler)
    rows: list[tuple[str, float, float]] = []

    def fresh_ms(func: Callable[[Request], Any]) -> float:
        """Median over rounds, each on new requests (headers set once stay set)."""
        rounds = []
        for _ in range(rep):
            rounds.append(per_call_ms(each(func, requests()), n, 1))
        return statistics.median(rounds)

    def request_row(
        name: str, scrapys: Callable[[Request], Any], ours: Callable[[Request], Any] | None
    ) -> None:
        rows.append((name, fresh_ms(scrapys), fresh_ms(ours) if ours else 0.0))

    request_row("OffsiteMiddleware.process_request", offsite.process_request, None)
    request_row("HttpAuthMiddleware.process_request", auth.process_request, None)
    request_row("HttpProxyMiddleware.process_request (no proxy)", proxy.process_request, None)
    scrapy_refresh = MetaRefreshMiddleware.from_crawler(crawler)
    quick_refresh = QuickMetaRefreshMiddleware.from_crawler(crawler)
    rounds_a, rounds_b = [], []
    for _ in range(rep):  # fresh responses each round: Scrapy caches per response
        rounds_a.append(
            per_call_ms(each(lambda r: scrapy_refresh.process_response(r.request, r), responses()), n, 1)
        )
        rounds_b.append(
            per_call_ms(each(lambda r: quick_refresh.process_response(r.request, r), responses()), n, 1)
        )
    rows.append(("MetaRefresh -> QuickMetaRefresh", statistics.median(rounds_a), statistics.median(rounds_b)))
    per_page_stats = 12  # stats updates per page in a crawl (Scrapy's and ours), roughly

    def stats_row(cls: type[MemoryStatsCollector]) -> float:
        stats = cls(crawler)
        return (
            per_call_ms(lambda i: stats.inc_value("downloader/request_count"), 20_000, rep) * per_page_stats
        )

    rows.append(
        (f"stats: {per_page_stats} inc_value", stats_row(MemoryStatsCollector), stats_row(LeanStatsCollector))
    )
    lean_spider = {"SPIDER_MIDDLEWARES": lean_stack(proxies=False)["SPIDER_MIDDLEWARES"]}
    rows.append(
        ("spider middlewares, per start request", start_ms({}, 5000, rep), start_ms(lean_spider, 5000, rep))
    )
    print(f"{n} demo pages, median of {rep} rounds, CPU ms per page (load {_load()}):")
    print("  each component's own method (Scrapy's manager adds its per-call overhead on top):")
    for name, a, b in rows:
        print(f"  {name:48} Scrapy {a:.4f}  lean {b:.4f}  saves {a - b:+.4f}")
    print(
        f"  {'sum':48} Scrapy {sum(a for _, a, _ in rows):.4f}  lean {sum(b for *_, b in rows):.4f}  "
        f"saves {sum(a - b for _, a, b in rows):+.4f}"
    )
    a, b = chain_ms(pages, {}, rep), chain_ms(pages, lean_stack(proxies=False), rep)
    print("  Scrapy's downloader-middleware manager, every request and response method of the stack")
    print(
        f"  (robots.txt and cookies off in both, a 200 answer per page): Scrapy {a:.4f}  lean {b:.4f}  saves {a - b:+.4f}"
    )


def chain_ms(pages: list[tuple[str, bytes, bytes]], stack: dict[str, Any], repeat: int) -> float:
    """Median CPU ms per page through a real ``DownloaderMiddlewareManager`` with ``stack``."""
    settings = {"ROBOTSTXT_OBEY": False, "COOKIES_ENABLED": False, "HTTPERROR_ALLOW_ALL": True, **stack}
    return statistics.median(_chain_round(pages, settings) for _ in range(repeat))


def _chain_round(pages: list[tuple[str, bytes, bytes]], settings: dict[str, Any]) -> float:
    from scrapy.core.downloader.middleware import DownloaderMiddlewareManager

    crawler = get_crawler(Spider, settings)
    crawler.spider = crawler._create_spider("bench")
    manager = DownloaderMiddlewareManager.from_crawler(crawler)
    answers = {url: (ctype, body) for url, ctype, body in pages}

    async def fetch(request: Request) -> HtmlResponse:
        ctype, body = answers[request.url]
        return HtmlResponse(request.url, body=body, headers={"Content-Type": ctype}, request=request)

    async def run_all() -> float:
        started = time.process_time()
        for url, _, _ in pages:
            await manager.download_async(fetch, Request(url))
        return time.process_time() - started

    return asyncio.run(run_all()) / len(pages) * 1000


def _load() -> str:
    import os

    return ", ".join(f"{x:.2f}" for x in os.getloadavg())


if __name__ == "__main__":
    main()
