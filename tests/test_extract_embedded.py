"""Bodies that live in JSON: JSON-LD ``articleBody`` and framework state (real trafilatura).

The fixtures under ``tests/fixtures/embedded`` are JavaScript shells in the style of
Next.js, Nuxt 3 and Apollo sites: the visible page is nav, a skeleton and a footer, and
the article exists only in a script. Each must come out as the same six paragraphs.
"""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipeline.extract import extract_outcome
from pipeline.extract.embedded import StateScript, parse_state, unflatten_devalue
from pipeline.extract.jsonblocks import block_lines, html_lines
from pipeline.extract.jsonbody import choose, state_candidates

FIXTURES = Path(__file__).parent / "fixtures" / "embedded"
URL = "https://harbourtimes.example/news/harbour-authority-ferry-terminal"
HEADLINE = "Harbour authority votes to close the old ferry terminal"
FIRST = (
    "The harbour authority voted on Tuesday night to close the old ferry terminal at the end of the summer"
)
LAST = "A consultation on the location of the permanent terminal will open next month"


@pytest.mark.parametrize(
    ("name", "source", "authors"),
    [
        ("next_paragraphs.html", "embedded_state", ["Jonas Berg", "Ana Ruiz"]),
        ("next_html_body.html", "embedded_state", ["Jonas Berg"]),
        ("nuxt_data.html", "embedded_state", ["Ana Ruiz"]),
        ("apollo_state.html", "embedded_state", ["Jonas Berg"]),
        ("nuxt2_function.html", "embedded_state", ["Ana Ruiz"]),
        ("initial_state.html", "embedded_state", ["Jonas Berg"]),
        ("preloaded_state.html", "embedded_state", ["Ana Ruiz"]),
        ("jsonld_body.html", "jsonld", ["Jonas Berg"]),
    ],
)
def test_a_javascript_shell_yields_the_article_in_its_json(
    name: str, source: str, authors: list[str]
) -> None:
    result = extract_outcome((FIXTURES / name).read_bytes(), URL)
    assert result.status == "ok", result.reason
    article = result.article
    assert article is not None and article.is_article
    assert article.body_source == source
    paragraphs = article.text.split("\n\n")
    assert paragraphs[0].startswith(FIRST)
    assert paragraphs[-1].startswith(LAST)
    assert len([p for p in paragraphs if len(p) > 100]) == 6
    assert article.title == HEADLINE
    assert article.authors == authors
    assert article.published_at is not None
    assert article.published_at.astimezone(UTC) == datetime(2024, 6, 11, 17, 42, tzinfo=UTC)
    # Nothing of the shell (nav, skeleton, footer) and nothing that is not body text.
    for junk in ("Sport", "Privacy", "All rights reserved", "Photo:", "Watch:", "kayakers", "Islanders plan"):
        assert junk not in article.text


def test_embedded_dates_and_modified_time_fill_what_the_page_lacks() -> None:
    result = extract_outcome((FIXTURES / "next_paragraphs.html").read_bytes(), URL)
    article = result.article
    assert article is not None
    assert article.published_from == "embedded"
    assert article.modified_from == "embedded"
    assert article.modified_at == datetime.fromisoformat("2024-06-12T08:15:00+02:00")


def test_html_body_drops_figures_and_keeps_subheadings() -> None:
    result = extract_outcome((FIXTURES / "next_html_body.html").read_bytes(), URL)
    assert result.article is not None
    assert "What happens next" in result.article.text.split("\n\n")
    assert "The pier in March" not in result.article.text


def test_a_shell_without_a_body_anywhere_is_named_as_such() -> None:
    result = extract_outcome((FIXTURES / "shell_no_body.html").read_bytes(), URL)
    assert result.status in {"not_article", "empty"}
    assert result.reason is not None
    assert result.reason.startswith("JavaScript shell: no body text in the HTML or its embedded JSON")
    assert result.article is not None and result.article.body_source == "html"


