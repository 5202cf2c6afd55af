"""URL canonicalisation: tracking variants collapse, real differences survive."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import pytest

from pipeline.urls import canonicalize, safe_join, same_site, url_hash


@pytest.mark.parametrize(
    "variant",
    [
        "HTTP://News.Example.COM:80/2024/05/story?utm_source=x&utm_medium=y#comments",
        "http://news.example.com/2024/05/story?fbclid=abc",
        "http://news.example.com//2024/05/story",
        "http://news.example.com/2024/05/%73tory",
    ],
)
def test_tracking_variants_collapse(variant: str) -> None:
    assert canonicalize(variant) == "http://news.example.com/2024/05/story"


def test_meaningful_parts_survive() -> None:
    assert canonicalize("https://x.org:8443/a?page=2&b=1") == "https://x.org:8443/a?b=1&page=2"
    assert canonicalize("https://x.org/a/", "strip") == "https://x.org/a"
    assert canonicalize("https://x.org/a", "add") == "https://x.org/a/"
    assert canonicalize("https://x.org/a.html", "add") == "https://x.org/a.html"
    assert url_hash("a") != url_hash("b") and len(url_hash("a")) == 64


def test_same_site() -> None:
    assert same_site("http://127.0.0.1:8701/x", ["127.0.0.1:8701"])
    assert not same_site("http://127.0.0.1:8702/x", ["127.0.0.1:8701"])
    assert same_site("https://www.example.com/x", ["example.com"])
    assert not same_site("https://badexample.com/x", ["example.com"])


BASES = [
    "http://news.test/2026/05/story?page=2#top",
    "https://News.Test:8443/a/b/",
    "http://127.0.0.1:8701",
    "http://[::1]:8080/x;p?q",
    "http://user@news.test/a/../b",  # user info (no password: committed files carry none)
    "http://news.test:99999/x",  # a base whose port is no port: every join fails
    "http://[::1/broken",  # unparseable base
    "ftp://files.test/pub/",
    "http:/no-host",
]
HREFS = [
    "/",
    "/2026/05/other-story",
    "/a/./b/../c?x=1#frag",
    "/;params?q",
    "//cdn.test/img.png",
    "//[::1/broken",
    "//evil.test:bad/x",
    "/\t/evil.test/x",
    "/a:b/c",
    "/%7Euser/",
    "relative/path",
    "../up",
    "?only=query",
    "#frag",
    "https://other.test/x",
    "http://[::1",
    # absolute links: cached per host like root-relative ones, unless urljoin reads the base
    "http://news.test/2026/05/x;p?y=1#z",
    "HTTP://Other.Test/x",
    "hTTps://news.test:8443/a/../b",
    "http://news.test:bad/x",
    "http:///no-host",
    "http://?q",
    "http://#f",
    "https://",
    "http://\tnews.test/x",
    "http:relative",
]


@pytest.mark.parametrize("base", BASES)
def test_safe_join_is_urljoin(base: str) -> None:
    """The cached root-relative path answers exactly what ``urljoin`` (+ the port check) does."""
    for href in HREFS:
        try:
            expected: str | None = urljoin(base, href)
            urlsplit(expected).port  # noqa: B018
        except ValueError:
            expected = None
        assert safe_join(base, href) == expected, (base, href)
        assert safe_join(base, href) == expected, (base, href)  # the cached answer too
