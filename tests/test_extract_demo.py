"""Every demo-network article extracts to exactly its manifest paragraphs and metadata."""

from __future__ import annotations

import urllib.error
import urllib.request
from typing import Any

from pipeline.extract import extract_outcome
from pipeline.urls import canonicalize

SEED_BOILERPLATE = [
    "Video Embed",
    "EVERYTHING YOU NEED TO KNOW ABOUT TIM SCOTT",
    "CLICK HERE TO READ MORE FROM THE WASHINGTON EXAMINER",
    "© 2023 Washington Examiner",
    "Related Content",
    "Kremlin Pool Photo via AP",
]


def fetch(url: str) -> tuple[bytes, str | None] | None:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # 127.0.0.1 only
            return response.read(), response.headers.get("Content-Type")
    except (urllib.error.URLError, TimeoutError):
        return None


def test_every_demo_article_extracts_to_its_paragraphs(demo_network: Any) -> None:
    manifest = demo_network.manifest()
    checked = 0
    for url, truth in manifest.articles.items():
        assert url.startswith("http://127.0.0.1:")
        got = fetch(url)
        if got is None:
            got = fetch(url)  # "flaky" pages fail once, then serve
        if got is None:
            assert truth.fault is not None, f"{url} unreachable"
            continue
        body, content_type = got
        outcome = extract_outcome(body, url, content_type=content_type)
        assert outcome.status == "ok", (url, outcome.reason)
        article = outcome.article
        assert article is not None
        assert article.text.split("\n\n") == list(truth.paragraphs), url
        assert article.title == truth.title, url
        assert article.authors == list(truth.authors), url
        assert article.published_at is not None
        assert article.published_at.date() == truth.published_at.date(), url
        # The one paywalled story is a teaser behind a gate; every other story is free and whole.
        assert (article.is_paywalled, article.is_complete) == (truth.paywalled, not truth.paywalled), url
        assert set(truth.related) <= {canonicalize(u) for u, _kind in article.links}, url
        checked += 1
    assert checked >= len(manifest.articles) - 2


def test_seed_story_has_no_washington_examiner_boilerplate(demo_network: Any) -> None:
    manifest = demo_network.manifest()
    body, content_type = fetch(manifest.seed_url) or (b"", None)
    outcome = extract_outcome(body, manifest.seed_url, content_type=content_type)
    assert outcome.article is not None and outcome.status == "ok"
    text = outcome.article.text
    for junk in SEED_BOILERPLATE:
        assert junk not in text
    assert text.split("\n\n") == list(manifest.articles[manifest.seed_url].paragraphs)
    assert text.startswith("Russia has been forced to launch")


def test_demo_non_articles_and_listings_are_not_articles(demo_network: Any) -> None:
    manifest = demo_network.manifest()
    checked = 0
    for outlet in manifest.outlets.values():
        for url in [*outlet.non_articles, *outlet.listing_urls[:3]]:
            got = fetch(url)
            assert got is not None, url
            outcome = extract_outcome(got[0], url, content_type=got[1])
            assert outcome.status in {"not_article", "empty"}, (url, outcome.detection)
            checked += 1
    assert checked >= 9
