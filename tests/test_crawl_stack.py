"""The lean Scrapy component stack (``crawlers.settings``) keeps every behaviour it replaces.

Real Scrapy against a local server that records each request's headers: the User-Agent and
Scrapy's default Accept/Accept-Language on the spider's requests, Scrapy's own robots.txt
fetch, a redirect hop, a meta-refresh hop and a retry; ``finish_reason`` and ``retry/count``
still reach the run's stats; a URL over 2,083 characters is fetched (Scrapy's
``UrlLengthMiddleware`` used to drop it unseen); with ``http_proxy`` in the environment every
request goes through that (local) proxy. Then the pieces: the proxy decision against the environment,
the quick meta refresh against Scrapy's own on awkward pages, the stats collector.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from scrapy import Request, Spider
from scrapy.http import HtmlResponse
from scrapy.settings import Settings
from scrapy.utils.conf import build_component_list
from scrapy.utils.test import get_crawler
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from crawlers.middlewares import LeanStatsCollector, QuickMetaRefreshMiddleware
from crawlers.settings import environment_proxies, lean_stack, scrapy_settings
from pipeline.config import load_sources
from pipeline.db.models import CrawlRun
from pipeline.netpolicy import openings_for
from pipeline.stages.crawl import crawl
from tests.loopback import PageHandler, serving

UA = "newsflow-stack-test/9.9 (+https://example.invalid/bot)"
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
STORY = "<html><head><title>{t}</title></head><body><article><h1>{t}</h1><p>{p}</p></article></body></html>"
#: A story slug that makes a URL longer than Scrapy's URLLENGTH_LIMIT (2,083 characters).
LONG = "long-story-" + "a" * 2200
PROXY_DMW = "scrapy.downloadermiddlewares.httpproxy.HttpProxyMiddleware"


def story(title: str, head: str = "") -> bytes:
    page = STORY.format(t=title, p="A sentence of the story about the harbour. " * 30)
    return page.replace("<head>", "<head>" + head).encode()


class Recorder:
    """What the server received: (path, User-Agent, Accept, Accept-Language) per request."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None, str | None, str | None]] = []
        self.flaky = 0
        self.proxied = 0  # requests that arrived in proxy form (an absolute URL)
        self.lock = threading.Lock()


def handler(rec: Recorder) -> type[PageHandler]:
    class Handler(PageHandler):
        def do_GET(self) -> None:
            h = self.headers
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path.startswith("http://"):  # asked as a proxy: serve it as the origin would
                base, _, path = self.path.partition("://")[2].partition("/")
                base, self.path = "http://" + base, "/" + path
                with rec.lock:
                    rec.proxied += 1
            with rec.lock:
                rec.seen.append((self.path, h.get("User-Agent"), h.get("Accept"), h.get("Accept-Language")))
            if self.path == "/robots.txt":
                self.send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
            elif self.path == "/feed.rss":
                items = "".join(
                    f"<item><title>t</title><link>{base}/2024/05/01/{slug}</link>"
                    "<pubDate>Wed, 01 May 2024 10:00:00 GMT</pubDate></item>"
                    for slug in ("plain-story", "moved-story", "refresh-story", "flaky-story", LONG)
                )
                self.send(
                    200, f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode()
                )
            elif self.path == "/2024/05/01/moved-story":
                self.send(302, b"", Location="/2024/05/01/moved-story-final")
            elif self.path == "/2024/05/01/refresh-story":
                # Upper case, as some sites write it: the quick check must not miss it.
                refresh = '<META HTTP-EQUIV="Refresh" CONTENT="0; URL=/2024/05/01/refreshed-story-final">'
                self.send(200, story("Refresh", refresh))
            elif self.path == "/2024/05/01/flaky-story":
                with rec.lock:
                    rec.flaky += 1
                    first = rec.flaky == 1
                self.send(503, b"<html>busy</html>") if first else self.send(200, story("Flaky"))
            elif self.path.startswith("/2024/05/01/"):
                self.send(200, story(self.path.rsplit("/", 1)[-1]))
            else:
                self.send(404, b"<html>no</html>")

    return Handler


