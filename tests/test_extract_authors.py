"""Author names in several languages and scripts, from real lxml trees; never an invented one."""

from __future__ import annotations

import pytest
from lxml.html import fromstring

from pipeline.extract.authors import clean_authors, extract_authors
from pipeline.extract.jsonld import parse_jsonld


def _authors(body: str, head: str = "") -> list[str]:
    tree = fromstring(f"<html><head>{head}</head><body>{body}</body></html>")
    return extract_authors(tree, parse_jsonld(tree), {"example"}, tree.find(".//h1"))


@pytest.mark.parametrize(
    ("byline", "names"),
    [
        ("<span class='author'>记者 王小明</span>", ["王小明"]),
        ("<span class='author'>文／李华</span>", ["李华"]),
        ("<span class='writer'>김민수 기자</span>", ["김민수"]),
        ("<p class='info'><span>김민수 기자</span> 2026.12.07</p>", ["김민수"]),
        ("<span class='author'>بقلم: أحمد علي</span>", ["أحمد علي"]),
        ("<div class='info'>Автор: Иван Петров · 7 декабря 2026</div>", ["Иван Петров"]),
        ("<p>Von Anna Schmidt und Peter Müller | 7. Dezember 2026</p>", ["Anna Schmidt", "Peter Müller"]),
        ("<p>Por María García y Juan López</p>", ["María García", "Juan López"]),
        ("<div class='byline'>CM Craig McCarthy Last updated on 17 December 2025</div>", ["Craig McCarthy"]),
    ],
)
def test_bylines_in_the_pages_own_words(byline: str, names: list[str]) -> None:
    assert _authors(f"<article><h1>Headline of the story</h1>{byline}<p>Body.</p></article>") == names


def test_declared_names_without_case_or_in_lower_case() -> None:
    assert _authors("<h1>H</h1>", "<meta name='author' content='山田太郎'>") == ["山田太郎"]
    assert _authors("<h1>H</h1>", "<meta name='author' content='kirstin boatto'>") == ["Kirstin Boatto"]


def test_prose_and_handles_are_not_names() -> None:
    # A lower-case phrase after "by" in the page text, a lone login name, a brand: nothing.
    assert _authors("<article><h1>H</h1><p>by the way we tested it</p></article>") == []
    assert _authors("<h1>H</h1>", "<meta name='author' content='undefined'>") == []
    assert clean_authors(["Example"], {"example"}) == []
