"""Scrapy settings of a news crawl, derived from one source's ``politeness`` config."""

from __future__ import annotations

from typing import Any

from pipeline.config import Source


def robots_agent(user_agent: str) -> str:
    """The product token robots.txt rules are matched against (``newsflow`` of ``newsflow/0.1 (...)``)."""
    return user_agent.split("/", 1)[0].split()[0] if user_agent.strip() else "newsflow"


def scrapy_settings(source: Source, *, user_agent: str, log_level: str = "INFO") -> dict[str, Any]:
    """Settings for one source's crawl; every politeness knob comes from ``sources.yaml``."""
    p = source.politeness
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
            # The fence: scope and network guard, for every request incl. redirect hops.
            "crawlers.fence.FenceMiddleware": 40,
            "crawlers.middlewares.RedirectGuardMiddleware": 45,
            # Below retries (550): sees each robots.txt fetch's final answer or failure.
            "crawlers.archive.RobotsArchiveMiddleware": 540,
            # Scrapy's redirect handling, archiving every hop (same position as the original).
            "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
            "crawlers.archive.ArchivingRedirectMiddleware": 600,
        },
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
