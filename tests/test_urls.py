"""URL canonicalisation: tracking variants collapse, real differences survive."""

from __future__ import annotations

import random
from collections.abc import Callable
from urllib.parse import urljoin, urlsplit

import pytest

from pipeline.urls import (
    _DROPPABLE_TAIL,
    _PLAIN_PATH,
    _PLAIN_URL,
    _SIMPLE_ABSOLUTE,
    TrailingSlash,
    _canonicalize,
    _only_tracking,
    canonicalize,
    safe_join,
    same_site,
    url_hash,
)


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


def _urljoin_checked(base: str, href: str) -> str | None:
    """The reference ``safe_join`` is held to: ``urljoin``, None when it or the port raises."""
    try:
        expected = urljoin(base, href)
        urlsplit(expected).port  # noqa: B018
    except ValueError:
        return None
    return expected


@pytest.mark.parametrize("base", BASES)
def test_safe_join_is_urljoin(base: str) -> None:
    """The cached root-relative path answers exactly what ``urljoin`` (+ the port check) does."""
    for href in HREFS:
        expected = _urljoin_checked(base, href)
        assert safe_join(base, href) == expected, (base, href)
        assert safe_join(base, href) == expected, (base, href)  # the cached answer too


def _random_urls(seed: int, count: int) -> list[str]:
    """URLs and paths made of the characters the short paths must judge (and of the rest)."""
    rng = random.Random(seed)
    pieces = [
        "a", "Z", "9", "-", "_", ".", "..", "~", "/", "//", ";", ":", "@", "!", "$", "&", "'", "(",
        "*", "+", ",", "=", "%", "%7E", "%2F", "?", "#", " ", "\t", "é", "[", "]", "\\", "utm_source=x",
    ]  # fmt: skip
    authorities = [
        "news.test", "News.Test:80", "127.0.0.1:8701", "[::1]:8080", "user@news.test", "news.test:99999",
        "0x7f.1", "[::ffff:127.0.0.1]", "news.test:", "[::1", "xn--bcher-kva.test", ":80", "",
    ]  # fmt: skip
    urls = []
    for _ in range(count):
        path = "/" + "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        scheme = rng.choice(["http", "https", "HTTP", "hTTps", "ftp"])
        urls.append(f"{scheme}://{rng.choice(authorities)}{path}")
    return urls


@pytest.mark.parametrize("trailing_slash", ["keep", "strip", "add"])
def test_canonicalize_short_path_is_the_general_path(trailing_slash: TrailingSlash) -> None:
    """The short path for plain URLs answers exactly what the general path does (or raises alike)."""
    short = 0
    for url in [
        *_random_urls(17, 4000),
        "http://news.test/",
        "http://news.test/a.b/c",
        "https://News.Test:443/x/",
    ]:
        assert _canonical_or_none(canonicalize, url, trailing_slash) == _canonical_or_none(
            _canonicalize, url, trailing_slash
        ), (url, trailing_slash)
        short += _PLAIN_URL.fullmatch(url) is not None
    assert short > 200  # the comparison covered the short path, not only the general one


def _canonical_or_none(
    function: Callable[[str, TrailingSlash], str], url: str, slash: TrailingSlash
) -> str | None:
    """``function(url, slash)``, or ``None`` where it refuses the URL (``ValueError``)."""
    try:
        return function(url, slash)
    except ValueError:
        return None


def test_safe_join_short_path_is_urljoin() -> None:
    """Root-relative paths joined without urljoin answer exactly what urljoin (+ port check) does."""
    short = 0
    for base in BASES[:6]:
        for url in _random_urls(29, 1500):
            href = "/" + url.split("://", 1)[1].partition("/")[2]
            assert safe_join(base, href) == _urljoin_checked(base, href), (base, href)
            short += _PLAIN_PATH.fullmatch(href) is not None
    assert short > 500


def _random_tails(seed: int, count: int) -> list[str]:
    """Random URLs of :func:`_random_urls` with queries and fragments of the shapes links carry."""
    rng = random.Random(seed)
    params = [
        "utm_source=related", "utm_medium=web", "UTM_Campaign=x", "fbclid=1", "gclid", "page=2", "id=7",
        "utm_source", "", "=", "utm_source=a=b", "ocid=%20", "share=a+b", "q=é", "utm_source=x?y", "smid=\t",
    ]  # fmt: skip
    fragments = ["", "comments", "a?b", "a#b", "x y", "é", "top\n", "%20"]
    urls = []
    for url in _random_urls(seed, count):
        tail = ""
        if rng.random() < 0.7:
            tail += rng.choice(["?", "?&", "?;"]) + "&".join(
                rng.choice(params) for _ in range(rng.randint(0, 3))
            )
        if rng.random() < 0.5:
            tail += "#" + rng.choice(fragments)
        urls.append(url + tail)
    return urls


@pytest.mark.parametrize("trailing_slash", ["keep", "strip", "add"])
def test_canonicalize_tracking_tail_is_the_general_path(trailing_slash: TrailingSlash) -> None:
    """A plain URL plus a fragment or tracking parameters: the same answer as the general path."""
    short = 0
    for url in _random_tails(41, 4000):
        assert _canonical_or_none(canonicalize, url, trailing_slash) == _canonical_or_none(
            _canonicalize, url, trailing_slash
        ), (url, trailing_slash)
        tail = _DROPPABLE_TAIL.fullmatch(url)
        short += tail is not None and _PLAIN_URL.fullmatch(url) is None and _only_tracking(tail["query"])
    assert short > 200  # the tail path was taken, not only the general one


def test_safe_join_absolute_short_path_is_urljoin() -> None:
    """Absolute links with queries and fragments joined without urljoin: what urljoin answers."""
    short = 0
    for base in [*BASES[:6], "https://news.test/a/b", "HTTP://news.test/"]:
        for href in _random_tails(53, 1500):
            assert safe_join(base, href) == _urljoin_checked(base, href), (base, href)
            assert safe_join(base, href) == _urljoin_checked(base, href), (base, href)  # cached
            short += _SIMPLE_ABSOLUTE.fullmatch(href) is not None
    assert short > 500
