"""Page metadata: headline, site name, language, description, section, tags, image, canonical.

The headline a reader sees is the ``<h1>``; ``og:title``/``<title>`` usually add the site
name ("Headline | Outlet") and some sites put their logo in an ``<h1>``. So we take the
``<h1>`` that agrees with the page's declared titles and fall back to the declared titles
with the site-name suffix cut off.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from pipeline.extract.jsonld import ARTICLE_TYPES, node_types, text_value
from pipeline.extract.language import normalise_code
from pipeline.urls import safe_join

_WORD = re.compile(r"\w+")
_SEPARATORS = re.compile(r"\s+[|\-–—:·•»/~]\s+|\s*[|•»~]\s*|\s+::\s+")


@dataclass
class PageMeta:
    """Everything except text, authors and dates (those have their own modules)."""

    title: str | None = None
    headline_el: HtmlElement | None = None
    site_names: list[str] = field(default_factory=list)  # declared names, then the host's labels
    language: str | None = None
    description: str | None = None
    section: str | None = None
    tags: list[str] = field(default_factory=list)
    image_url: str | None = None
    canonical_url: str | None = None
    og_type: str | None = None
    meta: dict[str, str] = field(default_factory=dict)

    @property
    def site_name(self) -> str | None:
        return self.site_names[0] if self.site_names else None


def _norm(text: str) -> str:
    return " ".join(text.split())


def _tokens(text: str) -> Counter[str]:
    return Counter(_WORD.findall(text.casefold()))


def token_f1(a: str, b: str) -> float:
    ta, tb = _tokens(a), _tokens(b)
    if not ta or not tb:
        return 0.0
    overlap = sum((ta & tb).values())
    if not overlap:
        return 0.0
    p, r = overlap / sum(ta.values()), overlap / sum(tb.values())
    return 2 * p * r / (p + r)


def meta_key(meta: HtmlElement) -> str:
    """A ``<meta>``'s key: its ``property``, ``name`` or ``itemprop``, stripped and lower-cased."""
    return (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").strip().lower()


def read_meta(metas: list[HtmlElement]) -> dict[str, str]:
    """First value of each ``<meta name|property|itemprop>`` key (:func:`meta_key`)."""
    out: dict[str, str] = {}
    for meta in metas:
        key = meta_key(meta)
        content = meta.get("content")
        if key and content and key not in out:
            out[key] = _norm(content)
    return out


def strip_site_suffix(title: str, site_names: list[str]) -> str:
    """Cut "| Outlet" / "- Outlet" parts that name the site (or are short trailing labels)."""
    title = _norm(title)
    parts = _SEPARATORS.split(title)
    if len(parts) == 1:
        return title
    sites = [s.casefold() for s in site_names if s]

    def is_site(part: str) -> bool:
        p = part.casefold().strip()
        if not p:
            return True
        return any(p == s or p in s or s in p for s in sites)

    while len(parts) > 1 and is_site(parts[-1]):
        parts.pop()
    while len(parts) > 1 and is_site(parts[0]):
        parts.pop(0)
    if len(parts) > 1:
        # Still split: keep the longest part when the others are short labels.
        longest = max(parts, key=len)
        if len(longest) >= 0.6 * sum(len(p) for p in parts):
            return longest.strip()
        # Otherwise rebuild with the original separators between remaining parts.
        start = title.find(parts[0])
        end = title.rfind(parts[-1]) + len(parts[-1])
        return title[start:end].strip() if start >= 0 and end > start else title
    return parts[0].strip()


def _visible_headings(tree: HtmlElement, tag: str) -> list[HtmlElement]:
    out = []
    for el in tree.iter(tag):
        if any(
            a.tag in {"header", "nav", "footer", "aside"} and a.tag != "header" for a in el.iterancestors()
        ):
            continue
        cls = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
        if "logo" in cls or "site-title" in cls or "sitename" in cls or "screen-reader" in cls:
            continue
        text = _norm(el.text_content() or "")
        if 3 <= len(text) <= 300:
            out.append(el)
    return out


def domain_names(url: str) -> list[str]:
    """The host and its name-like labels ("resources.github.com" -> itself, "resources", "github").

    Labels shorter than 3 characters ("co" of ".co.uk") and the TLD are not names.
    """
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    labels = [label for label in host.split(".")[:-1] if len(label) >= 3]
    return list(dict.fromkeys(n for n in (host, *labels) if n))


def choose_title(
    tree: HtmlElement, meta: dict[str, str], nodes: list[dict[str, Any]], site_names: list[str]
) -> tuple[str | None, HtmlElement | None]:
    declared: list[str] = []
    for node in nodes:
        if node_types(node) & ARTICLE_TYPES:
            headline = text_value(node.get("headline")) or text_value(node.get("name"))
            if headline:
                declared.append(_norm(headline))
                break
    for key in (
        "og:title",
        "twitter:title",
        "title",
        "dc.title",
        "headline",
        "sailthru.title",
        "parsely-title",
    ):
        if meta.get(key):
            declared.append(meta[key])
    title_el = tree.find(".//title")
    if title_el is not None and title_el.text_content():
        declared.append(_norm(title_el.text_content()))
    stripped = [strip_site_suffix(d, site_names) for d in declared if d]

    best: tuple[float, HtmlElement | None, str] = (0.0, None, "")
    h1s = _visible_headings(tree, "h1")
    for h1 in h1s[:6]:
        text = _norm(h1.text_content())
        score = max((token_f1(text, d) for d in stripped + declared), default=0.0)
        # A declared title that starts with this h1 ("Headline | Site") is strong agreement.
        if any(_norm(d).casefold().startswith(text.casefold()) for d in declared) and len(text) > 10:
            score = max(score, 0.95)
        if score > best[0]:
            best = (score, h1, text)
    if best[1] is not None and best[0] >= 0.6:
        return best[2], best[1]
    if len(h1s) == 1 and not stripped:
        return _norm(h1s[0].text_content()), h1s[0]
    if stripped:
        title = stripped[0]
        # Find the element showing it, for byline/date proximity.
        for tag in ("h1", "h2"):
            for el in _visible_headings(tree, tag)[:10]:
                if token_f1(_norm(el.text_content()), title) >= 0.8:
                    return title, el
        if len(h1s) == 1 and token_f1(_norm(h1s[0].text_content()), title) >= 0.5:
            return _norm(h1s[0].text_content()), h1s[0]
        return title, None
    if h1s:
        return _norm(h1s[0].text_content()), h1s[0]
    return None, None


def site_names(meta: dict[str, str], nodes: list[dict[str, Any]], url: str) -> list[str]:
    names: list[str] = []
    for key in (
        "og:site_name",
        "application-name",
        "apple-mobile-web-app-title",
        "twitter:site",
        "publisher",
    ):
        if meta.get(key):
            names.append(meta[key].lstrip("@"))
    for node in nodes:
        types = node_types(node)
        if types & {"website", "organization", "newsmediaorganization"}:
            name = text_value(node.get("name"))
            if name:
                names.append(name)
        publisher = node.get("publisher")
        if isinstance(publisher, dict | list):
            name = text_value(publisher)
            if name:
                names.append(name)
    names.extend(domain_names(url))
    return [n for n in dict.fromkeys(_norm(n) for n in names) if n]


def _language(
    tree: HtmlElement, metas: list[HtmlElement], meta: dict[str, str], nodes: list[dict[str, Any]]
) -> str | None:
    """The first usable declared language: ``<html lang>``, ``og:locale``, Content-Language, JSON-LD.

    A placeholder ("und", "x-default", "*") is skipped, not taken: the next declaration or the
    detector (:mod:`pipeline.extract.language`) decides instead.
    """
    declared = [tree.get("lang"), tree.get("xml:lang"), meta.get("og:locale"), meta.get("content-language")]
    for el in metas:
        if (el.get("http-equiv") or "").lower() == "content-language":
            declared.append(el.get("content"))
    for node in nodes:
        if node_types(node) & ARTICLE_TYPES and isinstance(node.get("inLanguage"), str):
            declared.append(node["inLanguage"])
    for raw in declared:
        code = normalise_code(raw)
        if code is not None:
            return code
    return None


def _canonical(tree: HtmlElement, meta: dict[str, str], url: str) -> str | None:
    """The declared canonical URL, when it is a usable http(s) URL (else the page has none)."""
    declared: str | None = None
    for link in tree.iterfind(".//link[@rel]"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            declared = str(link.get("href", "")).strip()
            break
    if declared is None:
        declared = meta.get("og:url")
    if not declared:
        return None
    absolute = safe_join(url, declared)
    if absolute is None:
        return None  # a broken IPv6 literal or port: no canonical, never a lost page
    parts = urlsplit(absolute)
    return absolute if parts.scheme in ("http", "https") and parts.hostname else None


def _tags(metas: list[HtmlElement], nodes: list[dict[str, Any]]) -> list[str]:
    tags: list[str] = []
    for el in metas:
        key = (el.get("property") or el.get("name") or "").lower()
        if key in {"article:tag", "news_keywords", "keywords", "parsely-tags"} and el.get("content"):
            tags.extend(t.strip() for t in re.split(r"[,;]", el.get("content") or ""))
    if not tags:
        for node in nodes:
            if node_types(node) & ARTICLE_TYPES:
                kw = node.get("keywords")
                if isinstance(kw, str):
                    tags.extend(t.strip() for t in kw.split(","))
                elif isinstance(kw, list):
                    tags.extend(str(t).strip() for t in kw)
    return [t for t in dict.fromkeys(tags) if t and len(t) <= 80][:30]


def _section(meta: dict[str, str], nodes: list[dict[str, Any]]) -> str | None:
    for key in ("article:section", "section", "parsely-section", "sailthru.section"):
        if meta.get(key):
            return meta[key][:200]
    for node in nodes:
        if node_types(node) & ARTICLE_TYPES:
            value = text_value(node.get("articleSection"))
            if value:
                return value[:200]
    return None


def _image(meta: dict[str, str], nodes: list[dict[str, Any]], url: str) -> str | None:
    for key in ("og:image", "og:image:url", "twitter:image", "twitter:image:src"):
        if meta.get(key):
            return safe_join(url, meta[key])
    for node in nodes:
        if node_types(node) & ARTICLE_TYPES:
            image = node.get("image")
            if isinstance(image, list) and image:
                image = image[0]
            if isinstance(image, dict):
                image = image.get("url")
            if isinstance(image, str) and image:
                return safe_join(url, image)
    return None


def extract_page_meta(tree: HtmlElement, nodes: list[dict[str, Any]], url: str) -> PageMeta:
    # The page's <meta> elements, found in one walk over the tree for the three readers below
    # (each walked the whole tree before: ~0.16 ms a page each on the WCXB dev pages).
    metas = list(tree.iterfind(".//meta"))
    meta = read_meta(metas)
    names = site_names(meta, nodes, url)
    title, headline_el = choose_title(tree, meta, nodes, names)
    description = meta.get("description") or meta.get("og:description") or meta.get("twitter:description")
    return PageMeta(
        title=title,
        headline_el=headline_el,
        site_names=names,
        language=_language(tree, metas, meta, nodes),
        description=description,
        section=_section(meta, nodes),
        tags=_tags(metas, nodes),
        image_url=_image(meta, nodes, url),
        canonical_url=_canonical(tree, meta, url),
        og_type=(meta.get("og:type") or "").lower() or None,
        meta=meta,
    )
