"""Page signals for article detection, the same in every language.

Each signal is a number the detection model (:mod:`pipeline.extract.detection`) weighs:
what the page declares (JSON-LD and ``og:type``), how much running prose the extractor
found (in text units and sentences, :mod:`pipeline.extract.textstats`, so a Chinese brief
is as long as an English one), how link-heavy the page is, how many teaser headings and
article cards it shows (a listing's shape), the URL's shape, whether it has a publish date,
and the title's length. Counts are log-scaled (``log1p``): the 50th teaser says less than
the 5th, and the model stays linear and monotone in every signal.

The names are the model's feature names; :data:`SIGNALS` is their order in the model file.
"""

from __future__ import annotations

import math
import re
from typing import Any, cast
from urllib.parse import unquote, urlsplit

from lxml import etree
from lxml.html import HtmlElement

from pipeline.extract.jsonld import ARTICLE_TYPES, LISTING_TYPES, node_types
from pipeline.extract.textstats import has_sentence, long_paragraphs, paragraphs, sentence_count, text_units

SIGNALS: tuple[str, ...] = (
    "body-in-json",
    "jsonld-article",
    "jsonld-listing",
    "og-article",
    "og-other",
    "text-units",
    "sentences",
    "long-paragraphs",
    "paragraph-units",
    "sentence-paragraphs",
    "link-density",
    "teaser-headings",
    "article-cards",
    "linked-paragraphs",
    "time-elements",
    "headline-links",
    "teaser-cards",
    "price-marks",
    "listing-url",
    "section-url",
    "article-url",
    "dated",
    "title-units",
)

#: Listing paths: a taxonomy segment, or a numbered index file (``index-2.html``: page 2 of a
#: front; a bare ``index.html`` is how static sites name every article's folder page).
_LISTING_PATH = re.compile(
    r"/(?:tag|tags|category|categories|topic|topics|section|sections|author|authors|archive|archives|"
    r"search|page|collections?|shop|products?|store|rubrik|thema|themen|categorie|categoria|label)(?:/|$)"
    r"|/index[-_]\d+\.(?:html?|php)$",
    re.I,
)
#: A path ending in a section name ("/news/", "/blog", "/noticias/") is that section's front.
_SECTION_END = re.compile(
    r"/(?:news|blogs?|articles|latest|stories|press|media|events|resources|guides|library|videos?|photos|"
    r"podcasts?|nachrichten|aktuelles|noticias|actualites?|notizie|nieuws|wiadomosci|novosti)/?$",
    re.I,
)
_DATED_PATH = re.compile(r"/(?:19|20)\d{2}/\d{1,2}/|/(?:19|20)\d{2}-?\d{2}-?\d{2}/")
_ARTICLE_ID = re.compile(r"[-_/]\d{5,}(?:\.s?html?)?$|\.s?html?$|[-_/][0-9a-f]{8,}$", re.I)
_OTHER_OG = frozenset({"website", "product", "profile", "video.other", "book", "music.song"})


def _log(n: float) -> float:
    return math.log1p(max(n, 0.0))


def _slug_tokens(path: str) -> int:
    """Tokens of the last path segment: a headline slug has several (in any script)."""
    parts = [p for p in unquote(path).split("/") if p]
    if not parts:
        return 0
    return len([w for w in re.split(r"[-_+\s]", parts[-1].rsplit(".", 1)[0]) if w and not w.isdigit()])


def _norm(text: str) -> str:
    return " ".join(text.split()).casefold()


def _anchors(body: HtmlElement) -> list[tuple[str | None, str]]:
    """Every link's ``href`` and text, read once for the two link signals."""
    return [(a.get("href"), a.text_content() or "") for a in body.iter("a")]


def _linked_share(anchors: list[tuple[str | None, str]], paras: list[str]) -> float:
    """Share of the text's paragraphs that are the text of a link: a listing's teasers."""
    if not paras:
        return 0.0
    linked = {_norm(text) for href, text in anchors if href}
    linked.discard("")
    return sum(1 for p in paras if _norm(p) in linked) / len(paras)


#: Text units of a link that reads like a headline, and of a teaser card (headline + excerpt).
HEADLINE_UNITS = (25.0, 300.0)
CARD_UNITS = 40.0


def _headline_links(anchors: list[tuple[str | None, str]]) -> int:
    """Links whose text is headline-sized: a listing shows dozens, an article a few related."""
    low, high = HEADLINE_UNITS
    return sum(1 for _href, text in anchors if low <= text_units(text) <= high)


#: The card parents are the elements with at least 4 child nodes other than text, i.e.
#: ``descendant-or-self::*[count(node()[not(self::text())]) >= 4]``; ``len()`` of an element
#: counts exactly those (elements, comments, processing instructions), and asking it in a walk
#: costs half of that XPath's count on every element.
CARD_CHILDREN = 4
_LINKED_CHILDREN = etree.XPath("*[.//a]")


