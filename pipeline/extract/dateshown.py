"""Dates the page shows a reader: ``<time>`` elements and the dateline in the visible text.

A news page shows many dates: the article's own (next to the headline and byline) and those
of the teasers around it ("Related", "Most read", a sidebar of latest stories), of comments,
of events in the body. Only the article's own is its publication date, so both readers here
skip what sits in a teaser container (a link list item, an element named related/teaser/
sidebar/..., ``<aside>``, ``<nav>``, ``<footer>``) unless that container also holds the
headline, and rank a ``<time>`` next to the headline first.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lxml import etree
from lxml.html import HtmlElement

from pipeline.extract.dateparse import (
    DMY_NAME,
    ISO_DATE,
    MONTHS,
    NUMERIC_DMY,
    SLASHED_YMD,
    build_date,
    parse_date,
    parse_human_date,
)
from pipeline.extract.datewords import ascii_digits, word_dates

# A dateline's label right before the date: such a date counts wherever it sits on the page.
_DATELINE_LABEL = re.compile(
    r"(published|posted|updated|modified|date|on|written|reviewed|min read|\||publié|veröffentlicht"
    r"|publicado|publicada|pubblicato|aktualisiert|gepubliceerd|опубликовано|обновлено|发布|發佈|更新"
    r"|公開|입력|수정|نشر)\W*$",
    re.I,
)
# Words before a date that make it something other than the page's date (offers, events,
# opening hours, deadlines, facts in the body): such a date is skipped, never taken.
_NOT_PUBLICATION = re.compile(
    r"(valid|expires?|expiring|effective|as of|last active|last checked|until|till|through|deadline|due"
    r"|hours|born|since|from|to|by|before|between|released|launched|founded|event|starts?|ends?)\W*$",
    re.I,
)
# An unlabelled date further into the visible text than this is body content, not a dateline.
TEXT_DATE_MAX_OFFSET = 3000
_UPDATED_WORD = re.compile(r"\b(updated|modified|aktualisiert|mis à jour|actualizado)\b", re.I)
# An "updated" label before a written date, in the dateline languages (CJK without word breaks).
_UPDATED_LABEL = re.compile(
    r"\b(updated|modified|last update|aktualisiert|mis à jour|actualizado|actualitzat|aggiornato|atualizado"
    r"|bijgewerkt|opdateret|oppdatert|uppdaterad|päivitetty|zaktualizowano|aktualizováno|güncellen\w*"
    r"|обновлено|оновлено)\b|更新|수정|업데이트|تحديث",
    re.I,
)
_PUBLISHED_MARKER = re.compile(r"publish|pubdate|posted|post-date|entry-date|created", re.I)
# Containers of other stories' dates: teaser lists, sidebars, comments.
_TEASER_MARKER = re.compile(
    r"related|teaser|recommend|popular|trending|most-?read|more-?(?:news|stories|articles)"
    r"|read-?(?:also|more|next)|see-?also|also-?read|comment|relacionad|correlat|verwandt|weitere|lesen-?sie"
    r"|a-?lire|similar",
)  # matched against the lower-cased class and id (cheaper than re.I on every element)
_TEASER_TAGS = frozenset({"aside", "nav", "footer"})
_ITEM_TAGS = frozenset({"li", "article"})
#: A link with at least this much text in a list item makes it a teaser (a headline link)...
TEASER_LINK_CHARS = 20
#: ...unless the item is longer than this (then it is a body or a whole story, not a teaser).
TEASER_ITEM_CHARS = 600
#: A ``<time>`` whose lowest common ancestor with the headline is at most this many levels
#: above the headline sits next to it (the dateline); any other is a date elsewhere on the page.
NEAR_HEADLINE_LEVELS = 4


def _marker(el: HtmlElement) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}".lower()


def _headline_scope(headline: HtmlElement | None) -> list[HtmlElement]:
    """The headline's ancestors, nearest first (every container that holds the headline)."""
    return list(headline.iterancestors()) if headline is not None else []


