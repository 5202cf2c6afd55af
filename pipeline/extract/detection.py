"""Is this page an article? A vote of cheap page signals.

Listing/section/tag pages and product collections must not become "articles": they would
fill the database with link lists. Declared types (JSON-LD, ``og:type``) are strong but
sites lie (every page says ``og:type=article`` on some CMSs), so structure and text
density (how much running prose the extractor found, how link-heavy the page is) and
the URL shape vote too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from pipeline.extract.jsonld import ARTICLE_TYPES, LISTING_TYPES, node_types

_LISTING_PATH = re.compile(
    r"/(?:tag|tags|category|categories|topic|topics|section|author|authors|archive|archives|search|"
    r"page|collections?|shop|products?|store|rubrik|thema|themen|categorie|categoria)(?:/|$)",
    re.I,
)
_DATED_PATH = re.compile(r"/(?:19|20)\d{2}/\d{1,2}/")
_ARTICLE_ID = re.compile(r"[-_/]\d{5,}(?:\.html?)?$|\.html?$")


SHORT_TITLE_WORDS = 3
SHORT_TITLE_PENALTY = 0.75


@dataclass(frozen=True)
class Detection:
    is_article: bool
    score: float
    reasons: tuple[str, ...]


def _slug_words(path: str) -> int:
    last = [p for p in path.split("/") if p]
    if not last:
        return 0
    return len([w for w in re.split(r"[-_]", last[-1].rsplit(".", 1)[0]) if w.isalpha()])


def detect_article(
    tree: HtmlElement,
    nodes: list[dict[str, Any]],
    url: str,
    og_type: str | None,
    text: str,
    has_date: bool,
    title: str | None = None,
    body_source: str = "html",
) -> Detection:
    """Score page signals; positive means article.

    ``body_source``: where ``text`` came from. A body read from JSON (JSON-LD ``articleBody``
    or a framework's embedded state) is the page's article by declaration, and the visible
    page is a JavaScript shell (nav and footer only), so its link density and teaser
    headings say nothing about the article: those structure votes are skipped.
    """
    score = 0.0
    reasons: list[str] = []
    if body_source != "html":
        score += 2.0
        reasons.append(f"body-in-{body_source.replace('_', '-')}")
    types: set[str] = set()
    for node in nodes:
        types |= node_types(node)
    if types & ARTICLE_TYPES:
        score += 2.0
        reasons.append("jsonld-article")
    if types & LISTING_TYPES:
        score -= 2.0
        reasons.append("jsonld-listing")
    if og_type == "article":
        score += 1.0
        reasons.append("og-article")
    elif og_type in {"website", "product", "profile", "video.other"}:
        score -= 0.5
        reasons.append(f"og-{og_type}")

    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    long_paragraphs = [p for p in paragraphs if len(p) >= 150]
    words = len(text.split())
    if words >= 300 and len(long_paragraphs) >= 3:
        score += 1.5
        reasons.append("prose")
    elif words < 25:
        score -= 2.0
        reasons.append("little-text")
    elif words < 120:
        score -= 1.0
        reasons.append("short-text")
    elif len(long_paragraphs) < 2:
        score -= 1.0
        reasons.append("short-paragraphs")

    body = tree.find(".//body") if body_source == "html" else None
    if body is not None:
        # Character counts via XPath (C speed): visible text vs text inside links.
        page_text = len("".join((body.text_content() or "").split()))
        link_text = len("".join("".join(body.xpath(".//a[@href]//text()")).split()))
        density = link_text / page_text if page_text else 1.0
        if density > 0.5:
            score -= 1.5
            reasons.append("link-dense")
        elif density > 0.35:
            score -= 0.5
            reasons.append("linky")
        linked_headings = 0
        for heading in body.xpath(".//h2[.//a] | .//h3[.//a] | .//h4[.//a]"):
            heading_text = len(" ".join((heading.text_content() or "").split()))
            in_links = sum(len(" ".join((a.text_content() or "").split())) for a in heading.iter("a"))
            if heading_text and in_links >= 0.8 * heading_text:
                linked_headings += 1
        if linked_headings >= 12:
            score -= 1.0
            reasons.append("teaser-headings")
        articles = len(body.findall(".//article"))
        if articles >= 5:
            score -= 1.5
            reasons.append("many-article-cards")

    # Section/category/product-collection pages are named, articles are headlined: "News",
    # "Electric Guitars" vs a sentence-like headline (6.5 % of dev articles have <= 3 words, vs
    # half of the listing/collection pages).
    # Only against a long text: a listing's teasers read as prose, a short item is not one.
    if title is not None and len(title.split()) <= SHORT_TITLE_WORDS and "prose" in reasons:
        score -= SHORT_TITLE_PENALTY
        reasons.append("short-title")

    path = urlsplit(url).path
    if _LISTING_PATH.search(path) or path in {"", "/"}:
        score -= 1.0
        reasons.append("listing-url")
    if _DATED_PATH.search(path) or _ARTICLE_ID.search(path) or _slug_words(path) >= 4:
        score += 0.5
        reasons.append("article-url")
    if has_date:
        score += 0.5
        reasons.append("dated")
    return Detection(score > 0.0, score, tuple(reasons))
