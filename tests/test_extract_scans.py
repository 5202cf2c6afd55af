"""The fast forms of the dateline scans find exactly what their plain forms find.

The date patterns were rewritten for scanning speed (a digit first, the boundary test after
it; a word-led scan skipped when the digits it needs are absent). Each is held here to the
plain pattern it replaced, match for match (spans and groups), on generated text made of the
pieces dates are made of, including the edge cases of the rewrite (a digit or letter right
before, underscores, non-ASCII letters and digits, the string's start and end).
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from pipeline.extract import dateparse, dateshown, datewords

MONTHS = dateparse._MONTH_NAMES
PLAIN = {
    "ISO_DATE": re.compile(
        r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*"
        r"(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?)?(?!\d)",
        re.I,
    ),
    "SLASHED_YMD": re.compile(r"(?<!\d)(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?!\d)"),
    "DMY_NAME": re.compile(
        rf"\b(\d{{1,2}})(?:st|nd|rd|th|er|º)?\.?\s+(?:de\s+)?({MONTHS})\.?,?\s+(?:de\s+)?(\d{{4}})\b", re.I
    ),
    "NUMERIC_DMY": re.compile(r"(?<!\d)(\d{1,2})([./-])(\d{1,2})\2(\d{4})(?!\d)"),
    "DAY_WORD_YEAR": re.compile(
        r"(?<!\d)(\d{1,2})(?:\.|er|º|°)?\s+(?:de\s+)?([^\W\d_]{3,}\.?),?\s+(?:de\s+)?(\d{4})(?!\d)"
    ),
    "WORD_DAY_YEAR": re.compile(r"([^\W\d_]{3,}\.?)\s+(\d{1,2})(?:st|nd|rd|th)?[,،]?\s+(\d{4})(?!\d)"),
}
FAST = {
    "ISO_DATE": dateparse.ISO_DATE,
    "SLASHED_YMD": dateparse.SLASHED_YMD,
    "DMY_NAME": dateparse.DMY_NAME,
    "NUMERIC_DMY": dateparse.NUMERIC_DMY,
    "DAY_WORD_YEAR": datewords.DAY_WORD_YEAR,
    "WORD_DAY_YEAR": datewords.WORD_DAY_YEAR,
}

PIECES = [
    "2026", "12", "7", "07", "31", "1999", "20261207", "-", "/", ".", ",", "،", " ", "  ", "\n", "T", "Z",
    "08:30", "+01:00", "UTC", "st", "th", "nd", "er", "º", "°", "de", "May", "may", "Dezember",
    "décembre", "Sept.", "decembre", "x", "ab", "abc", "_", "é", "²", "٣", "年", "月", "日", "a1", "1a",
]  # fmt: skip
EDGES = ["", "1", "9", "a", "Z", "_", " ", "é", "²", "٣", "-", "."]
NUMBERS = ["7", "07", "12", "31", "123", "2026", "20261"]
SEPARATORS = ["-", "/", ".", " ", ", ", "، ", "st ", "th, ", "º ", " de ", "T"]
WORDS = ["May", "Dezember", "Sept.", "décembre", "ab", "xMay", "May_"]
# Date-shaped text: an edge, then number/word parts with separators, then an edge.
date_shaped = st.tuples(
    st.sampled_from(EDGES),
    st.lists(
        st.tuples(st.sampled_from(NUMBERS + WORDS), st.sampled_from(SEPARATORS)), min_size=2, max_size=5
    ),
    st.sampled_from(NUMBERS),
    st.sampled_from(EDGES),
).map(lambda t: t[0] + "".join(a + b for a, b in t[1]) + t[2] + t[3])
texts = st.one_of(
    date_shaped,
    st.lists(st.sampled_from(PIECES), max_size=14).map("".join),
    st.text(alphabet="0123456789 -/.,TZ:+stndrheMaybDcx_é²٣", max_size=40),
)


def spans(rx: re.Pattern[str], text: str) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    return [(m.span(), m.groups()) for m in rx.finditer(text)]


@settings(max_examples=1500, deadline=None)
@given(texts)
def test_fast_patterns_match_like_their_plain_forms(text: str) -> None:
    for name, fast in FAST.items():
        assert spans(fast, text) == spans(PLAIN[name], text), name
        assert bool(fast.search(text)) == bool(PLAIN[name].search(text)), name


@settings(max_examples=1500, deadline=None)
@given(texts)
def test_a_word_led_scan_is_skipped_only_where_it_finds_nothing(text: str) -> None:
    if dateshown._MDY_NEEDS.search(text) is None:
        assert spans(dateshown._MDY_SCAN, text) == []
    if datewords._WORD_DAY_YEAR_NEEDS.search(text) is None:
        assert spans(PLAIN["WORD_DAY_YEAR"], text) == []


def test_the_generator_reaches_matches() -> None:
    """The pieces do make dates: a test that never sees a match proves nothing."""
    samples = ["7 Dezember 2026", "May 7, 2026", "2026-12-07T08:30+01:00", "07.12.2026", "7 de mayo de 2026"]
    for text in samples:
        assert any(rx.search(text) for rx in FAST.values()), text
    assert spans(FAST["NUMERIC_DMY"], "a1.2.2026 x07/12/2026") == spans(
        PLAIN["NUMERIC_DMY"], "a1.2.2026 x07/12/2026"
    )
    assert spans(FAST["DMY_NAME"], "_7 May 2026 a7 May 2026 7 May 2026") == [((24, 34), ("7", "May", "2026"))]


def test_every_small_date_shape_matches_like_the_plain_forms() -> None:
    """Exhaustive over a small grammar: the rare shapes (a digit glued before a date) included."""
    checked = matched = 0
    for prefix, a, s1, b, s2, c, suffix in itertools.product(
        ["", "1", "a", "_", "²", " "],
        ["7", "12", "123", "2026", "May", "xMay"],
        ["-", "/", ".", " ", ", ", "th "],
        ["7", "12", "May", "2026"],
        ["-", "/", ".", " ", ", "],
        ["7", "2026", "20261", "12"],
        ["", "1", "T08:30Z", " x"],
    ):
        text = prefix + a + s1 + b + s2 + c + suffix
        for name, fast in FAST.items():
            found = spans(fast, text)
            assert found == spans(PLAIN[name], text), (name, text)
            matched += bool(found)
        checked += 1
    assert checked == 6 * 6 * 6 * 4 * 5 * 4 * 4 and matched > 1000


CRAFTED = """<html><body role="dialog"><div role="dialog"><p>Republish this story</p></div>
<div aria-modal="true" role="alertdialog"><a href="/x">SIGN UP NOW FOR FREE</a></div>
<section role="Dialog"><p>Not exactly a dialog role</p></section><dialog aria-modal="false">x</dialog>
<p><a href="/a">READ MORE: THE WHOLE STORY</a> <a>NO HREF HERE</a> <a href="">EMPTY HREF</a>
<a href="/b">\u00a0</a> <a href="/c"> \t\n</a> <a href="/d">Mixed Case</a> <a href="/e">ÉCOLE 2026</a>
<a href="/f"><span>NESTED</span> <b>CAPS</b></a></p></body></html>"""


def _trees() -> list[etree._Element]:
    from pipeline.extract.parsing import parse_html

    fixtures = Path(__file__).parent / "fixtures"
    pages = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(fixtures.rglob("*.html"))]
    trees = [parse_html(html) for html in [*pages, CRAFTED]]
    assert len(trees) > 20
    return [t for t in trees if t is not None]


def test_dialogs_and_caps_links_are_what_their_xpaths_select() -> None:
    """``cleaning``'s walks against the XPath expressions they replaced (fixtures + edge cases)."""
    from pipeline.extract import cleaning, rules

    caps_xpath = ".//a[@href][normalize-space()][translate(., 'abcdefghijklmnopqrstuvwxyz', '') = .]"
    found_dialogs = found_caps = 0
    for tree in _trees():
        for root in (tree, tree.find(".//body")):
            if root is None:
                continue
            dialogs = cleaning._dialogs(root)
            assert dialogs == root.xpath(rules.DIALOG_XPATH)
            caps = cleaning._caps_links(root)
            assert caps == root.xpath(caps_xpath)
            found_dialogs += len(dialogs)
            found_caps += len(caps)
    assert found_dialogs >= 3 and found_caps >= 4


def test_teaser_card_parents_are_what_the_count_xpath_selects() -> None:
    from pipeline.extract import signals

    seen = 0
    for tree in _trees():
        walked = [el for el in tree.iter(etree.Element) if len(el) >= signals.CARD_CHILDREN]
        assert walked == tree.xpath("descendant-or-self::*[count(node()[not(self::text())]) >= 4]")
        seen += len(walked)
    assert seen > 50
