"""When trafilatura's default mode re-runs after the recall run (``pipeline.extract.htmlbody``).

A spy counts the real trafilatura runs; nothing is replaced.
"""

from __future__ import annotations

from typing import Any

import pytest
from lxml.html import HtmlElement

from pipeline.extract import extract_outcome, htmlbody
from pipeline.extract.parsing import parse_html

BRIEF = (
    "<html lang='en'><head><title>Ferry timetable changes on Monday</title>"
    "<meta property='og:type' content='article'></head><body><article>"
    "<h1>Ferry timetable changes on Monday</h1>"
    "<p>The harbour ferry will run every twenty minutes from Monday, the port authority said on "
    "Friday, after a month of trials with the new boats on the north route.</p>"
    "<p>Evening sailings stay hourly until the summer schedule starts in June.</p>"
    "</article></body></html>"
)


def _runs(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    modes: list[bool] = []
    real = htmlbody.run_trafilatura

    def counting(tree: HtmlElement, url: str, *, favor_recall: bool) -> tuple[list[str], Any]:
        modes.append(favor_recall)
        return real(tree, url, favor_recall=favor_recall)

    monkeypatch.setattr(htmlbody, "run_trafilatura", counting)
    return modes


def test_a_brief_is_extracted_by_one_trafilatura_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """Short, but all of its page: the recall run is not truncated, so no second run."""
    modes = _runs(monkeypatch)
    outcome = extract_outcome(BRIEF.encode(), "https://harbour.example/2026/05/ferry-timetable")
    assert outcome.article is not None
    assert outcome.article.text.startswith("The harbour ferry will run every twenty minutes")
    assert "Evening sailings stay hourly" in outcome.article.text
    assert modes == [True]


def test_a_body_covering_little_of_the_page_is_re_run_in_the_default_mode(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Recall mode settling on a small container is its known failure: the default mode retries."""
    modes = _runs(monkeypatch)
    page_chars = 500
    tree = parse_html(BRIEF)
    assert tree is not None
    lines, _body = htmlbody.body_lines(tree, "https://harbour.example/2026/05/ferry-timetable", page_chars)
    assert modes == [True]  # the body (~230 characters) covers over 30 % of 500: kept
    modes.clear()
    tree = parse_html(BRIEF)
    assert tree is not None
    htmlbody.body_lines(tree, "https://harbour.example/2026/05/ferry-timetable", 40 * page_chars)
    assert modes == [True, False]  # under 30 % of 20,000 characters: re-run
    assert any("harbour ferry" in line for line in lines)