def _is_teaser(el: HtmlElement, holds_headline: set[HtmlElement]) -> bool:
    """Whether ``el`` sits in a container of other stories (one that does not hold the headline).

    Such a container is a link, an element named like one (related, teaser, most read...), a
    short list item or ``<article>`` led by a headline link, or an ``<aside>``/``<nav>``/
    ``<footer>`` of the page (inside the article that holds the headline they are its own
    furniture: a byline box, a date panel).
    """
    regions: list[HtmlElement] = []
    for anc in el.iterancestors():
        if anc in holds_headline or anc.tag in ("body", "html"):
            if regions and anc.tag != "article":
                return True
            return False
        if anc.tag == "a" or _TEASER_MARKER.search(_marker(anc)):
            return True
        if anc.tag in _TEASER_TAGS:
            regions.append(anc)
        elif anc.tag in _ITEM_TAGS and _teaser_item(anc):
            return True
    return bool(regions)


def _teaser_item(item: HtmlElement) -> bool:
    """A short list item or ``<article>`` with a headline-sized link: a teaser of another story."""
    if len(item.text_content() or "") > TEASER_ITEM_CHARS:
        return False
    return any(len((link.text_content() or "").strip()) >= TEASER_LINK_CHARS for link in item.iter("a"))


def _is_modified(el: HtmlElement, marker: str) -> bool:
    parent = el.getparent()
    context = (parent.text_content() if parent is not None else "")[:80]
    return (
        "modif" in marker
        or "updat" in marker
        or (bool(_UPDATED_WORD.search(context)) and "publish" not in marker)
    )


#: ``.//*[@itemprop='datePublished' or @itemprop='dateModified'][not(self::meta)]`` as an
#: attribute step: only elements with an itemprop are tested (0.66 s -> 0.27 s over the 900
#: WCXB dev pages, the same elements).
_DATE_ITEMPROPS = etree.XPath(
    ".//*/@itemprop[.='datePublished' or .='dateModified']/parent::*[not(self::meta)]"
)


def time_elements(
    tree: HtmlElement, headline: HtmlElement | None = None
) -> tuple[datetime | None, datetime | None, datetime | None]:
    """(published next to the headline, published elsewhere, modified) from ``<time>`` elements.

    A ``<time>`` in a teaser container is another story's and never counts. One marked as the
    publication date (``itemprop=datePublished``, a "published"/"pubdate" class) counts as
    next to the headline wherever it is.
    """
    scope = _headline_scope(headline)
    holds_headline = set(scope)
    near_scope = {anc for anc in scope[:NEAR_HEADLINE_LEVELS] if anc.tag not in ("body", "html")}
    near: datetime | None = None
    elsewhere: datetime | None = None
    modified: datetime | None = None
    for el in tree.iterfind(".//time"):
        raw = el.get("datetime") or el.get("content") or (el.text_content() or "")
        parsed = parse_date(raw)
        if parsed is None or _is_teaser(el, holds_headline):
            continue
        parent = el.getparent()
        marker = " ".join(
            filter(
                None,
                [el.get("class"), el.get("itemprop"), parent.get("class") if parent is not None else None],
            )
        ).lower()
        if _is_modified(el, marker):
            modified = modified or parsed
            continue
        if _PUBLISHED_MARKER.search(marker) or any(anc in near_scope for anc in el.iterancestors()):
            near = near or parsed
        else:
            elsewhere = elsewhere or parsed
    for el in _DATE_ITEMPROPS(tree):
        parsed = parse_date(el.get("content") or el.get("datetime") or el.text_content())
        if parsed is None or _is_teaser(el, holds_headline):
            continue
        if el.get("itemprop") == "datePublished":
            near = near or parsed
        else:
            modified = modified or parsed
    return near, elsewhere, modified


_INVISIBLE = frozenset(
    {"script", "style", "noscript", "template", "svg", "head", "title", "nav", "footer", "aside"}
)


def visible_text(tree: HtmlElement, headline: HtmlElement | None = None, limit: int = 20_000) -> str:
    """The start of the page's visible body text (no scripts, navigation, footers or teasers)."""
    body = tree.find(".//body")
    holds_headline = set(_headline_scope(headline))
    parts: list[str] = []
    size = 0

    def walk(el: HtmlElement) -> None:
        # Each read of an lxml property (tag, text, tail, an attribute) builds a new string:
        # every one is read once.
        nonlocal size
        if size > limit:
            return
        tag = el.tag
        if isinstance(tag, str) and tag not in _INVISIBLE:
            css, ident = el.get("class"), el.get("id")
            teaser = (
                (css or ident)
                and el not in holds_headline
                and _TEASER_MARKER.search(f"{css or ''} {ident or ''}".lower())
            )
            if not teaser:
                text = el.text
                if text:
                    parts.append(text)
                    size += len(text)
                for child in el:
                    walk(child)
        tail = el.tail
        if tail:
            parts.append(tail)
            size += len(tail)

    walk(body if body is not None else tree)
    return " ".join(" ".join(parts).split())