@pytest.fixture
def site() -> Iterator[tuple[Recorder, str]]:
    rec = Recorder()
    with serving(handler(rec)) as port:
        yield rec, f"http://127.0.0.1:{port}"


def write_sources(path: Path, base: str, *also: str) -> Path:
    """The source's ``sources.yaml``; ``also``: more local servers it may connect to (a proxy)."""
    source = {
        "key": "harbour",
        "name": "Harbour Times",
        "homepage": base + "/",
        "discovery": {"feeds": [base + "/feed.rss"]},
        "article_urls": {"allow": [r"/\d{4}/\d{2}/\d{2}/[a-z0-9-]+$"]},
        "politeness": {"concurrency": 2, "delay": 0, "download_timeout": 5.0},
        "allow_private_networks": [o for url in (base, *also) for o in openings_for(url)],
    }
    path.write_text(yaml.safe_dump({"version": 1, "sources": [source]}))
    return path


def test_headers_on_every_request_and_stats_kept(
    site: tuple[Recorder, str],
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rec, base = site
    monkeypatch.setenv("NEWSFLOW_USER_AGENT", UA)
    sources = write_sources(tmp_path / "sources.yaml", base)
    with caplog.at_level(logging.WARNING):
        result = crawl("harbour", "stack", sources_path=sources, database_url=db_url)
    assert result.status == "succeeded", result
    # The stack itself warns about nothing in an ordinary crawl: without RefererMiddleware,
    # Scrapy's redirect middlewares (ours subclass them) logged a warning in every crawl.
    assert not [r for r in caplog.records if "Referer" in r.getMessage()], caplog.text
    paths = [path for path, *_ in rec.seen]
    day = "/2024/05/01/"
    for expected in ("/robots.txt", "/feed.rss", day + "plain-story", day + "moved-story"):
        assert expected in paths
    # The redirect hop, the meta-refresh hop and the retry were requested, with the headers.
    assert day + "moved-story-final" in paths and day + "refreshed-story-final" in paths
    assert paths.count(day + "flaky-story") == 2
    # Fault row: Scrapy's UrlLengthMiddleware dropped this feed entry without a trace (no
    # fetch row; the spider then waited out its idle timeout for the lost request).
    assert day + LONG in paths
    for path, agent, accept, language in rec.seen:
        assert (agent, accept, language) == (UA, ACCEPT, "en"), path
    engine = create_engine(db_url)
    with Session(engine) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == "stack")).one()
        stats = dict(run.stats["crawl"])
    engine.dispose()
    assert stats["finish_reason"] == "finished"  # CoreStats' key
    assert stats["retries"] == 1  # RetryMiddleware's retry/count


