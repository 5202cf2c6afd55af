"""Unit tests of the crawler's pure parts: guard, error categories, parsers, signals, plans."""

from __future__ import annotations

import ipaddress
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from scrapy.exceptions import DownloadCancelledError, DownloadTimeoutError, IgnoreRequest
from twisted.internet.error import ConnectionRefusedError, DNSLookupError

from crawlers.discovery import parse_feed, parse_sitemap, robots_sitemaps
from crawlers.errors import RedirectLoop, categorize, category_for_status
from crawlers.frontier import PRIO_ARTICLE, PRIO_SURFACE, Frontier, Planned
from crawlers.guard import BlockedNetwork
from crawlers.page_analysis import analyse, listing_links, parse_html, related_links
from crawlers.scope import Scope, shape_is_article
from crawlers.settings import robots_agent
from crawlers.state import Known, decide
from pipeline.config import Limits, Source
from pipeline.netpolicy import NetworkPolicy

OPEN = ["127.0.0.0/8", "10.0.0.0/8", "192.168.0.0/16", "::1"]


@pytest.mark.parametrize(
    ("address", "opened", "problem"),
    [
        ("127.0.0.1", [], "loopback"),
        ("127.0.0.1", OPEN, None),
        ("127.0.0.1", ["127.0.0.1:8701"], None),  # the port (8701) is the listed one
        ("127.0.0.1", ["127.0.0.1:8702"], "not listed in allow_private_networks"),
        ("10.1.2.3", [], "private"),
        ("10.1.2.3", ["127.0.0.0/8"], "private"),  # loopback opened, RFC 1918 still closed
        ("192.168.0.10", OPEN, None),
        ("169.254.169.254", OPEN, "link-local"),  # cloud metadata: refused whatever is opened
        ("0.0.0.0", OPEN, "unspecified"),
        ("::1", [], "loopback"),
        ("::ffff:10.0.0.1", [], "private"),
        ("::ffff:10.0.0.1", OPEN, None),
        ("224.0.0.1", OPEN, "multicast"),
        ("93.184.216.34", [], None),
    ],
)
def test_network_guard_ranges(address: str, opened: list[str], problem: str | None) -> None:
    verdict = NetworkPolicy(opened).problem(ipaddress.ip_address(address), 8701)
    if problem is None:
        assert verdict is None
    else:
        assert verdict is not None and problem in verdict


def test_error_categories() -> None:
    assert categorize(DownloadTimeoutError("took longer than 1 seconds"))[0] == "timeout"
    assert categorize(DownloadCancelledError("larger than download max size"))[0] == "too_large"
    assert categorize(DNSLookupError("no such host"))[0] == "dns"
    assert categorize(ConnectionRefusedError())[0] == "connection"
    assert categorize(BlockedNetwork("refused by network guard"))[0] == "blocked_network"
    assert categorize(RedirectLoop("loop"))[0] == "redirect_loop"
    assert categorize(IgnoreRequest("Forbidden by robots.txt"))[0] == "robots"
    assert categorize(IgnoreRequest("max redirections reached"))[0] == "redirect_loop"
    assert categorize(ValueError("boom")) == ("other", "ValueError: boom")
    assert (category_for_status(404), category_for_status(503), category_for_status(200)) == (
        "http_4xx",
        "http_5xx",
        None,
    )


def test_rss_and_atom_feeds() -> None:
    rss = b"""<?xml version="1.0"?><rss version="2.0"><channel>
    <item><title>A</title><link>http://x.test/a?utm_source=rss</link><guid isPermaLink="false">id-1</guid>
    <pubDate>Tue, 23 May 2023 10:00:00 -0400</pubDate></item>
    <item><title>B</title><guid>http://x.test/b</guid></item>
    <item><title>no link</title></item></channel></rss>"""
    entries = parse_feed(rss, "http://x.test/feed")
    assert [e.url for e in entries] == ["http://x.test/a?utm_source=rss", "http://x.test/b"]
    assert entries[0].published == datetime(2023, 5, 23, 14, 0, tzinfo=UTC)
    assert entries[0].hints == {"title": "A", "guid": "id-1"}
    atom = b"""<feed xmlns="http://www.w3.org/2005/Atom"><entry><title>C</title><id>tag:c</id>
    <link rel="alternate" href="/news/c"/><link rel="related" href="/other"/>
    <published>2023-05-22T08:00:00+01:00</published><updated>2023-05-24T09:00:00Z</updated></entry></feed>"""
    (entry,) = parse_feed(atom, "http://y.test/atom.xml")
    assert entry.url == "http://y.test/news/c"
    assert entry.updated == datetime(2023, 5, 24, 9, 0, tzinfo=UTC)
    assert entry.hint_dict()["published"] == "2023-05-22T07:00:00+00:00"
    assert parse_feed(b"<<not xml", "http://x.test/") == []


