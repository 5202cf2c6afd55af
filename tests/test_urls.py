"""URL canonicalisation: tracking variants collapse, real differences survive."""

from __future__ import annotations

import pytest

from pipeline.urls import canonicalize, same_site, url_hash


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
