"""Random and malformed HTML/bytes never make extract_article raise."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.extract import extract_outcome

TAGS = [
    "p",
    "div",
    "span",
    "a",
    "h1",
    "h2",
    "article",
    "script",
    "style",
    "table",
    "td",
    "meta",
    "time",
    "br",
]
ATTRS = ['class="byline"', 'href="/x"', 'property="og:type" content="article"', 'itemprop="author"', ""]


@st.composite
def html_soup(draw: st.DrawFn) -> str:
    parts: list[str] = []
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.integers(0, 4))
        tag = draw(st.sampled_from(TAGS))
        if kind == 0:
            parts.append(f"<{tag} {draw(st.sampled_from(ATTRS))}>")
        elif kind == 1:
            parts.append(f"</{tag}>")
        elif kind == 2:
            parts.append(draw(st.text(max_size=200)))
        elif kind == 3:
            parts.append('<script type="application/ld+json">' + draw(st.text(max_size=80)) + "</script>")
        else:
            parts.append(
                draw(st.sampled_from(["<!--", "-->", "<![CDATA[", "&#0;", "&bogus;", "<", ">", "\x00"]))
            )
    return "".join(parts)


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(html_soup())
def test_random_html_never_raises(html: str) -> None:
    outcome = extract_outcome(html, "https://example.org/2023/01/02/x")
    assert outcome.status in {"ok", "not_article", "empty"}


@FUZZ
@given(st.binary(max_size=2000), st.sampled_from([None, "text/html", "text/html; charset=bogus", "x"]))
def test_random_bytes_never_raise(body: bytes, content_type: str | None) -> None:
    outcome = extract_outcome(body, "https://example.org/", content_type=content_type)
    assert outcome.status in {"ok", "not_article", "empty"}


@FUZZ
@given(st.text(max_size=3000))
def test_random_text_never_raises(text: str) -> None:
    assert extract_outcome(f"<html><body><p>{text}</p></body></html>", "not a url").status in {
        "ok",
        "not_article",
        "empty",
    }