def test_sitemaps_index_and_news() -> None:
    index = b"""<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
    <sitemap><loc>http://h.test/sitemaps/news.xml</loc><lastmod>2023-05-23</lastmod></sitemap></sitemapindex>"""
    page = parse_sitemap(index, "http://h.test/sitemap.xml")
    assert page.kind == "index" and [e.url for e in page.entries] == ["http://h.test/sitemaps/news.xml"]
    news = b"""<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
      xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
    <url><loc>http://h.test/story/1.html</loc><lastmod>2023-05-23T10:00:00+09:00</lastmod>
    <news:news><news:publication><news:name>H</news:name></news:publication>
    <news:publication_date>2023-05-22T09:00:00+09:00</news:publication_date><news:title>One</news:title>
    </news:news></url></urlset>"""
    (entry,) = parse_sitemap(news, "http://h.test/sitemaps/news.xml").entries
    assert entry.published == datetime(2023, 5, 22, 0, 0, tzinfo=UTC)
    assert entry.updated == datetime(2023, 5, 23, 1, 0, tzinfo=UTC)
    assert entry.hints == {"title": "One", "news": True}
    assert list(robots_sitemaps(b"User-agent: *\nDisallow: /x/\nSitemap: http://h.test/sitemap.xml\n")) == [
        "http://h.test/sitemap.xml"
    ]


ARTICLE = """<html><head><link rel="canonical" href="/2023/05/01/story-one/?utm_medium=x">
<meta property="og:type" content="article"><meta property="article:published_time" content="2023-05-01">
</head><body><nav><a href="/section/world/">World</a><a href="/2023/05/01/nav-story-here/">Nav</a></nav>
<article><div class="article-body"><p>{text} <a href="/2023/04/30/inline-link-story/">earlier</a></p>
<p><a href="/2023/04/29/promo-story-link/">EVERYTHING YOU NEED TO KNOW</a></p><p>{text}</p></div>
<div class="related-content"><h3>Related Content</h3><a href="/2023/04/28/related-one-story/">R1</a></div>
</article><div id="mystuff"><a href="/2023/04/27/custom-selected-story/">custom</a></div>
<footer><a href="/about/">About</a></footer></body></html>""".replace("{text}", "Long sentence. " * 60)


def test_page_signals_and_related_links() -> None:
    root = parse_html(ARTICLE.encode())
    info = analyse(root, "http://a.test/2023/05/01/story-one/")
    assert info.canonical == "http://a.test/2023/05/01/story-one/?utm_medium=x"
    assert {"og-article", "published-date", "one-article-element", "long-text"} <= set(info.signals)
    links = {
        link.url.removeprefix("http://a.test"): link.kind
        for link in related_links(root, "http://a.test/x", ["#mystuff"])
    }
    assert links == {
        "/2023/04/30/inline-link-story/": "inline",
        "/2023/04/29/promo-story-link/": "promo",
        "/2023/04/28/related-one-story/": "related",
        "/2023/04/27/custom-selected-story/": "related",
    }
    hub = parse_html(
        b"<html><body><main><h2><a href='/a-b-c'>One</a></h2><p>t</p><h2><a href='/d-e-f'>Two</a></h2>"
        b"<a rel='next' href='?page=2'>Next</a></main></body></html>"
    )
    hub_info = analyse(hub, "http://a.test/hub")
    assert hub_info.score < 0 and "teaser-headlines-2" in hub_info.signals
    kinds = {link.url: link.kind for link in listing_links(hub, "http://a.test/hub")}
    assert kinds["http://a.test/hub?page=2"] == "pagination" and kinds["http://a.test/a-b-c"] == "listing"


def source(**extra: object) -> Source:
    data: dict[str, object] = {"key": "a", "name": "A", "homepage": "http://a.test:8080/"}
    data.update(extra)
    return Source.model_validate(data)