#: ``MDY_NAME``'s shape with any word in the month's place: an alternation of 84 month names
#: tried at every word boundary of a 20 kB text cost ~3 ms a page; a word, then a set lookup
#: (:func:`_mdy_month`), finds the same dates about five times faster.
_MDY_SCAN = re.compile(r"\b([^\W\d_]{3,10})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b", re.I)


#: What every ``_MDY_SCAN`` match holds ("5, 2023", "5th 2023"), opening with a digit so that
#: the engine skips from digit to digit: a text without it has no such date, and the word-led
#: scan is skipped (about half the pages).
_MDY_NEEDS = re.compile(r"\d(?:st|nd|rd|th)?,?\s+\d{4}\b", re.I)


def _mdy_month(match: re.Match[str]) -> bool:
    return match[1].lower() in MONTHS


_TEXT_DATE_FORMATS: tuple[tuple[re.Pattern[str], Callable[[str], datetime | None]], ...] = (
    (_MDY_SCAN, parse_human_date),
    (DMY_NAME, parse_human_date),
    (ISO_DATE, parse_date),
    (SLASHED_YMD, parse_date),
    (NUMERIC_DMY, parse_human_date),
)


@dataclass(frozen=True)
class Dateline:
    """The dateline date written in the visible text, with where it sits (the date model's evidence)."""

    value: datetime
    #: characters of visible text before the date
    offset: int
    #: a dateline label ("Published", "Updated", "|", "发布"...) stands right before it
    labelled: bool
    #: that label says the page was updated/modified (the date may not be the publication's)
    updated: bool
    #: characters between the end of the headline and the date (None: headline not in the text)
    after_headline: int | None


def text_date(
    tree: HtmlElement, headline: HtmlElement | None = None, language: str | None = None
) -> datetime | None:
    """The dateline date written in the page's visible text, if there is one."""
    found = text_dateline(tree, headline, language)
    return found.value if found is not None else None


def _headline_end(text: str, headline: HtmlElement | None) -> int | None:
    if headline is None:
        return None
    words = " ".join((headline.text_content() or "").split())[:60]
    at = text.find(words) if words else -1
    return at + len(words) if at >= 0 else None


def text_dateline(
    tree: HtmlElement, headline: HtmlElement | None = None, language: str | None = None, limit: int = 20_000
) -> Dateline | None:
    """The dateline written in the page's visible text, if there is one.

    Dates lead bylines, so the first date in the visible text is the candidate. Dates
    introduced as something else ("valid through", "as of", "released on") are skipped;
    an unlabelled date deep in the text is body content, and then the page has no dateline.
    Month names of other languages (``language`` first) and CJK dates are read too. ``limit``
    bounds the visible text read (the date model's evidence reads only the dateline window).
    """
    text = ascii_digits(visible_text(tree, headline, limit))
    found: list[tuple[int, datetime]] = []
    for rx, parse in _TEXT_DATE_FORMATS:
        if rx is _MDY_SCAN and _MDY_NEEDS.search(text) is None:
            continue
        for match in rx.finditer(text):
            if rx is _MDY_SCAN and not _mdy_month(match):
                continue
            parsed = parse(match.group(0))
            if parsed is not None:
                found.append((match.start(), parsed))
    for start, day in word_dates(text, language):
        built = build_date(day.year, day.month, day.day)
        if built is not None:
            found.append((start, built))
    for start, parsed in sorted(found, key=lambda item: item[0]):
        before = text[max(0, start - 40) : start]
        if _NOT_PUBLICATION.search(before):
            continue
        label = _DATELINE_LABEL.search(before)
        if start <= TEXT_DATE_MAX_OFFSET or label:
            end = _headline_end(text, headline)
            return Dateline(
                value=parsed,
                offset=start,
                labelled=label is not None,
                updated=bool(_UPDATED_LABEL.search(before)),
                after_headline=start - end if end is not None else None,
            )
        return None
    return None
