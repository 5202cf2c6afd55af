"""The demo news network's surfaces, checked over real HTTP with real parsers.

One network per module (free loopback ports); the edition switch, conditional GET, scale
mode and the CLI are in ``test_demo_site_editions.py``.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit
from urllib.robotparser import RobotFileParser

import pytest
from lxml import html as lxml_html

from pipeline.config import parse_sources
from pipeline.demo_site import DemoNetwork, Manifest, seed_body
from pipeline.errors import UsageError
from pipeline.netpolicy import openings_for
from pipeline.urls import canonicalize

FIXTURES = Path(__file__).parent / "fixtures" / "demo"
NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
    "dc": "http://purl.org/dc/elements/1.1/",
}
SLOW = 1.2  # slow page delay in these tests; sources() sets the timeout below it


# -- helpers (also imported by test_demo_site_editions) ----------------------------------------
@dataclass
class Reply:
    status: int
    headers: Message
    body: bytes


def get(
    url: str, headers: dict[str, str] | None = None, *, method: str = "GET", timeout: float = 10
) -> Reply:
    """One request, redirects NOT followed, so every hop can be asserted."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=timeout)
    try:
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.request(method, target, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, resp.msg, resp.read())
    finally:
        conn.close()


def get_ok(url: str) -> Reply:
    """GET, retrying once on a 500 (the flaky page fails every other request)."""
    reply = get(url)
    if reply.status == 500:
        reply = get(url)
    return reply


def tree(reply: Reply, encoding: str = "utf-8") -> lxml_html.HtmlElement:
    return lxml_html.document_fromstring(reply.body.decode(encoding))


def texts(node: lxml_html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(el.text_content().split()) for el in node.xpath(xpath)]


def links(node: lxml_html.HtmlElement, base: str) -> list[str]:
    return [urljoin(base, href) for href in node.xpath("//a/@href")]


@pytest.fixture(scope="module")
def net() -> Iterator[DemoNetwork]:
    with DemoNetwork(host="127.0.0.1", port=0, slow_seconds=SLOW) as network:
        yield network


@pytest.fixture(scope="module")
def manifest(net: DemoNetwork) -> Manifest:
    return net.manifest()


# -- origins, loopback, sources ----------------------------------------------------------------
def test_three_outlets_on_their_own_loopback_origins(net: DemoNetwork) -> None:
    outlets = net.outlets
    assert [o.key for o in outlets] == ["capital-examiner", "northern-ledger", "harbour-times"]
    origins = {urlsplit(o.base_url).netloc for o in outlets}
    assert len(origins) == 3
    for outlet in outlets:
        parts = urlsplit(outlet.base_url)
        assert ipaddress.ip_address(parts.hostname or "").is_loopback
        assert parts.port and parts.port > 0
        assert get(outlet.url("/")).status == 200


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.10"])
def test_refuses_non_loopback_hosts(host: str) -> None:
    with pytest.raises(UsageError, match="loopback"):
        DemoNetwork(host=host, port=0)


def test_sources_are_valid_and_point_at_the_served_outlets(net: DemoNetwork, tmp_path: Path) -> None:
    path = net.write_sources(tmp_path / "x.yaml")
    parsed = parse_sources(path.read_text(), str(path))
    assert [s.key for s in parsed.sources] == [o.key for o in net.outlets]
    for src, outlet in zip(parsed.sources, net.outlets, strict=True):
        assert str(src.homepage) == outlet.base_url + "/"
        assert src.allow_private_networks == openings_for(outlet.base_url)  # its own port, nothing else
        assert src.politeness.download_timeout < SLOW
        assert src.politeness.max_response_bytes < 3 * src.politeness.max_response_bytes
        for url in src.all_start_urls():
            assert get(url).status == 200, url


def test_shipped_sources_yaml_is_what_sources_out_writes_for_default_ports(tmp_path: Path) -> None:
    shipped = (Path(__file__).parents[1] / "sources.yaml").read_text()
    written = DemoNetwork(port=8701).write_sources(tmp_path / "s.yaml").read_text()
    assert shipped == written
    assert shipped.startswith("# newsflow sources:")


