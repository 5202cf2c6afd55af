"""The one-walk page analysis (``crawlers.pagescan``) says what the XPath version said.

Issue 17 item 4: ~20 XPath evaluations per page were most of the crawler's page CPU, so the
lookups now come from one walk of the tree, and the tree from lxml's plain parser instead of
Scrapy's selector. Both must be invisible in the crawl's output. The reference is the XPath
version itself (``tests/pages_xpath.py``); it is compared on every page of the demo network
(fetched from it on loopback), on the HTML fixtures, and on pages written to hit the corners
of the XPath semantics: document order of unions, attribute order, ``text()`` runs,
``normalize-space`` tokens, ``//header/*``, comments.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from scrapy.http import HtmlResponse

from crawlers import page_analysis as pages
from crawlers.pagescan import page_root
from tests import pages_xpath

FIXTURES = Path(__file__).parent / "fixtures"

EDGE_PAGES = {
    "published-union": """<html><head>
        <meta itemprop="datePublished" datetime=" " content="">
        <meta content="2020-01-02" property="article:published_time" itemprop="datePublished">
        <meta itemprop="datePublished" datetime="2019-05-05" content="2018-01-01">
        </head><body><article><div><time datetime="2017-01-01">x</time></div></article>
        <time datetime="2016-01-01">outside</time><span itemprop="datePublished" datetime="2015-01-01"></span>
        </body></html>""",
    "published-time-in-article": """<html><body><time datetime="2010-01-01">no</time>
        <article><p>t <time datetime=" 2011-02-03 ">x</time></p></article></body></html>""",
    "titles-and-comments": """<html><head><title>  </title><title><!-- c -->After comment</title>
        <meta property="og:title" content="  "><link rel="canonical" href=" ">
        <meta property="og:url" content="/from-og"><meta property="og:type" content=" Article ">
        </head><body><p>short</p></body></html>""",
    "ld-json": """<html><head>
        <script type="application/ld+json">{"@graph": [{"@type": ["WebPage", "NewsArticle"]}]}</script>
        <script type="application/ld+json">not json</script>
        <script type="application/LD+JSON">{"@type": "ItemList"}</script>
        <script type="application/ld+json"></script>
        </head><body><main><p>x</p></main></body></html>""",
    "body-classes": """<html><body>
        <div class="story-body\u00a0wide"><p>nbsp is no XML space</p></div>
        <div class="x\tentry-content\n"><p>tab and newline are</p><p>"""
    + "word " * 200
    + """</p></div>
        <div class="article-bodyx"><p>no token</p></div>
        <div itemprop="articleBody"><p>itemprop wins</p></div></body></html>""",
    "body-class-tokens": """<html><body>
        <div class="story-body\u00a0wide"><p>nbsp is no XML space</p></div>
        <div class="x\tentry-content\n"><p>tab and newline are</p><p>"""
    + "word " * 200
    + """</p></div>
        </body></html>""",
    "headings-and-related": """<html><body><header><h2><a href="/h">Head</a></h2><span>Related</span>
        <a href="/in-header">x</a></header>
        <article><h2>Related stories</h2><ul><li><a href="/r1">One</a></li></ul>
        <div class="more-stories"><a href="/r2">Two</a><p><a href="/r3">Three</a></p></div>
        <div class="more" id="stories"><a href="/r4">joined marker</a></div>
        <nav class="related"><a href="/r5">in nav</a></nav>
        <p>Text with <a href="/inline">an inline link</a> and more.</p>
        <p><a href="/promo">Only the link</a></p><p><a href="#frag">anchor</a><a href="mailto:x@y">m</a></p>
        <h3><a href="/teaser">Teaser</a></h3><h4><a href="/teaser2">Teaser 2</a></h4>
        </article></body></html>""",
    "pagination": """<html><head><base href=" "><base href="/base/"><link rel="next" href="?page=2">
        </head><body><nav><a href="/section">Section</a></nav>
        <a rel="next" href="/page/3">Next</a><a rel="nofollow next" href="/p4">more</a>
        <a href="/list?page=5">Older posts</a><a href="/story-1">Story</a>
        <article><a href="/a1">a</a></article><article></article><article></article><article></article>
        </body></html>""",
    "amp-and-case": """<HTML AMP><HEAD><LINK REL="canonical" HREF="/canon"></HEAD>
        <BODY><MAIN CLASS="Related"><P>Upper</P></MAIN></BODY></HTML>""",
    "empty": "",
    "nul-and-space": "  \x00 <html><body><p>a\x00b</p></body></html>  ",
}


def _analysis(info: Any) -> tuple[Any, ...]:
    return (
        info.canonical,
        info.og_type,
        info.ld_types,
        info.published,
        info.title,
        info.score,
        info.signals,
        info.amp,
    )


def _links(links: list[Any]) -> list[tuple[str, str]]:
    return [(link.url, link.kind) for link in links]


def assert_same_analysis(response: HtmlResponse, selectors: tuple[str, ...] = ()) -> None:
    reference_root = response.selector.root
    root = page_root(response)
    assert etree.tostring(root) == etree.tostring(reference_root), response.url
    url = response.url
    expected = pages_xpath.analyse(reference_root, url)
    info = pages.analyse(root, url)
    assert _analysis(info) == _analysis(expected), url
    assert (info.body is None) == (expected.body is None)
    # The crawl stops counting paragraph text at the long-text threshold: below it the exact
    # total, from it on some number at least the threshold (and no more than the total).
    full = pages.paragraph_chars(info.body if info.body is not None else root)
    reference_container = expected.body if expected.body is not None else reference_root
    assert full == pages_xpath.paragraph_chars(reference_container), url
    cut = pages.paragraph_chars(info.body if info.body is not None else root, enough=pages.LONG_TEXT_CHARS)
    assert cut == full if full < pages.LONG_TEXT_CHARS else pages.LONG_TEXT_CHARS <= cut <= full, url
    assert _links(pages.related_links(root, url, selectors, info.body, info.scan)) == _links(
        pages_xpath.related_links(reference_root, url, selectors, expected.body)
    ), url
    assert _links(pages.related_links(root, url)) == _links(pages_xpath.related_links(reference_root, url))
    assert _links(pages.listing_links(root, url, info.scan)) == _links(
        pages_xpath.listing_links(reference_root, url)
    )


@pytest.mark.parametrize("name", sorted(EDGE_PAGES))
def test_edge_pages(name: str) -> None:
    body = EDGE_PAGES[name].encode("utf-8")
    response = HtmlResponse(f"http://site.test/{name}/x", body=body, encoding="utf-8")
    assert_same_analysis(response, selectors=("div.more-stories", "ul"))


@pytest.mark.parametrize("path", sorted(FIXTURES.rglob("*.html")), ids=lambda p: p.name)
def test_fixture_pages(path: Path) -> None:
    # No declared encoding: Scrapy's detection (meta charset, BOM, guess) decides, as in a crawl.
    assert_same_analysis(HtmlResponse(f"http://site.test/{path.name}", body=path.read_bytes()))


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (
            "<html><body><p>Привет, мир</p></body></html>".encode("cp1251"),
            {"Content-Type": "text/html; charset=cp1251"},
        ),
        (b'<meta charset="windows-1251"><p>' + "Мир".encode("cp1251") + b"</p>", {}),
        (b"\xef\xbb\xbf<html><body><p>bom</p></body></html>", {"Content-Type": "text/html"}),
        (
            b"<html><body><p>bad \xff\xfe utf-8</p></body></html>",
            {"Content-Type": "text/html; charset=utf-8"},
        ),
        (b"   \n ", {"Content-Type": "text/html"}),
    ],
)
def test_encodings_parse_as_scrapy_does(body: bytes, headers: dict[str, str]) -> None:
    assert_same_analysis(HtmlResponse("http://site.test/enc", body=body, headers=headers))


UTF8 = {"Content-Type": "text/html; charset=utf-8"}
PLAIN = "<html><body><p>caf\u00e9 \u2013 plain</p></body></html>"


@pytest.mark.parametrize(
    ("body", "direct"),
    [
        (PLAIN.encode(), True),
        (f" \t\r\n\x0b\x0c{PLAIN}\n\n".encode(), True),  # what bytes.strip and str.strip both strip
        (f"\x1c{PLAIN}".encode(), False),  # str.strip strips the separators, bytes.strip does not
        (f"{PLAIN}\x1f\n".encode(), False),
        (f"\u00a0{PLAIN}".encode(), False),  # non-ASCII whitespace at an edge
        (f"{PLAIN}\u3000".encode(), False),
        (f"{PLAIN}\u00e9".encode(), False),  # non-ASCII at an edge, not whitespace: still left to text
        (b"\xef\xbb\xbf" + PLAIN.encode(), False),  # a BOM: Scrapy's text drops it
        (PLAIN.encode().replace(b"plain", b"pl\x00ain"), False),  # NULs are removed from the text
        (PLAIN.encode().replace(b"plain", b"pl\xffain"), False),  # invalid UTF-8: replaced in the text
        (PLAIN.encode("utf-16"), False),
        (b"", False),
        (b" \n\t", False),
    ],
)
def test_utf8_body_parsed_directly(body: bytes, direct: bool) -> None:
    """A plain UTF-8 body is parsed as it is, without decoding it: the tree of the decoded text."""
    from crawlers.pagescan import _utf8_source

    response = HtmlResponse("http://site.test/utf8", body=body, headers=UTF8)
    assert (_utf8_source(response) is not None) == direct
    assert_same_analysis(response)
    other = HtmlResponse(
        "http://site.test/cp", body=body, headers={"Content-Type": "text/html; charset=cp1252"}
    )
    assert _utf8_source(other) is None  # only what Scrapy reads as UTF-8
    assert_same_analysis(other)


def test_every_demo_page(demo_network: Any) -> None:
    manifest = demo_network.manifest()
    urls: list[str] = []
    for outlet in manifest.outlets.values():
        urls += [outlet.homepage, *outlet.listing_urls, *outlet.article_urls, *outlet.non_articles]
    checked = 0
    for url in dict.fromkeys(urls):
        try:
            with urllib.request.urlopen(url, timeout=10) as answer:  # loopback: the demo network
                body, ctype = answer.read(), answer.headers.get("Content-Type", "")
        except OSError:
            continue  # a page of the network's fault catalogue (404, 410, a reset)
        if "html" in ctype:
            assert_same_analysis(HtmlResponse(url, body=body, headers={"Content-Type": ctype}))
            checked += 1
    assert checked > 50
