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
from typing import Any
from urllib.parse import unquote, urlsplit

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
    "listing-url",
    "article-url",
    "dated",
    "title-units",
)

_LISTING_PATH = re.compile(
    r"/(?:tag|tags|category|categories|topic|topics|section|sections|author|authors|archive|archives|"
    r"search|page|collections?|shop|products?|store|rubrik|thema|themen|categorie|categoria|label)(?:/|$)",
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


def _linked_share(body: HtmlElement, paras: list[str]) -> float:
    """Share of the text's paragraphs that are the text of a link: a listing's teasers."""
    if not paras:
        return 0.0
    anchors = {_norm(a.text_content() or "") for a in body.iter("a") if a.get("href")}
    anchors.discard("")
    return sum(1 for p in paras if _norm(p) in anchors) / len(paras)


def _structure(body: HtmlElement) -> tuple[float, int, int]:
    """Link density (share of visible characters inside links), teaser headings, article cards."""
    page_chars = len("".join((body.text_content() or "").split()))
    link_chars = len("".join("".join(body.xpath(".//a[@href]//text()")).split()))
    density = link_chars / page_chars if page_chars else 1.0
    linked = 0
    for heading in body.xpath(".//h2[.//a] | .//h3[.//a] | .//h4[.//a]"):
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
        "linked-paragraphs": _linked_share(body, paras) if body is not None else 0.0,
        "time-elements": _log(len(body.findall(".//time"))) if body is not None else 0.0,
        "listing-url": float(bool(_LISTING_PATH.search(path)) or path in {"", "/"}),
        "article-url": float(
            bool(_DATED_PATH.search(path) or _ARTICLE_ID.search(path)) or _slug_tokens(path) >= 4
        ),
        "dated": float(has_date),
        "title-units": _log(text_units(title or "")),
    }
