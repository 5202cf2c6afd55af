"""Fault rows: the crawl stays inside its fence, and odd URLs cost one link, never the page.

Every crawl row runs the real crawler (subprocess, real Scrapy) against two loopback servers
on OS-chosen ports: the source's own site, which sets the trap, and an "internal" service
that records every hit. A row passes when the internal service saw nothing, no fetch of it
is in the database, the refusal was counted, and the source's own story still arrived.
Addresses outside loopback (RFC 1918, link-local) appear only in rows that ask the fence for
its decision: nothing ever connects to them.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from crawlers.fence import FenceMiddleware, OffsiteRequest
from crawlers.guard import BlockedNetwork
from crawlers.scope import Scope
from pipeline.config import ConfigError, Source, parse_sources
from pipeline.db.models import Article, CrawlLink, CrawlRun, Fetch
from pipeline.hosts import url_target
from pipeline.netpolicy import NetworkPolicy, openings_for
from pipeline.search import search
from pipeline.stages.crawl import crawl
from pipeline.stages.extract import extract
from pipeline.stages.load import load
from pipeline.urls import canonicalize
from tests.faults.fencesite import (
    Route,
    Server,
    article,
    feed,
    internal_service,
    serving,
    sitemap_index,
    write_sources,
)


@pytest.fixture
def internal() -> Iterator[Server]:
    with serving(internal_service()) as server:
        yield server


@pytest.fixture
def allowed() -> Iterator[Server]:
    with serving(Server()) as server:
        yield server


def run_rows(db_url: str, run_id: str) -> tuple[list[Fetch], dict[str, Any]]:
    engine = create_engine(db_url)
    with Session(engine) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one()
        rows = list(session.scalars(select(Fetch).where(Fetch.run_id == run.id)))
        stats = dict((run.stats or {}).get("crawl", {}))
    engine.dispose()
    return rows, stats


# -- the traps ------------------------------------------------------------------------------
# Each returns the allowed site's routes and the source overrides; ``a``/``i`` are the two
# servers' bases, ``ip`` the internal port. The source's own story is always in the feed.
Trap = Callable[[str, str, int, int], tuple[dict[str, Route], dict[str, Any]]]
OWN = "/news/own-local-story"


def _redirect_to(target: str) -> Trap:
    def trap(a: str, i: str, ap: int, ip: int) -> tuple[dict[str, Route], dict[str, Any]]:
        routes = {"/feed.rss": (200, feed([a + OWN, a + "/news/moved-local-story"]), {})}
        routes["/news/moved-local-story"] = (302, "", {"Location": target.format(i=i, ap=ap, ip=ip)})
        return routes, {}

    return trap


def _related(hrefs: list[str], scope: str, head: str = "") -> Trap:
    def trap(a: str, i: str, ap: int, ip: int) -> tuple[dict[str, Route], dict[str, Any]]:
        links = [h.format(i=i, ap=ap, ip=ip) for h in hrefs]
        page = article("Own story", head=head.format(i=i, ap=ap, ip=ip), related=links)
        return {"/feed.rss": (200, feed([a + OWN]), {}), OWN: (200, page, {})}, {"related": {"scope": scope}}

    return trap


def _sitemap_index(scope: str) -> Trap:
    def trap(a: str, i: str, ap: int, ip: int) -> tuple[dict[str, Route], dict[str, Any]]:
        routes = {
            "/feed.rss": (200, feed([a + OWN]), {}),
            "/sitemap.xml": (200, sitemap_index([i + "/sitemap.xml", f"http://2130706433:{ip}/s.xml"]), {}),
        }
        return routes, {"discovery": {"sitemaps": [a + "/sitemap.xml"]}, "related": {"scope": scope}}

    return trap


def _robots_sitemap(a: str, i: str, ap: int, ip: int) -> tuple[dict[str, Route], dict[str, Any]]:
    robots = f"User-agent: *\nAllow: /\nSitemap: {i}/sitemap.xml\nSitemap: http://0x7f.1:{ip}/s.xml\n"
    routes = {"/feed.rss": (200, feed([a + OWN]), {}), "/robots.txt": (200, robots, {})}
    return routes, {"discovery": {"robots_sitemaps": True}, "related": {"scope": "any"}}


def _feed_entry(a: str, i: str, ap: int, ip: int) -> tuple[dict[str, Route], dict[str, Any]]:
    entries = [
        a + OWN,
        i + "/news/internal-feed-internal-story",
        f"http://127.0.0.1:{ap}@127.0.0.1:{ip}/news/userinfo-internal-story",  # credential-fixture
    ]
    return {"/feed.rss": (200, feed(entries), {})}, {}


def _meta_refresh(a: str, i: str, ap: int, ip: int) -> tuple[dict[str, Route], dict[str, Any]]:
    refresh = f'<meta http-equiv="refresh" content="0; url={i}/news/internal-refresh-internal-story">'
    page = f"<html><head>{refresh}</head><body>moved</body></html>"
    routes = {"/feed.rss": (200, feed([a + OWN, a + "/news/refresh-local-story"]), {})}
    routes["/news/refresh-local-story"] = (200, page, {})
    return routes, {}


NUMERIC = [
    "http://2130706433:{ip}/news/decimal-internal-story",
    "http://0x7f.1:{ip}/news/dotted-hex-internal-story",
    "http://0177.0.0.1:{ip}/news/octal-internal-story",
    "http://127.1:{ip}/news/short-internal-story",
    "http://127.0.0.1.:{ip}/news/trailing-dot-internal-story",
    "http://[::ffff:127.0.0.1]:{ip}/news/mapped-internal-story",
    "http://127.0.0.1:{ap}@127.0.0.1:{ip}/news/userinfo-internal-story",  # credential-fixture
    "{i}/news/plain-internal-story",
]

TRAPS: dict[str, Trap] = {
    "302 redirect": _redirect_to("{i}/news/internal-redirect-internal-story"),
    "302 to 2130706433": _redirect_to("http://2130706433:{ip}/news/internal-internal-story"),
    "302 to 0x7f.1": _redirect_to("http://0x7f.1:{ip}/news/internal-internal-story"),
    "302 with userinfo": _redirect_to(
        "http://127.0.0.1:{ap}@127.0.0.1:{ip}/news/internal-internal-story"  # credential-fixture
    ),
    "302 to [::ffff:127.0.0.1]": _redirect_to("http://[::ffff:127.0.0.1]:{ip}/news/internal-internal-story"),
    "sitemap index entry": _sitemap_index("same_site"),
    "sitemap index entry, scope any": _sitemap_index("any"),
    "robots.txt Sitemap: line": _robots_sitemap,
    "feed entry": _feed_entry,
    "meta refresh": _meta_refresh,
    "related links, scope same_site": _related(NUMERIC, "same_site"),
    "related links, scope any": _related(NUMERIC, "any"),
    "<base href>, scope any": _related(["news/internal-base-story"], "any", head='<base href="{i}/">'),
}


@pytest.mark.parametrize("trap", list(TRAPS))
def test_no_request_leaves_the_fence(
    trap: str, allowed: Server, internal: Server, sqlite_url: str, tmp_path: Path
) -> None:
    routes, overrides = TRAPS[trap](allowed.base, internal.base, allowed.port, internal.port)
    allowed.routes = {OWN: (200, article("Own story"), {}), **routes}
    sources = write_sources(tmp_path / "sources.yaml", allowed, **overrides)
    result = crawl("allowed", "fence", sources_path=sources, database_url=sqlite_url)
    assert result.status == "succeeded", result.error
    assert internal.hits == [], f"{trap}: the internal service was reached: {internal.hits}"
    rows, stats = run_rows(sqlite_url, "fence")
    leaked = [
        r for r in rows if r.status is not None and url_target(r.final_url or r.url).port == internal.port
    ]
    assert leaked == [], f"{trap}: stored a response of the internal service"
    if trap != "related links, scope same_site":  # those are simply not followed (scope)
        refused = ("offsite_blocked", "network_blocked", "skipped_offsite_entries")
        assert sum(stats.get(key, 0) for key in refused) >= 1, stats
    own = [r for r in rows if r.url == allowed.base + OWN]
    assert own and own[0].outcome == "fetched" and own[0].is_article_candidate


def test_refused_redirect_is_a_clear_skip_and_search_never_sees_the_internal_page(
    allowed: Server, internal: Server, sqlite_url: str, tmp_path: Path
) -> None:
    routes, _ = TRAPS["302 redirect"](allowed.base, internal.base, allowed.port, internal.port)
    allowed.routes = {OWN: (200, article("Own story"), {}), **routes}
    sources = write_sources(tmp_path / "sources.yaml", allowed)
    assert crawl("allowed", "r1", sources_path=sources, database_url=sqlite_url).ok
    rows, stats = run_rows(sqlite_url, "r1")
    moved = next(r for r in rows if r.url.endswith("/news/moved-local-story"))
    assert (moved.outcome, moved.error_category) == ("skipped", "offsite")
    assert f"127.0.0.1:{internal.port} is outside the source's fence" in (moved.error_message or "")
    assert stats["offsite_blocked"] == 1
    extract("r1", database_url=sqlite_url, sources_path=sources, workers=1)
    load("r1", database_url=sqlite_url)
    assert not search("payroll", database_url=sqlite_url)
    hits = search("ferry timetable", database_url=sqlite_url)
    assert [h.url for h in hits] == [allowed.base + OWN]
    assert internal.hits == []


# -- odd URLs cost one link, never the page ------------------------------------------------
ODD_LINKS = [
    "http://[::1]:1/news/ipv6-literal-story",  # canonical form keeps the brackets
    "http://[::1/news/broken-literal-internal-story",
    "http://127.0.0.1:99999/news/bad-port-internal-story",
    "http://127.0.0.1:port/news/no-number-internal-story",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("scope", ["same_site", "any"])
def test_odd_links_are_skipped_one_at_a_time_and_the_article_survives(
    scope: str, allowed: Server, internal: Server, sqlite_url: str, tmp_path: Path
) -> None:
    own = article("Own story", related=[*ODD_LINKS, "/news/sibling-local-story"])
    allowed.routes = {
        "/feed.rss": (200, feed([allowed.base + OWN]), {}),
        OWN: (200, own, {}),
        "/news/sibling-local-story": (200, article("Sibling story"), {}),
    }
    sources = write_sources(tmp_path / "sources.yaml", allowed, related={"scope": scope})
    assert crawl("allowed", "odd", sources_path=sources, database_url=sqlite_url).ok
    rows, _ = run_rows(sqlite_url, "odd")
    page = next(r for r in rows if r.url == allowed.base + OWN)
    assert (page.outcome, page.error_category, page.is_article_candidate) == ("fetched", None, True)
    assert any(r.url == allowed.base + "/news/sibling-local-story" and r.outcome == "fetched" for r in rows)
    engine = create_engine(sqlite_url)
    with Session(engine) as session:
        targets = set(session.scalars(select(CrawlLink.to_url)))
    engine.dispose()
    assert "http://[::1]:1/news/ipv6-literal-story" in targets  # not http://::1:1/...
    assert not any("broken-literal" in t or "bad-port" in t or "no-number" in t for t in targets)
    if scope == "any":  # followed, and refused at the download: [::1]:1 is not listed
        ipv6 = next(r for r in rows if r.url == "http://[::1]:1/news/ipv6-literal-story")
        assert ipv6.error_category == "blocked_network" and ipv6.status is None
    extract("odd", database_url=sqlite_url, sources_path=sources, workers=1)
    assert load("odd", database_url=sqlite_url).rejected == 0
    engine = create_engine(sqlite_url)
    with Session(engine) as session:
        stored = set(session.scalars(select(Article.url)))
    engine.dispose()
    assert allowed.base + OWN in stored  # the page with the odd links is an article


@pytest.mark.parametrize(
    "declared", ["file:///etc/passwd", "javascript:void(0)", "http://[::1/broken", "http://x:99999/a"]
)
def test_an_unusable_canonical_falls_back_to_the_fetched_url(
    declared: str, allowed: Server, sqlite_url: str, tmp_path: Path
) -> None:
    page = article("Own story", head=f'<link rel="canonical" href="{declared}">')
    allowed.routes = {"/feed.rss": (200, feed([allowed.base + OWN]), {}), OWN: (200, page, {})}
    sources = write_sources(tmp_path / "sources.yaml", allowed, related={"depth": 0})
    assert crawl("allowed", "canon", sources_path=sources, database_url=sqlite_url).ok
    extract("canon", database_url=sqlite_url, sources_path=sources, workers=1)
    result = load("canon", database_url=sqlite_url)
    assert (result.new, result.rejected) == (1, 0)
    engine = create_engine(sqlite_url)
    with Session(engine) as session:
        stored = session.scalars(select(Article.canonical_url)).all()
    engine.dispose()
    assert stored == [allowed.base + OWN]


# -- decisions only (no connection is ever made) -------------------------------------------
def _middleware(source: Source) -> FenceMiddleware:
    crawler = get_crawler(settings_dict={"NEWSFLOW_ALLOW_PRIVATE_NETWORKS": source.allow_private_networks})
    crawler.spider = SimpleNamespace(scope=Scope(source), counts={"offsite_blocked": 0, "network_blocked": 0})  # type: ignore[assignment]
    return FenceMiddleware(crawler)


async def _no_lookup(url: str) -> str | None:
    """Tripwire: every row here is decided from the URL alone. A name that reached the
    resolver would mean a DNS query (traffic off loopback), so the test fails instead."""
    raise AssertionError(f"the fence would resolve {url}: decisions here must not touch the network")


def _source(scope: str, openings: list[str]) -> Source:
    return Source(
        key="s",
        name="S",
        homepage="http://127.0.0.1:18481/",  # type: ignore[arg-type]
        related={"scope": scope},  # type: ignore[arg-type]
        allow_private_networks=openings,
    )


OFF, NET = OffsiteRequest, BlockedNetwork


@pytest.mark.parametrize(
    ("url", "same_site", "anywhere"),
    [
        ("http://127.0.0.1:18481/news/a-internal-story", None, None),
        (
            "http://0x7f.1:18481/news/a-internal-story",
            None,
            None,
        ),  # another spelling of the same host and port
        ("http://127.0.0.1.:18481/news/a-internal-story", None, None),
        ("http://127.0.0.1:18482/news/a-internal-story", OFF, NET),  # loopback, but not the listed port
        ("http://2130706433:18482/news/a-internal-story", OFF, NET),
        ("http://0177.0.0.1:18482/news/a-internal-story", OFF, NET),
        ("http://127.0.0.1:18481@127.0.0.1:18482/", OFF, NET),  # credential-fixture
        ("http://[::1]:18481/", OFF, NET),  # loopback, but not the listed address
        # Non-loopback addresses below are decided from the literal: never resolved, never connected.
        ("http://10.0.0.5:18481/", OFF, NET),  # RFC 1918
        ("http://192.168.1.1/", OFF, NET),
        ("http://[fd00::1]/", OFF, NET),
        ("http://169.254.169.254/latest/meta-data", NET, NET),  # never openable: refused first
        ("http://[fe80::1]/", NET, NET),
        ("http://0.0.0.0:18481/", NET, NET),
        ("http://evil.example/", OFF, "dns"),  # same_site: refused before any DNS lookup
        ("ftp://127.0.0.1:18481/x", OFF, OFF),
    ],
)
def test_fence_decisions_without_connecting(
    url: str,
    same_site: type[Exception] | None,
    anywhere: type[Exception] | str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_connect(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"a fence decision tried to connect: {args}")

    # Tripwires: a decision row never opens a socket (non-loopback literals are decided only).
    monkeypatch.setattr(socket.socket, "connect", no_connect)
    monkeypatch.setattr(socket.socket, "connect_ex", no_connect)
    monkeypatch.setattr(socket, "create_connection", no_connect)
    for scope, expected in (("same_site", same_site), ("any", anywhere)):
        middleware = _middleware(_source(scope, ["127.0.0.1:18481"]))
        middleware.guard.verdict = _no_lookup  # type: ignore[method-assign]
        related = Request("http://127.0.0.1:18481/", meta={"nf": SimpleNamespace(discovery="related")})
        request = related.replace(url=url)
        if expected == "dns":  # in scope: the next step would be a DNS lookup (the tripwire)
            with pytest.raises(AssertionError, match="would resolve"):
                asyncio.run(middleware.process_request(request))
        elif expected is None:
            assert asyncio.run(middleware.process_request(request)) is None, (scope, url)
        else:
            assert isinstance(expected, type)
            with pytest.raises(expected):
                asyncio.run(middleware.process_request(request))


def test_unparseable_urls_are_refused_by_the_fence() -> None:
    fence = Scope(_source("any", [])).fence
    for url in (
        "http://[::1/x",
        "http://127.0.0.1:99999/",
        "http://127.0.0.1:port/",
        "http:///",
        "file:///x",
    ):
        assert fence.refusal(url, wide=True), url


def test_private_address_decisions_follow_the_list() -> None:
    policy = NetworkPolicy(["127.0.0.1:18481", "10.20.0.0/16"])
    ip = ipaddress.ip_address
    assert policy.problem(ip("127.0.0.1"), 18481) is None
    assert "not listed" in (policy.problem(ip("127.0.0.1"), 18482) or "")
    assert policy.problem(ip("10.20.3.4"), 443) is None
    assert "private" in (policy.problem(ip("10.21.0.1"), 443) or "")
    assert "private" in (policy.problem(ip("192.168.0.1"), 80) or "")
    assert "link-local" in (policy.problem(ip("169.254.169.254"), 80) or "")
    assert policy.problem(ip("93.184.216.34"), 80) is None
    assert openings_for("http://127.0.0.1:18481") == ["127.0.0.1:18481"]
    assert openings_for("http://[::1]:18481") == ["[::1]:18481"]
    assert openings_for("http://localhost:18481") == ["127.0.0.1:18481", "[::1]:18481"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("true", "'true' is no longer accepted"),
        ("[localhost]", "not an IP address"),
        ("['169.254.169.254']", "not inside a private range"),
        ("['0.0.0.0/0']", "not inside a private range"),
        ("['127.0.0.1:70000']", "invalid port"),
    ],
)
def test_allow_private_networks_must_be_an_explicit_narrow_list(value: str, message: str) -> None:
    text = f"version: 1\nsources:\n  - key: a\n    name: A\n    homepage: http://127.0.0.1:9/\n    allow_private_networks: {value}\n"
    with pytest.raises(ConfigError) as info:
        parse_sources(text)
    (issue,) = info.value.issues
    assert issue.location == "sources.0.allow_private_networks" and issue.line == 6
    assert message in issue.message


def test_explicit_list_is_normalised() -> None:
    text = (
        "version: 1\nsources:\n  - key: a\n    name: A\n    homepage: http://127.0.0.1:9/\n"
        "    allow_private_networks: ['127.0.0.1:9', '[::1]:9', '::ffff:127.0.0.2', '127.0.0.0/8']\n"
        "    allowed_domains: ['0x7f.1:9', 'Example.COM.']\n"
    )
    source = parse_sources(text).get("a")
    assert source.allow_private_networks == ["127.0.0.1:9", "[::1]:9", "127.0.0.2", "127.0.0.0/8"]
    assert source.allowed_domains == ["127.0.0.1:9", "example.com"]
    legacy = text.replace("['127.0.0.1:9', '[::1]:9', '::ffff:127.0.0.2', '127.0.0.0/8']", "false")
    assert parse_sources(legacy).get("a").allow_private_networks == []


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        ("http://[::1]:1/x", "http://[::1]:1/x"),
        ("HTTP://[::FFFF:127.0.0.1]:80/x", "http://127.0.0.1/x"),
        ("http://2130706433:8080/x", "http://127.0.0.1:8080/x"),
        ("http://0x7f.1/x", "http://127.0.0.1/x"),
        ("http://user:pw@Example.COM./x", "http://example.com/x"),  # credential-fixture
        ("http://Bücher.example/x", "http://xn--bcher-kva.example/x"),
    ],
)
def test_hosts_canonicalise_to_one_spelling(url: str, canonical: str) -> None:
    assert canonicalize(url) == canonical
