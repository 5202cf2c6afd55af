"""Scrapy settings of a news crawl, derived from one source's ``politeness`` config.

**A lean component stack** (issue 17: Scrapy's own per-page cost). Scrapy enables a dozen
middlewares by default; each runs on every request or response, and newsflow either does
not use them or does the same job elsewhere. Off, and why (:data:`LEAN_DOWNLOADER` and
:data:`LEAN_SPIDER`):

- ``OffsiteMiddleware`` (downloader): filters by the spider's ``allowed_domains``
  attribute, which ``NewsSpider`` does not set (it allows everything then); the fence
  (:mod:`crawlers.fence`) checks scope and network for every request, redirect hop and
  robots.txt fetch instead.
- ``HttpAuthMiddleware``: HTTP basic auth from the ``HTTPAUTH_*`` settings, a spider's
  ``http_user``/``http_pass`` or request meta; newsflow sets none of them.
- ``HttpProxyMiddleware``: kept only when the environment configures a proxy
  (``urllib.request.getproxies()`` names one, ``no_proxy`` alone does not) when the
  settings are made; without one it has nothing to do (nothing of ours sets
  ``meta["proxy"]``).
- ``MetaRefreshMiddleware``: replaced by its subclass
  :class:`crawlers.middlewares.QuickMetaRefreshMiddleware` (same answers, quick on the
  pages without a refresh).
- Spider middlewares ``Depth``, ``MetaCopyDetection``, ``UrlLength`` and ``HttpError``:
  the first two act only on requests a callback yields, and ``NewsSpider`` yields requests
  from ``start()`` only (through the frontier: depth 0, no copied meta); ``HttpError``
  passes everything with ``HTTPERROR_ALLOW_ALL``. ``RefererMiddleware`` stays: without it
  Scrapy's redirect middlewares (ours subclass them) log a warning in every crawl, and it
  costs a few µs per page.
  ``UrlLength`` did act on ours, wrongly: it dropped a request over 2,083 characters
  before the spider could account for it (no fetch row, and the run waited out its idle
  timeout for it); now such a URL is fetched like any other (the load refuses URLs over
  4,096 characters). A subclass yielding requests from its callbacks gets them without
  depth limit or length cap, and can put back what it needs in
  ``SPIDER_MIDDLEWARES``. ``StartSpiderMiddleware`` stays: it marks start
  requests, which Scrapy's scheduler queues FIFO (the rest LIFO).
- ``STATS_CLASS``: :class:`crawlers.middlewares.LeanStatsCollector`, Scrapy's own without
  its per-access deprecation hook.

Kept: robots.txt, download timeout, Scrapy's User-Agent and default-headers middlewares (a
merged copy of ours saved 3-6 µs per page: not worth owning), retries, redirects (ours, archiving each hop),
compression, the downloader stats and ``CoreStats`` (``crawlers.run`` reads
``finish_reason`` and ``retry/count``, :mod:`pipeline.crawl_log` the downloader counts).
"""

from __future__ import annotations

import urllib.request
from typing import Any

from pipeline.config import Source


def robots_agent(user_agent: str) -> str:
    """The product token robots.txt rules are matched against (``newsflow`` of ``newsflow/0.1 (...)``)."""
    return user_agent.split("/", 1)[0].split()[0] if user_agent.strip() else "newsflow"


_DMW = "scrapy.downloadermiddlewares"
_SMW = "scrapy.spidermiddlewares"

#: Scrapy's downloader middlewares newsflow turns off or replaces (see the module docstring).
LEAN_DOWNLOADER: dict[str, int | None] = {
    f"{_DMW}.offsite.OffsiteMiddleware": None,
    f"{_DMW}.httpauth.HttpAuthMiddleware": None,
    f"{_DMW}.redirect.MetaRefreshMiddleware": None,
    "crawlers.middlewares.QuickMetaRefreshMiddleware": 580,
}

#: Scrapy's spider middlewares newsflow turns off (``StartSpiderMiddleware`` stays).
LEAN_SPIDER: dict[str, int | None] = {
    f"{_SMW}.urllength.UrlLengthMiddleware": None,
    f"{_SMW}.depth.DepthMiddleware": None,
    f"{_SMW}.metacopy.MetaCopyDetectionMiddleware": None,
    f"{_SMW}.httperror.HttpErrorMiddleware": None,
}