# -- robots.txt --------------------------------------------------------------------------------
def test_robots_disallows_a_linked_path_and_names_the_sitemap(net: DemoNetwork, manifest: Manifest) -> None:
    for outlet in net.outlets:
        om = manifest.outlet(outlet.key)
        reply = get(om.robots_url)
        assert reply.status == 200 and reply.headers["Content-Type"].startswith("text/plain")
        robots = RobotFileParser(om.robots_url)
        robots.parse(reply.body.decode().splitlines())
        assert robots.site_maps() == [om.sitemap_url]
        assert om.robots_disallowed, outlet.key
        for url in om.robots_disallowed:
            assert not robots.can_fetch("newsflow", url), url
        for url in om.article_urls:
            assert robots.can_fetch("newsflow", url), url
        assert not robots.can_fetch("BadBot", om.homepage)
        # The homepage links into the disallowed path, so an obedient crawler must skip it.
        home = links(tree(get(om.homepage)), om.homepage)
        assert any(canonicalize(u) in om.robots_disallowed for u in home), outlet.key


# -- feeds and sitemaps ------------------------------------------------------------------------
def test_rss_feed(manifest: Manifest) -> None:
    om = manifest.outlet("capital-examiner")
    assert om.feed_format == "rss" and om.feed_url
    reply = get(om.feed_url)
    assert reply.headers["Content-Type"] == "application/rss+xml; charset=utf-8"
    root = ET.fromstring(reply.body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    items = root.findall("./channel/item")
    links_ = [i.findtext("link") for i in items]
    in_feed = [a.url for a in manifest.articles_of(om.key) if "feed" in a.found_in]
    assert set(in_feed) <= set(links_)
    assert len(in_feed) == len(om.article_urls)  # a small site lists everything
    for item in items:
        when = parsedate_to_datetime(item.findtext("pubDate") or "")
        assert when.tzinfo is not None and when.utcoffset() is not None
    seed = next(i for i in items if i.findtext("link") == manifest.seed_url)
    assert seed.findtext("{http://purl.org/dc/elements/1.1/}creator") == "Daniel Harmon"
    assert (
        parsedate_to_datetime(seed.findtext("pubDate") or "")
        == manifest.article(manifest.seed_url).published_at
    )
    # A stale entry: the feed still lists a story that now 404s.
    gone = [f.url for f in om.faults if f.category == "http_4xx"]
    assert gone and set(gone) <= set(links_)


def test_atom_feed(manifest: Manifest) -> None:
    om = manifest.outlet("northern-ledger")
    assert om.feed_format == "atom" and om.feed_url
    reply = get(om.feed_url)
    assert reply.headers["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(reply.body)
    assert root.tag == f"{{{NS['atom']}}}feed"
    entries = root.findall("atom:entry", NS)
    assert len(entries) == len(om.article_urls)
    for entry in entries:
        url = entry.find("atom:link[@rel='alternate']", NS).get("href")  # type: ignore[union-attr]
        truth = manifest.article(url)
        published = datetime.fromisoformat(entry.findtext("atom:published", "", NS))
        updated = datetime.fromisoformat(entry.findtext("atom:updated", "", NS))
        assert published == truth.published_at
        assert updated >= published
        assert entry.findtext("atom:title", "", NS) == truth.title


def test_plain_sitemaps_list_every_article(manifest: Manifest) -> None:
    for key in ("capital-examiner", "northern-ledger"):
        om = manifest.outlet(key)
        root = ET.fromstring(get(om.sitemap_url).body)
        assert root.tag == f"{{{NS['sm']}}}urlset"
        locs = [u.findtext("sm:loc", "", NS) for u in root.findall("sm:url", NS)]
        assert locs == list(om.article_urls)
        for url in root.findall("sm:url", NS):
            datetime.fromisoformat(url.findtext("sm:lastmod", "", NS))


def test_sitemap_index_and_google_news_sitemap(manifest: Manifest) -> None:
    om = manifest.outlet("harbour-times")
    root = ET.fromstring(get(om.sitemap_url).body)
    assert root.tag == f"{{{NS['sm']}}}sitemapindex"
    children = [s.findtext("sm:loc", "", NS) for s in root.findall("sm:sitemap", NS)]
    assert om.news_sitemap_url in children and len(children) >= 2
    listed: set[str] = set()
    for child in children:
        reply = get(child)
        assert reply.status == 200 and reply.headers["Content-Type"].startswith("application/xml")
        listed |= {u.findtext("sm:loc", "", NS) for u in ET.fromstring(reply.body).findall("sm:url", NS)}
    assert set(om.article_urls) <= listed
    news = ET.fromstring(get(om.news_sitemap_url or "").body)
    entries = news.findall("sm:url", NS)
    assert entries
    for url in entries:
        truth = manifest.article(url.findtext("sm:loc", "", NS))
        assert "news_sitemap" in truth.found_in
        date = url.findtext("news:news/news:publication_date", "", NS)
        assert datetime.fromisoformat(date) == truth.published_at
        assert url.findtext("news:news/news:publication/news:name", "", NS) == "Harbour Times"
        assert url.findtext("news:news/news:title", "", NS) == truth.title


# -- listings and pagination ---------------------------------------------------------------------
def test_listings_paginate_and_reach_the_articles(manifest: Manifest) -> None:
    for om in manifest.outlets.values():
        seen: set[str] = set()
        for url in om.listing_urls:
            reply = get(url)
            assert reply.status == 200, url
            seen |= {canonicalize(u) for u in links(tree(reply), url)}
        listed = {a.url for a in manifest.articles_of(om.key) if "listing" in a.found_in}
        assert listed and listed <= seen
        # rel=next walks the homepage pagination
        page, walked = om.homepage, 1
        while True:
            nxt = tree(get(page)).xpath("//a[@rel='next']/@href")
            if not nxt:
                break
            page, walked = urljoin(page, nxt[0]), walked + 1
        assert walked >= 2, f"{om.key}: homepage should paginate"


# -- article pages -------------------------------------------------------------------------------
def test_every_article_serves_its_expected_text_and_metadata(manifest: Manifest) -> None:
    for truth in manifest.articles.values():
        if truth.fault == "slow":
            continue  # checked in test_slow_page
        reply = get_ok(truth.url)
        assert reply.status == 200, truth.url
        page = tree(reply, truth.charset)
        assert page.xpath("//link[@rel='canonical']/@href") == [truth.url]
        body = texts(page, "//p")
        positions = [body.index(p) for p in truth.paragraphs]  # each paragraph is one <p>
        assert positions == sorted(positions), truth.url
        assert truth.title in texts(page, "//h1")
        for author in truth.authors:
            assert author.upper() in page.text_content().upper()


def test_each_outlet_has_its_own_metadata_style(manifest: Manifest) -> None:
    def one(key: str) -> lxml_html.HtmlElement:
        return tree(get_ok(manifest.articles_of(key)[0].url))

    capital, northern, harbour = one("capital-examiner"), one("northern-ledger"), one("harbour-times")
    for page in (capital, northern, harbour):
        assert page.xpath("//meta[@property='og:title']/@content")
        assert page.xpath(
            "//*[contains(@class, 'cookie') or contains(@class, 'consent') or contains(@class, 'gdpr')]"
        )
        assert "©" in page.text_content()
    ld = json.loads(capital.xpath("//script[@type='application/ld+json']/text()")[0])
    assert ld["@type"] == "NewsArticle"
    graph = json.loads(harbour.xpath("//script[@type='application/ld+json']/text()")[0])["@graph"]
    assert {"NewsArticle", "BreadcrumbList"} == {g["@type"] for g in graph}
    assert not northern.xpath("//script[@type='application/ld+json']")
    assert northern.xpath("//time/@datetime") and not capital.xpath("//time")
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} JST", harbour.text_content())
    assert re.search(r"[A-Z][a-z]+ \d{2}, \d{4} \d{2}:\d{2} [AP]M", capital.text_content())


def test_seed_article_and_its_boilerplate(manifest: Manifest) -> None:
    truth = manifest.article(manifest.seed_url)
    expected = FIXTURES.joinpath("seed_expected.txt").read_text(encoding="utf-8").strip().split("\n\n")
    assert list(truth.paragraphs) == expected == list(seed_body())
    assert len(expected) == 14
    page = tree(get(manifest.seed_url))
    caption = " ".join(page.xpath("//figure//figcaption")[0].text_content().split())
    assert "(Mikhail Klimentyev, Sputnik, Kremlin Pool Photo via AP)" in caption
    assert "Mikhail Klimentyev/AP" in caption
    assert page.xpath("//figure/img/@alt") == ["Russia Putin"]
    assert "Video Embed" in texts(page, "//div[@class='video-embed']/p")
    body = texts(page, "//div[@class='article-body']/p")
    promo = "EVERYTHING YOU NEED TO KNOW ABOUT TIM SCOTT AHEAD OF HIS BIG 2024 ANNOUNCEMENT"
    click = "CLICK HERE TO READ MORE FROM THE WASHINGTON EXAMINER"
    assert body.index(promo) == 2  # after the second body paragraph, inside the body
    assert body.index(click) == 13
    assert body[-1] == "© 2023 Washington Examiner"
    assert [p for p in body if p not in (promo, click, "© 2023 Washington Examiner")] == expected
    promo_href = page.xpath("//div[@class='article-body']//a[strong]/@href")[0]
    assert get(urljoin(manifest.seed_url, promo_href)).status == 200
    related = page.xpath("//section[@class='related-content']")[0]
    assert related.xpath("h2/text()") == ["Related Content"]
    # The same event, covered by the other two outlets, is linked from the seed story.
    hrefs = {canonicalize(urljoin(manifest.seed_url, h)) for h in related.xpath(".//a/@href")}
    assert set(manifest.event_urls[1:]) <= hrefs
    assert set(truth.related) == hrefs


def test_related_links_carry_tracking_junk_and_resolve(manifest: Manifest) -> None:
    raw: list[str] = []
    for truth in manifest.articles.values():
        if truth.fault == "slow":
            continue
        page = tree(get_ok(truth.url), truth.charset)
        block = page.xpath(
            "//section[@class='related-content']//a/@href | //aside[@class='more-stories']//a/@href"
            " | //div[@class='read-next']//a/@href"
        )
        resolved = [urljoin(truth.url, h) for h in block]
        raw += resolved
        assert [canonicalize(u) for u in resolved] == list(truth.related), truth.url
    assert any("utm_source=" in u for u in raw) and any("#" in u for u in raw)
    cross = [u for u in raw if urlsplit(u).netloc != urlsplit(manifest.seed_url).netloc]
    assert cross
    for url in {canonicalize(u) for u in raw}:
        assert url in manifest.articles


def test_syndicated_wire_story_is_a_near_duplicate(manifest: Manifest) -> None:
    a, b = (manifest.article(u) for u in manifest.syndicated_pair)
    assert a.outlet != b.outlet and a.title == b.title and a.wire and b.wire

    def shingles(text: str) -> set[tuple[str, ...]]:
        words = text.lower().split()
        return {tuple(words[i : i + 5]) for i in range(len(words) - 4)}

    sa, sb = shingles(a.text), shingles(b.text)
    jaccard = len(sa & sb) / len(sa | sb)
    assert a.text != b.text and jaccard > 0.8
    page_a, page_b = get(a.url).body.decode(), get(b.url).body.decode()
    assert "Northern Ledger" in page_a and "Harbour Times" in page_b and "Harbour Times" not in page_a


def test_amp_variant_points_to_its_canonical(manifest: Manifest) -> None:
    amp = manifest.outlet("harbour-times").amp
    assert len(amp) == 1
    amp_url, canonical = next(iter(amp.items()))
    amp_page = get(amp_url)
    assert amp_page.status == 200 and b"<html \xe2\x9a\xa1" in amp_page.body
    assert tree(amp_page).xpath("//link[@rel='canonical']/@href") == [canonical]
    assert urljoin(canonical, tree(get(canonical)).xpath("//link[@rel='amphtml']/@href")[0]) == amp_url


# -- warts ---------------------------------------------------------------------------------------
def test_non_article_pages(manifest: Manifest) -> None:
    for om in manifest.outlets.values():
        assert len(om.non_articles) >= 2
        for url in om.non_articles:
            reply = get(url)
            assert reply.status == 200 and reply.headers["Content-Type"] == "text/html; charset=utf-8"
            assert url not in manifest.articles
    video = next(u for u in manifest.outlet("capital-examiner").non_articles if "video" in u)
    page = tree(get(video))
    assert page.xpath("//video") and not page.xpath("//div[@class='article-body']")
    hub = next(u for u in manifest.outlet("northern-ledger").non_articles if "latest" in u)
    assert re.search(manifest.outlet("northern-ledger").article_urls[0].split("/news/")[0] + "/news/", hub)
    hub_page = tree(get(hub))
    assert hub_page.xpath("//h1") and hub_page.xpath("//time") and len(hub_page.xpath("//h2/a")) >= 2


def test_paywall_teaser(manifest: Manifest) -> None:
    truth = next(a for a in manifest.articles.values() if a.paywalled)
    page = tree(get(truth.url))
    assert len(truth.paragraphs) == 2
    assert texts(page, "//div[@class='article-body']/p") == list(truth.paragraphs)
    assert "Subscribe to continue reading" in page.text_content()


def test_windows_1251_page_declared_only_in_meta(manifest: Manifest) -> None:
    truth = next(a for a in manifest.articles.values() if a.charset == "windows-1251")
    reply = get(truth.url)
    assert reply.headers["Content-Type"] == "text/html"  # no charset parameter
    with pytest.raises(UnicodeDecodeError):
        reply.body.decode("utf-8")
    assert b'<meta http-equiv="Content-Type" content="text/html; charset=windows-1251">' in reply.body
    text = reply.body.decode("cp1251")
    assert truth.language == "ru" and "Белгородской" in truth.paragraphs[0]
    for paragraph in truth.paragraphs:
        assert paragraph in text
    # lxml honours the meta declaration when given bytes
    assert texts(lxml_html.document_fromstring(reply.body), "//h1") == [truth.title]


def test_wrong_charset_header(manifest: Manifest) -> None:
    truth = next(a for a in manifest.articles.values() if a.declared_charset_header == "iso-8859-1")
    reply = get(truth.url)
    assert reply.headers.get_content_charset() == "iso-8859-1"
    assert b'<meta charset="utf-8">' in reply.body
    assert truth.paragraphs[0] in reply.body.decode("utf-8")
    assert truth.paragraphs[0] not in reply.body.decode("iso-8859-1")  # trusting the header garbles


def test_redirect_chain(manifest: Manifest) -> None:
    (redirect,) = manifest.outlet("capital-examiner").redirects
    first = get(redirect.url)
    assert first.status == 301
    hop = urljoin(redirect.url, first.headers["Location"])
    assert hop == redirect.hops[0]
    second = get(hop)
    assert second.status == 302
    final = urljoin(hop, second.headers["Location"])
    assert final == redirect.final_url and final in manifest.articles
    assert get(final).status == 200


def test_fault_pages(manifest: Manifest) -> None:
    faults = {f.kind: f for f in manifest.faults}
    assert {f.category for f in manifest.faults} >= {
        "timeout", "too_large", "redirect_loop", "http_4xx", "http_5xx", "not_html", "blocked_network"
    }  # fmt: skip
    loop = faults["redirect_loop"]
    a = get(loop.url)
    assert a.status == 302 and urljoin(loop.url, a.headers["Location"]) == loop.location
    b = get(loop.location or "")
    assert b.status == 302 and urljoin(loop.location or "", b.headers["Location"]) == loop.url
    assert get(faults["not_found"].url).status == 404
    for _ in range(2):
        reply = get(faults["unavailable"].url)
        assert reply.status == 503 and reply.headers["Retry-After"] == "120"
    flaky = faults["flaky"]
    assert flaky.transient and flaky.category is None
    statuses = [get(flaky.url).status for _ in range(3)]
    assert statuses in ([500, 200, 500], [200, 500, 200])
    pdf = get(faults["binary"].url)
    assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
    assert pdf.body.startswith(b"%PDF-1.4") and pdf.body.rstrip().endswith(b"%%EOF")
    blocked = get(faults["blocked_redirect"].url)
    assert blocked.status == 302
    target = urlsplit(blocked.headers["Location"])
    assert ipaddress.ip_address(target.hostname or "").is_unspecified


def test_oversized_page(net: DemoNetwork, manifest: Manifest) -> None:
    big = next(f for f in manifest.faults if f.category == "too_large")
    limit = net.sources()[2]["politeness"]["max_response_bytes"]
    head = get(big.url, method="HEAD")
    assert head.status == 200 and int(head.headers["Content-Length"]) == 3 * limit
    full = get(big.url)
    assert len(full.body) == 3 * limit and full.body.startswith(b"<!DOCTYPE html>")


def test_slow_page(manifest: Manifest) -> None:
    slow = next(f for f in manifest.faults if f.category == "timeout")
    with pytest.raises(TimeoutError):
        get(slow.url, timeout=SLOW / 3)
    assert get(slow.url, timeout=SLOW * 4).status == 200


def test_malformed_html_still_carries_the_text(manifest: Manifest) -> None:
    truth = next(a for a in manifest.articles.values() if a.id == "night-market")
    reply = get(truth.url)
    raw = reply.body.decode()
    assert "</html>" not in raw and "</p>" not in raw.split('class="story-body"')[1].split("ADVERTISEMENT")[0]
    assert texts(tree(reply), "//div[@class='story-body']/p") == list(truth.paragraphs)


def test_unknown_paths_are_404_pages(net: DemoNetwork) -> None:
    for outlet in net.outlets:
        reply = get(outlet.url("/no/such/page/"))
        assert reply.status == 404 and b"Page not found" in reply.body


def test_disallowed_pages_are_never_requested_by_these_tests(net: DemoNetwork, manifest: Manifest) -> None:
    disallowed = {urlsplit(u).path for o in manifest.outlets.values() for u in o.robots_disallowed}
    assert disallowed
    assert not [r for r in net.requests() if urlsplit(r[2]).path in disallowed]
