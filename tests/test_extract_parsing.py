"""``parse_html`` builds the very tree trafilatura's ``load_html`` builds, without Python lookups.

The extractor parses with its own parser (a class lookup resolved in C, see
:mod:`pipeline.extract.parsing`) but follows ``load_html`` step for step; if either drifts
(a trafilatura upgrade changing its repairs or fallbacks), the trees differ here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from lxml.html import HtmlElementClassLookup
from trafilatura.utils import load_html

from pipeline.extract.parsing import parse_html

FIXTURES = Path(__file__).parent / "fixtures"

ODD_INPUTS = [
    "<p>one paragraph, no document</p>",
    "plain text, no markup at all",
    "<?xml version='1.0' encoding='utf-8'?><html><body><p>Declared encoding</p></body></html>",
    "<!DOCTYPE html><html/>\n<body><p>Self-closing html</p></body>",
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN">\n<html><body><p>x</p></body></html>',
    "<html><body><form><input name='q'><select><option>a</option></select>"
    "<textarea>t</textarea><label>l</label></form><!-- a comment --><p>After</p></body></html>",
    "<div><div><p>fragment \x00 with a NUL\x0b and a control character</p></div></div>",
    "<html><body><p>Lone surrogate \udcff in the text</p></body></html>",
    # ours parses the UTF-8 bytes, load_html the str: one page per str storage width
    "<html><head><meta charset='iso-8859-1'></head><body><p>Caf\xe9 cr\xe8me</p></body></html>",
    "<html><body><p>\u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac \u4e2d\u6587</p></body></html>",
    "<html><body><p>Emoji \U0001f600 and \u00e9</p></body></html>",
]


def _pages() -> list[tuple[str, str]]:
    files = sorted(FIXTURES.rglob("*.html"))
    assert len(files) >= 20  # the fixture pages are the corpus: an empty glob would prove nothing
    pages = [(str(p.relative_to(FIXTURES)), p.read_bytes().decode("utf-8", errors="replace")) for p in files]
    return pages + [(f"odd-{i}", html) for i, html in enumerate(ODD_INPUTS)]


def _shape(tree: etree._Element | None) -> tuple[bytes, list[tuple[object, type]]] | None:
    if tree is None:
        return None
    return etree.tostring(tree, encoding="utf-8"), [(el.tag, type(el)) for el in tree.iter()]


@pytest.mark.parametrize(("name", "html"), _pages(), ids=[name for name, _ in _pages()])
def test_same_tree_and_element_classes_as_trafilatura(name: str, html: str) -> None:
    ours = _shape(parse_html(html))
    theirs = _shape(load_html(html))
    assert ours == theirs, name


def test_form_elements_keep_their_lxml_html_classes() -> None:
    tree = parse_html(ODD_INPUTS[5])
    assert tree is not None
    classes = {
        el.tag: type(el).__name__ for el in tree.iter("form", "input", "select", "textarea", "label", "p")
    }
    assert classes == {
        "form": "FormElement",
        "input": "InputElement",
        "select": "SelectElement",
        "textarea": "TextareaElement",
        "label": "LabelElement",
        "p": "HtmlElement",
    }
    assert tree.forms[0].inputs["q"].name == "q"  # the FormElement API works on our tree


def test_walking_the_tree_never_calls_the_python_class_lookup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The point of the parser: ``lxml.html``'s Python lookup runs once per element proxy."""
    calls = []
    original = HtmlElementClassLookup.lookup

    def counting(self: HtmlElementClassLookup, *args: object) -> object:
        calls.append(args)
        return original(self, *args)

    monkeypatch.setattr(HtmlElementClassLookup, "lookup", counting)
    html = (FIXTURES / "extract" / "seed_story.html").read_text(encoding="utf-8")
    theirs = load_html(html)
    assert theirs is not None
    assert sum(1 for _ in theirs.iter()) > 20 and len(calls) > 20  # the counter sees lxml.html's lookups
    calls.clear()
    ours = parse_html(html)
    assert ours is not None
    assert sum(1 for _ in ours.iter()) > 20
    assert calls == []


@pytest.mark.parametrize("html", ["", "   \n ", "\x00"])
def test_nothing_to_parse_gives_none(html: str) -> None:
    assert parse_html(html) is None