LEAN_STATS = "crawlers.middlewares.LeanStatsCollector"


def environment_proxies() -> bool:
    """Whether the environment names a proxy (``no_proxy`` alone is no proxy)."""
    return any(scheme != "no" for scheme in urllib.request.getproxies())


def lean_stack(*, proxies: bool | None = None) -> dict[str, Any]:
    """The settings that make Scrapy's component stack lean (also used by the benchmark)."""
    downloader = dict(LEAN_DOWNLOADER)
    if not (environment_proxies() if proxies is None else proxies):
        downloader[f"{_DMW}.httpproxy.HttpProxyMiddleware"] = None
    return {
        "DOWNLOADER_MIDDLEWARES": downloader,
        "SPIDER_MIDDLEWARES": dict(LEAN_SPIDER),
        "STATS_CLASS": LEAN_STATS,
    }


def scrapy_settings(source: Source, *, user_agent: str, log_level: str = "INFO") -> dict[str, Any]:
    """Settings for one source's crawl; every politeness knob comes from ``sources.yaml``."""
    p = source.politeness
    stack = lean_stack()
    settings: dict[str, Any] = {
        "BOT_NAME": "newsflow",
        "USER_AGENT": user_agent,
        "ROBOTSTXT_OBEY": p.obey_robots,
        "ROBOTSTXT_USER_AGENT": robots_agent(user_agent),
        # Parallel crawls on one worker would collide on the telnet console's port.
        "TELNETCONSOLE_ENABLED": False,
        # Same for the remote-control HTTP endpoint, which would also be a needless open port.
        "REMOTE_CONTROL_ENABLED": False,
        "CONCURRENT_REQUESTS": max(16, p.concurrency * 2),
        "CONCURRENT_REQUESTS_PER_DOMAIN": p.concurrency,
        "DOWNLOAD_DELAY": p.delay,
        "AUTOTHROTTLE_ENABLED": p.autothrottle,
        "AUTOTHROTTLE_START_DELAY": p.delay,
        "AUTOTHROTTLE_MAX_DELAY": max(30.0, p.delay * 10),
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(p.concurrency),
        "DOWNLOAD_TIMEOUT": p.download_timeout,
        "DOWNLOAD_MAXSIZE": p.max_response_bytes,
        "DOWNLOAD_WARNSIZE": 0,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 2,
        "REDIRECT_MAX_TIMES": 10,
        # Every status reaches the spider, so 4xx/5xx pages are archived and categorised.
        "HTTPERROR_ALLOW_ALL": True,
        "COOKIES_ENABLED": False,
        # One item per response: Scrapy's default (100) starts 100 asyncio workers per callback.
        "CONCURRENT_ITEMS": 4,
        # The frontier de-duplicates by canonical URL; Scrapy's fingerprint set would only cost memory.
        "DUPEFILTER_CLASS": "scrapy.dupefilters.BaseDupeFilter",
        "DOWNLOADER_MIDDLEWARES": {
            **stack["DOWNLOADER_MIDDLEWARES"],
            # The fence: scope and network guard, for every request incl. redirect hops.
            "crawlers.fence.FenceMiddleware": 40,
            "crawlers.middlewares.RedirectGuardMiddleware": 45,
            # Below retries (550): sees each robots.txt fetch's final answer or failure.
            "crawlers.archive.RobotsArchiveMiddleware": 540,
            # Scrapy's redirect handling, archiving every hop (same position as the original).
            "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
            "crawlers.archive.ArchivingRedirectMiddleware": 600,
        },
        "SPIDER_MIDDLEWARES": stack["SPIDER_MIDDLEWARES"],
        "STATS_CLASS": stack["STATS_CLASS"],
        "ITEM_PIPELINES": {"crawlers.recorder.RecordPipeline": 100},
        "NEWSFLOW_ALLOW_PRIVATE_NETWORKS": source.allow_private_networks,
        # Connections resolve through the guard's resolver: one checked, pinned answer per host.
        "TWISTED_DNS_RESOLVER": "crawlers.resolver.GuardedResolver",
        "DNS_TIMEOUT": 15,
        "LOG_LEVEL": log_level,
        "LOGSTATS_INTERVAL": 60.0,
        "MEMUSAGE_ENABLED": False,
    }
    if source.render == "browser":
        from crawlers.render import render_settings  # only rendering crawls import playwright

        settings.update(render_settings(source))
    return settings