def test_a_page_whose_html_has_the_body_keeps_it_whatever_its_json_says() -> None:
    """The fallback only fires when the HTML body is missing or much shorter."""
    paragraphs = "".join(
        f"<p>Visible paragraph {i}: the council met on Monday to discuss the budget for the next "
        f"financial year and agreed to spend more on roads, schools and the harbour wall.</p>"
        for i in range(6)
    )
    state = {
        "props": {"pageProps": {"story": {"headline": "Budget agreed", "body": ["JSON-only text. " * 40]}}}
    }
    html = (
        "<html><head><title>Budget agreed | Examiner</title></head><body><div id='__next'><article>"
        f"<h1>Budget agreed</h1>{paragraphs}</article></div>"
        f"<script id='__NEXT_DATA__' type='application/json'>{json.dumps(state)}</script></body></html>"
    )
    result = extract_outcome(html, "https://examiner.example/2024/06/11/budget-agreed")
    assert result.status == "ok"
    assert result.article is not None and result.article.body_source == "html"
    assert "Visible paragraph 5" in result.article.text
    assert "JSON-only" not in result.article.text


def test_a_front_page_state_with_many_stories_gives_no_body() -> None:
    """Teasers of other stories, none agreeing with the page's title, are not this page."""
    stories = [
        {"title": f"Story number {n} about the harbour", "body": [f"Paragraph of story {n}. " * 20]}
        for n in range(5)
    ]
    state = {"props": {"pageProps": {"front": {"stories": stories}}}}
    html = (
        "<html><head><title>Home | The Examiner</title></head><body><div id='__next'></div>"
        f"<script id='__NEXT_DATA__' type='application/json'>{json.dumps(state)}</script></body></html>"
    )
    result = extract_outcome(html, "https://examiner.example/")
    assert result.status != "ok"
    assert result.article is None or result.article.body_source == "html"


def test_a_lone_object_that_is_not_the_page_story_is_ignored() -> None:
    """An author bio ({title: job, text: bio}) on a titled page does not become the body."""
    bio = {"name": "A. Writer", "title": "Senior editor", "text": "A. Writer has covered the harbour. " * 12}
    candidates = state_candidates({"props": {"author": bio}}, "__NEXT_DATA__")
    assert len(candidates) == 1
    assert choose(candidates, ["Budget agreed after a long night"], ["The Examiner"]) is None
    assert choose(candidates, ["The Examiner"], ["The Examiner"]) is candidates[0]  # a bare app shell


def test_window_assignments_are_read_with_a_json_parser_only() -> None:
    body = ["A paragraph long enough to count as part of an article body, and then some more words."] * 4
    state = {"article": {"headline": "A headline", "content": body}}
    plain = StateScript("__INITIAL_STATE__", f"window.__INITIAL_STATE__ = {json.dumps(state)};\nrender();")
    assert parse_state(plain) == state
    quoted = json.dumps(json.dumps(state))  # = JSON.parse("{\"article\": ...}")
    assert (
        parse_state(StateScript("__PRELOADED_STATE__", f"window.__PRELOADED_STATE__=JSON.parse({quoted})"))
        == state
    )
    bracket = StateScript("__APOLLO_STATE__", f'window["__APOLLO_STATE__"] = {json.dumps(state)}')
    assert parse_state(bracket) == state
    encoded = base64.b64encode(json.dumps(state).encode()).decode()
    assert parse_state(StateScript("__APOLLO_STATE__", f'window.__APOLLO_STATE__="{encoded}";')) == state
    document = {"__PRELOADED_STATE__": state}  # a <script type="application/json"> holding the name
    assert parse_state(StateScript("__PRELOADED_STATE__", json.dumps(document))) == document
    # Nuxt 2's function form is read as literals, with the arguments put in for the parameters.
    nuxt2 = 'window.__NUXT__=(function(a,b){return {data:[{title:a,body:b}]}}("x","y"));'
    assert parse_state(StateScript("__NUXT__", nuxt2)) == {"data": [{"title": "x", "body": "y"}]}
    wrapped = "window.__NUXT__=(function(a){a.n=2;return {s:a,u:void 0}})({});"
    assert parse_state(StateScript("__NUXT__", wrapped)) == {"s": {"n": 2}, "u": None}
    # Anything computed is JavaScript, not a literal: given up on, never evaluated.
    for code in (
        'window.__NUXT__=(function(a){return {t:fetch("http://x.example/")}}(1));',
        "window.__NUXT__=(function(a){return {t:a+1}}(1));",
        "window.__NUXT__=(function(a){while(1){};return {}}(1));",
        "window.__NUXT__=(function(a){return {t:`${a}`}}(1));",
    ):
        assert parse_state(StateScript("__NUXT__", code)) is None, code
    unquoted = "window.__INITIAL_STATE__ = {article: {headline: 'x'}, n: undefined};"
    assert parse_state(StateScript("__INITIAL_STATE__", unquoted)) is None