def test_scope_patterns_and_canonical() -> None:
    other = source(key="b", homepage="http://b.test/", trailing_slash="strip")
    scope = Scope(source(article_urls={"allow": [r"/\d{4}/"], "deny": ["/live/"]}), [other])
    assert scope.canonical("HTTP://A.test:8080/2023/x?utm_source=y#c") == "http://a.test:8080/2023/x"
    assert scope.canonical("http://b.test/news/x/") == "http://b.test/news/x"  # b's own slash rule
    assert scope.url_verdict("http://a.test:8080/2023/x") is True
    assert scope.url_verdict("http://a.test:8080/2023/live/x") is False
    assert scope.url_verdict("http://a.test:8080/about") is False
    assert scope.url_verdict("http://c.test/2023/x") is None
    assert scope.may_follow_related("http://a.test:8080/2023/x")
    assert not scope.may_follow_related("http://b.test/news/x")
    assert shape_is_article("http://c.test/world/big-news-story-today")
    assert not shape_is_article("http://c.test/tag/big-news-story")
    assert robots_agent("newsflow/0.1 (+https://example.org/bot)") == "newsflow"


def test_frontier_dedupes_prioritises_and_budgets() -> None:
    frontier = Frontier(max_pages=2)
    assert frontier.claim("http://a/x") and not frontier.claim("http://a/x")
    frontier.push(Planned("http://a/article", "feed", "page", priority=PRIO_ARTICLE))
    frontier.push(Planned("http://a/listing", "listing", "page", priority=PRIO_SURFACE))
    frontier.push(Planned("http://a/third", "feed", "page", priority=PRIO_ARTICLE))
    popped = [frontier.pop(), frontier.pop(), frontier.pop()]
    assert [p.url if p else None for p in popped] == ["http://a/listing", "http://a/article", None]
    assert frontier.issued == 2 and frontier.over_budget == 1


def test_recrawl_decisions() -> None:
    now = datetime(2023, 5, 24, tzinfo=UTC)
    schedule = Limits().revisit_ages()
    old = Known(
        '"e"',
        "Mon, 01 May 2023 00:00:00 GMT",
        now - timedelta(days=1),
        now - timedelta(days=40),
        now - timedelta(days=40),
        "h",
        True,
        updated=now - timedelta(days=40),
        stored=True,
    )
    day_ago = now - timedelta(days=1)
    recent = Known('"e"', None, day_ago, day_ago, day_ago, "h", True, stored=True)
    assert decide(None, now=now, schedule=schedule, force=False).action == "fetch"
    assert decide(old, now=now, schedule=schedule, force=False).action == "skip"  # past the last age
    refetch = decide(recent, now=now, schedule=schedule, force=False)
    assert refetch.action == "refetch" and refetch.reason == "revisit due"
    assert refetch.request_headers() == {"If-None-Match": '"e"'}
    forced = decide(old, now=now, schedule=schedule, force=True)
    assert forced.request_headers() == {"If-None-Match": '"e"', "If-Modified-Since": old.last_modified}
    hinted = decide(old, now=now, schedule=schedule, force=False, updated_hint=now - timedelta(days=2))
    assert hinted.action == "refetch" and hinted.reason == "updated since last fetch"
    unloaded = decide(replace(old, stored=False), now=now, schedule=schedule, force=False)
    assert unloaded.action == "fetch" and unloaded.request_headers() == {}  # never a 304 for it
    stale_hint = decide(old, now=now, schedule=schedule, force=False, updated_hint=now - timedelta(days=45))
    assert stale_hint.action == "skip"
    # A removed story is asked unconditionally: only a full 200 can bring it back.
    removed = decide(replace(recent, removed=True), now=now, schedule=schedule, force=False)
    assert removed.action == "refetch" and removed.request_headers() == {}
    # Asked 1 h ago at age 23.5 h: the 1 d slot has passed since, the 2 d slot has not.
    visited = replace(
        recent, published=now - timedelta(hours=24, minutes=30), fetched_at=now - timedelta(hours=1)
    )
    assert decide(visited, now=now, schedule=schedule, force=False).action == "refetch"
    just_done = replace(visited, fetched_at=now - timedelta(minutes=10))
    assert decide(just_done, now=now, schedule=schedule, force=False).reason == "stored and not due"