def _teaser_cards(body: HtmlElement) -> int:
    """The largest run of look-alike siblings (same tag and class) that each hold a link and
    some text: the grid of cards a listing or a product collection is made of.

    Linked children are selected in C, and a group no larger than the best run so far is not
    measured (measuring a child's text is the expensive part).
    """
    best = 0
    for parent in body.iter(etree.Element):
        if len(parent) < CARD_CHILDREN:
            continue
        linked = _LINKED_CHILDREN(parent)
        if len(linked) <= best:
            continue
        groups: dict[tuple[str, str], list[HtmlElement]] = {}
        for child in linked:
            groups.setdefault((child.tag, child.get("class") or ""), []).append(child)
        for group in groups.values():
            if len(group) > best:
                cards = sum(1 for child in group if text_units(child.text_content() or "") >= CARD_UNITS)
                best = max(best, cards)
    return best


#: Class values as plain strings (no element reference each), and price itemprops without one
#: (reached through the itemprop attributes: ``.//*[@itemprop='price']`` asked every element).
_CLASS_VALUES = etree.XPath(".//*/@class", smart_strings=False)
_PRICE_ITEMPROPS = etree.XPath(
    ".//*/@itemprop[.='price']/parent::*[not(contains(translate(@class, 'PRICE', 'price'), 'price'))]"
)


def _price_marks(body: HtmlElement) -> int:
    """Elements marked as a price (class or itemprop): the cards of a product collection.

    The class test runs on the class strings in Python: a case-folding XPath ``translate()``
    on every element of the page cost about three times as much.
    """
    classes = sum(1 for value in _CLASS_VALUES(body) if "price" in str(value).lower())
    return classes + len(_PRICE_ITEMPROPS(body))


#: Link texts as plain strings (a smart string would make an element proxy for each).
_LINK_TEXTS = etree.XPath(".//a[@href]//text()", smart_strings=False)
_LINKED_HEADINGS = etree.XPath(".//h2[.//a] | .//h3[.//a] | .//h4[.//a]")


def _structure(body: HtmlElement) -> tuple[float, int, int]:
    """Link density (share of visible characters inside links), teaser headings, article cards."""
    page_chars = len("".join((body.text_content() or "").split()))
    link_chars = len("".join("".join(cast(list[str], _LINK_TEXTS(body))).split()))
    density = link_chars / page_chars if page_chars else 1.0
    linked = 0
    for heading in _LINKED_HEADINGS(body):
        heading_chars = len("".join((heading.text_content() or "").split()))
        in_links = sum(len("".join((a.text_content() or "").split())) for a in heading.iter("a"))
        if heading_chars and in_links >= 0.8 * heading_chars:
            linked += 1
    return min(density, 1.0), linked, len(body.findall(".//article"))


def page_signals(
    tree: HtmlElement,
    nodes: list[dict[str, Any]],
    url: str,
    og_type: str | None,
    text: str,
    has_date: bool,
    title: str | None,
    body_source: str,
) -> dict[str, float]:
    """Every signal of :data:`SIGNALS` for one page.

    A body read from JSON (``body_source`` other than "html") is the page's article by
    declaration and the visible page a JavaScript shell, so the page-structure signals are
    those of a plain article page (no links, no teasers, no cards) rather than the shell's.
    """
    types: set[str] = set()
    for node in nodes:
        types |= node_types(node)
    paras = paragraphs(text)
    units = text_units(text)
    body = tree.find(".//body") if body_source == "html" else None
    density, linked, cards = _structure(body) if body is not None else (0.0, 0, 0)
    anchors = _anchors(body) if body is not None else []
    path = urlsplit(url).path
    return {
        "body-in-json": float(body_source != "html"),
        "jsonld-article": float(bool(types & ARTICLE_TYPES)),
        "jsonld-listing": float(bool(types & LISTING_TYPES)),
        "og-article": float(og_type == "article"),
        "og-other": float(og_type in _OTHER_OG),
        "text-units": _log(units),
        "sentences": _log(sentence_count(text)),
        "long-paragraphs": _log(long_paragraphs(text)),
        "paragraph-units": _log(units / len(paras)) if paras else 0.0,
        "sentence-paragraphs": sum(1 for p in paras if has_sentence(p)) / len(paras) if paras else 0.0,
        "link-density": density,
        "teaser-headings": _log(linked),
        "article-cards": _log(cards),
        "linked-paragraphs": _linked_share(anchors, paras) if body is not None else 0.0,
        "time-elements": _log(len(body.findall(".//time"))) if body is not None else 0.0,
        "headline-links": _log(_headline_links(anchors)) if body is not None else 0.0,
        "teaser-cards": _log(_teaser_cards(body)) if body is not None else 0.0,
        "price-marks": _log(_price_marks(body)) if body is not None else 0.0,
        "listing-url": float(bool(_LISTING_PATH.search(path)) or path in {"", "/"}),
        "section-url": float(bool(_SECTION_END.search(path))),
        "article-url": float(
            bool(_DATED_PATH.search(path) or _ARTICLE_ID.search(path)) or _slug_tokens(path) >= 4
        ),
        "dated": float(has_date),
        "title-units": _log(text_units(title or "")),
    }