def test_hostile_state_is_bounded() -> None:
    deep = "[" * 200_000 + "]" * 200_000
    started = time.perf_counter()
    assert parse_state(StateScript("__NEXT_DATA__", deep)) is None
    deep_nuxt = "window.__NUXT__=(function(a){return " + "[" * 100_000 + "]" * 100_000 + "}(1));"
    assert parse_state(StateScript("__NUXT__", deep_nuxt)) is None
    open_body = "window.__NUXT__=(function(a){return {t:'" + "x" * 1_000_000
    assert parse_state(StateScript("__NUXT__", open_body)) is None
    cyclic = [{"a": 1, "self": 0}, {"title": 2, "body": 3, "loop": 0}, "Cyclic", ["Reactive", 1]]
    rebuilt = unflatten_devalue(cyclic)
    assert rebuilt["self"] is rebuilt  # a cycle is rebuilt once, not followed forever
    assert state_candidates(rebuilt, "__NUXT_DATA__") == []
    assert time.perf_counter() - started < 5


def test_devalue_payload_is_rebuilt() -> None:
    values = [
        ["Reactive", 1],
        {"post": 2, "when": 5},
        {"title": 3, "tags": 4},
        "Hello",
        ["Set", 3],
        ["Date", "2024-06-11"],
    ]
    assert unflatten_devalue(values) == {"post": {"title": "Hello", "tags": ["Hello"]}, "when": "2024-06-11"}


def test_block_formats_become_paragraph_lines() -> None:
    portable = [
        {
            "_type": "block",
            "children": [{"_type": "span", "text": "One "}, {"_type": "span", "text": "line."}],
        },
        {"_type": "image", "asset": {"url": "x.jpg"}, "caption": "Not text"},
        {"_type": "block", "children": [{"_type": "span", "text": "Two."}]},
    ]
    assert block_lines(portable) == ["One line.", "Two."]
    contentful = {
        "nodeType": "document",
        "content": [
            {
                "nodeType": "paragraph",
                "content": [
                    {"nodeType": "text", "value": "See "},
                    {"nodeType": "hyperlink", "content": [{"nodeType": "text", "value": "the report"}]},
                    {"nodeType": "text", "value": " here."},
                ],
            },
            {"nodeType": "embedded-entry-block", "data": {"target": {"text": "Embedded promo"}}},
        ],
    }
    assert block_lines(contentful) == ["See the report here."]
    editorjs = {"blocks": [{"type": "paragraph", "data": {"text": "First <b>bold</b> words."}}]}
    assert block_lines(editorjs) == ["First bold words."]
    markdown = (
        "## A heading\n\nSee [the plan](https://x.example/plan) now.\n\n![chart](c.png)\n```js\nx()\n```"
    )
    assert block_lines(markdown) == ["A heading", "See the plan now.", "x()"]
    assert html_lines("<p>a<br>b</p><script>evil()</script><ul><li>c</li></ul>") == ["a", "b", "c"]
