"""The crawler keeps JavaScript shells whose story is in their JSON as article candidates.

Same fixtures as ``test_extract_embedded``: a page whose visible HTML is nav, a skeleton and
a footer scores "little-text" and, found through a listing, used to be dropped before the
extraction could read the body from its JSON.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from scrapy.http import HtmlResponse

from crawlers.page_analysis import analyse, parse_html
from crawlers.scope import shape_is_article

FIXTURES = Path(__file__).parent / "fixtures" / "embedded"
URL = "https://harbourtimes.example/news/harbour-authority-ferry-terminal"
#: What ``NewsSpider.is_article`` asks of a listing link with an article-shaped URL.
LISTING_THRESHOLD = 2

SHELLS = [
    "next_paragraphs.html",
    "next_html_body.html",
    "nuxt_data.html",
    "nuxt2_function.html",
    "apollo_state.html",
    "initial_state.html",
    "preloaded_state.html",
    "jsonld_body.html",
]


@pytest.mark.parametrize("name", SHELLS)
def test_a_shell_with_its_body_in_json_is_an_article_candidate(name: str) -> None:
    body = (FIXTURES / name).read_bytes()
    assert shape_is_article(URL)
    # Both trees the spider analyses: Scrapy's own, and the one built from stored bytes.
    for root in (HtmlResponse(URL, body=body, encoding="utf-8").selector.root, parse_html(body)):
        info = analyse(root, URL)
        assert "json-body" in info.signals and "little-text" not in info.signals
        assert info.score >= LISTING_THRESHOLD, info.signals


def test_a_shell_without_a_body_anywhere_stays_a_weak_candidate() -> None:
    info = analyse(parse_html((FIXTURES / "shell_no_body.html").read_bytes()), URL)
    assert "little-text" in info.signals and "json-body" not in info.signals
    assert info.score < LISTING_THRESHOLD


def test_a_front_page_state_full_of_teasers_is_no_json_body() -> None:
    stories = ",".join(
        f'{{"title": "Story {n} about the harbour", "body": ["{"Paragraph of the story. " * 40}"]}}'
        for n in range(4)
    )
    html = (
        "<html><head><title>Home | The Examiner</title></head><body><div id='__next'></div>"
        f"<script id='__NEXT_DATA__' type='application/json'>{{\"props\": {{\"stories\": [{stories}]}}}}"
        "</script></body></html>"
    )
    info = analyse(parse_html(html.encode()), "https://examiner.example/")
    assert "json-body" not in info.signals