def test_environment_proxy_is_used(
    site: tuple[Recorder, str], db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With ``http_proxy`` set, HttpProxyMiddleware stays and every request goes through it."""
    rec, base = site
    proxy = Recorder()
    with serving(handler(proxy)) as port:
        clear_proxies(monkeypatch)
        monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("NEWSFLOW_USER_AGENT", UA)
        # (The network guard checks the proxy's address like any other: it must be opened.)
        sources = write_sources(tmp_path / "sources.yaml", base, f"http://127.0.0.1:{port}")
        result = crawl("harbour", "proxied", sources_path=sources, database_url=db_url)
    assert result.status == "succeeded", result
    assert rec.seen == []  # nothing went to the origin directly
    paths = [path for path, *_ in proxy.seen]
    assert "/robots.txt" in paths and "/2024/05/01/plain-story" in paths
    assert proxy.proxied == len(proxy.seen)
    assert all(agent == UA for _, agent, *_ in proxy.seen)


def clear_proxies(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.lower().endswith("_proxy"):
            monkeypatch.delenv(name)


def downloader_components(settings: dict[str, Any]) -> list[str]:
    """The downloader middlewares Scrapy builds from ``settings`` (its own merge with the base)."""
    merged = Settings()
    merged.setdict(settings, priority="spider")
    return [str(c) for c in build_component_list(merged.getwithbase("DOWNLOADER_MIDDLEWARES"))]


def test_proxy_middleware_kept_only_with_environment_proxies(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    source = load_sources(write_sources(tmp_path / "s.yaml", "http://127.0.0.1:9")).get("harbour")
    clear_proxies(monkeypatch)
    assert not environment_proxies()
    assert PROXY_DMW not in downloader_components(scrapy_settings(source, user_agent=UA))
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")  # exclusions alone are no proxy
    assert not environment_proxies()
    monkeypatch.setenv("https_proxy", "http://127.0.0.1:3128")
    assert environment_proxies()
    components = downloader_components(scrapy_settings(source, user_agent=UA))
    assert PROXY_DMW in components
    # The rest of the lean stack does not depend on it.
    assert "crawlers.middlewares.QuickMetaRefreshMiddleware" in components
    assert "scrapy.downloadermiddlewares.offsite.OffsiteMiddleware" not in components
    assert PROXY_DMW not in downloader_components(lean_stack(proxies=False))


REFRESH = '<meta http-equiv="refresh" content="{d}; url=/next-page">'
PAGES: dict[str, tuple[bytes, str]] = {
    "none": (b"<html><head><title>x</title></head><body>plain</body></html>", "utf-8"),
    "lower": (f"<html><head>{REFRESH.format(d=0)}</head></html>".encode(), "utf-8"),
    "upper": (REFRESH.format(d=0).upper().replace("/NEXT-PAGE", "/next-page").encode(), "utf-8"),
    "slow": (f"<html><head>{REFRESH.format(d=3600)}</head></html>".encode(), "utf-8"),
    "in script": (f"<html><script>var s='{REFRESH.format(d=0)}';</script></html>".encode(), "utf-8"),
    "word only": (b"<html><body><p>Press refresh to reload.</p></body></html>", "utf-8"),
    "late": (("<html><body>" + "x" * 5000 + REFRESH.format(d=0) + "</body></html>").encode(), "utf-8"),
    "utf-16": (f"<html><head>{REFRESH.format(d=0)}</head></html>".encode("utf-16"), "utf-16"),
    "cp1252": (f"<html><head>{REFRESH.format(d=0)}</head><p>caf\xe9</p></html>".encode("cp1252"), "cp1252"),
    "utf-8 text": (f"<html><head>{REFRESH.format(d=0)}</head><p>{'é' * 3000}</p></html>".encode(), "utf-8"),
}


@pytest.mark.parametrize("name", sorted(PAGES))
def test_quick_meta_refresh_answers_as_scrapy(name: str) -> None:
    from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware

    crawler = get_crawler(Spider)
    ours, scrapys = (
        QuickMetaRefreshMiddleware.from_crawler(crawler),
        MetaRefreshMiddleware.from_crawler(crawler),
    )
    body, encoding = PAGES[name]
    request = Request("http://127.0.0.1:9/page")
    response = HtmlResponse(request.url, body=body, encoding=encoding, request=request)
    got, want = ours.process_response(request, response), scrapys.process_response(request, response)
    assert type(got) is type(want)
    if isinstance(want, Request):
        # (Scrapy quotes a UTF-16 page's URL in UTF-16, BOM and all: the same either way.)
        assert isinstance(got, Request) and got.url == want.url
        assert want.url.startswith("http://127.0.0.1:9/next-page")
    else:
        assert got is response
    # (Scrapy ignores no tags by default: METAREFRESH_IGNORE_TAGS is empty.)
    redirects = {"lower", "upper", "in script", "utf-16", "cp1252", "utf-8 text"}
    assert isinstance(want, Request) == (name in redirects)  # the cases test what they say


def test_lean_stats_collector_is_scrapys() -> None:
    crawler = get_crawler(Spider, {"STATS_CLASS": "crawlers.middlewares.LeanStatsCollector"})
    stats = crawler.stats
    assert isinstance(stats, LeanStatsCollector)
    stats.inc_value("retry/count")
    stats.inc_value("retry/count", 2)
    stats.set_value("finish_reason", "finished")
    stats.max_value("depth", 3)
    assert stats.get_stats() == {"retry/count": 3, "finish_reason": "finished", "depth": 3}
    assert stats.get_value("missing", 7) == 7
