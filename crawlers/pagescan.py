"""One walk of a page's tree that collects everything the page analysis looks up.

Why this exists: the analysis asked lxml about a page with some twenty XPath expressions
(canonical, ``og:*``, title, dates, JSON-LD, body candidates, headings, marked blocks,
pagination, ``<base>``). On a news page of ~100 elements each evaluation costs 15-50 µs,
nearly all of it lxml's per-call set-up rather than the walk itself, so the expressions
cost more than the rest of the crawler's page work together (issue 17 item 4). Walking the
tree once in Python and sorting elements into buckets costs about as much as two of them.

Every bucket reproduces its XPath expression exactly (the expression is quoted beside it):
document order, exact attribute comparisons, ``text()`` as the element's own text runs,
``normalize-space`` token tests split on XML whitespace only. ``tests/test_pagescan.py``
holds the XPath version as the reference and compares both on every demo page and on pages
built to hit the edge cases.

Also here: :func:`page_root`, the parse of a Scrapy response into a plain lxml tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

#: The class tokens :func:`crawlers.page_analysis.body_root` looks for, in its order of preference.
BODY_CLASSES = ("article-body", "story-body", "entry-content")
_XML_SPACE = re.compile(r"[ \t\r\n]+")  # XPath's normalize-space splits on these only
_HEADINGS = frozenset(("h2", "h3", "h4"))
#: Tags with a bucket of their own: one set lookup spares the other elements the whole chain.
_SPECIAL = frozenset(("a", "meta", "link", "title", "script", "article", "main", "base", "header", "time"))


def _text_runs(elem: Any) -> list[str]:
    """``elem/text()``: its leading text and the tail of each child (comments included)."""
    runs = [elem.text] if elem.text is not None else []
    runs.extend(child.tail for child in elem if child.tail is not None)
    return runs


@dataclass
class PageScan:
    """The elements and values of one page the analysis needs, each in document order."""

    canonical_hrefs: list[str] = field(default_factory=list)  # //link[@rel='canonical']/@href
    og_url: list[str] = field(default_factory=list)  # //meta[@property='og:url']/@content
    og_type: list[str] = field(default_factory=list)  # //meta[@property='og:type']/@content
    og_title: list[str] = field(default_factory=list)  # //meta[@property='og:title']/@content
    title_texts: list[str] = field(default_factory=list)  # //title/text()
    ld_json_texts: list[str] = field(default_factory=list)  # //script[@type='application/ld+json']/text()
    published: list[str] = field(default_factory=list)  # crawlers.page_analysis' PUBLISHED union
    articles: list[Any] = field(default_factory=list)  # //article
    mains: list[Any] = field(default_factory=list)  # //main
    article_body: list[Any] = field(default_factory=list)  # //*[@itemprop='articleBody']
    #: ``//*[contains(concat(' ', normalize-space(@class), ' '), ' TOKEN ')]`` per BODY_CLASSES token
    body_classes: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in BODY_CLASSES})
    next_links: list[Any] = field(default_factory=list)  # //link[@rel='next'] | //a[@rel='next']
    base_hrefs: list[str] = field(default_factory=list)  # //base/@href
    headings: list[Any] = field(default_factory=list)  # //h2 | //h3 | //h4 | //header/*
    #: ``//*[@class or @id or @data-block]`` as (element, "class id data-block") pairs
    marked: list[tuple[Any, str]] = field(default_factory=list)

    def next_hrefs(self) -> list[str]:
        """``//link[@rel='next']/@href | //a[@rel='next']/@href``."""
        return [href for href in (e.get("href") for e in self.next_links) if href is not None]


def _published_values(elem: Any, tag: str, attrs: dict[str, str]) -> list[str]:
    """This element's share of the PUBLISHED union, in attribute order (as XPath sorts them).

    ``//meta[@property='article:published_time']/@content | //meta[@itemprop='datePublished']/@content
    | //*[@itemprop='datePublished']/@datetime | //article//time/@datetime``
    """
    itemprop = attrs.get("itemprop")
    names: set[str] = set()
    if tag == "meta" and (attrs.get("property") == "article:published_time" or itemprop == "datePublished"):
        names.add("content")
    if itemprop == "datePublished" or (tag == "time" and any(True for _ in elem.iterancestors("article"))):
        names.add("datetime")
    return [value for name, value in attrs.items() if name in names]


def _body_classes(found: PageScan, elem: Any, cls: str) -> None:
    if "article-body" in cls or "story-body" in cls or "entry-content" in cls:  # cheap pre-test
        tokens = _XML_SPACE.split(cls)
        for token in BODY_CLASSES:
            if token in tokens:
                found.body_classes[token].append(elem)


def scan(root: Any) -> PageScan:
    """Walk ``root``'s document once (``//`` in XPath: the whole document, root included).

    Attributes are read once per element as a dict (``elem.items()``, one call) rather than
    attribute by attribute: most elements have none, and the lookups were most of the walk.
    ``//header/*`` comes out in document order by itself: a header's children are met after
    the header (their proxies are kept alive in a set, so they compare by identity).
    """
    found = PageScan()
    headings = found.headings
    marked = found.marked
    header_children: set[Any] = set()
    for elem in root.getroottree().getroot().iter():
        tag = elem.tag
        if not isinstance(tag, str):  # comments, processing instructions
            continue
        if tag in _HEADINGS or (header_children and elem in header_children):
            headings.append(elem)
        items = elem.items()
        if not items and tag not in _SPECIAL:
            continue
        attrs = dict(items)
        get = attrs.get
        cls, ident, block = get("class"), get("id"), get("data-block")
        if cls is not None or ident is not None or block is not None:
            marked.append((elem, f"{cls or ''} {ident or ''} {block or ''}"))
            if cls:
                _body_classes(found, elem, cls)
        if tag not in _SPECIAL:
            if "itemprop" in attrs:
                if attrs["itemprop"] == "articleBody":
                    found.article_body.append(elem)
                found.published.extend(_published_values(elem, tag, attrs))
            continue
        if tag == "a":
            if get("rel") == "next":
                found.next_links.append(elem)
        elif tag == "meta":
            _meta(found, attrs)
        elif tag == "link":
            rel = get("rel")
            if rel == "canonical":
                href = get("href")
                if href is not None:
                    found.canonical_hrefs.append(href)
            elif rel == "next":
                found.next_links.append(elem)
        elif tag == "title":
            found.title_texts.extend(_text_runs(elem))
        elif tag == "script":
            if get("type") == "application/ld+json":
                found.ld_json_texts.extend(_text_runs(elem))
        elif tag == "article":
            found.articles.append(elem)
        elif tag == "main":
            found.mains.append(elem)
        elif tag == "base":
            href = get("href")
            if href is not None:
                found.base_hrefs.append(href)
        elif tag == "header":
            header_children.update(c for c in elem if isinstance(c.tag, str))
        if "itemprop" in attrs:
            if attrs["itemprop"] == "articleBody":
                found.article_body.append(elem)
            found.published.extend(_published_values(elem, tag, attrs))
        elif attrs and (tag == "meta" or tag == "time"):
            found.published.extend(_published_values(elem, tag, attrs))
    return found


def _meta(found: PageScan, attrs: dict[str, str]) -> None:
    content = attrs.get("content")
    if content is not None:
        prop = attrs.get("property")
        if prop == "og:url":
            found.og_url.append(content)
        elif prop == "og:type":
            found.og_type.append(content)
        elif prop == "og:title":
            found.og_title.append(content)


def page_root(response: Any) -> Any:
    """The tree of an HTML ``TextResponse``, as Scrapy's ``response.selector.root`` parses it.

    Same input as parsel's ``create_root_node`` (the response's decoded text, stripped, NULs
    removed, UTF-8) and the same parser options, but lxml's plain ``HTMLParser`` rather than
    ``lxml.html``'s: the latter looks up a Python element class for every element the
    analysis touches, a quarter of its cost, and the crawler uses none of those classes'
    methods. Skipped as well: the ``Selector`` object and the ``<base>`` regex search
    parsel runs for it (the analysis reads ``<base href>`` from the tree), and for a plain
    UTF-8 body the decode and re-encode (:func:`_utf8_source`: the same bytes).
    """
    body = _utf8_source(response)
    if body is None:
        body = response.text.strip().replace("\x00", "").encode("utf-8") or b"<html/>"
    parser = etree.HTMLParser(recover=True, encoding="utf-8", huge_tree=True)
    root = etree.fromstring(body, parser=parser, base_url=response.url)
    if root is None:
        root = etree.fromstring(b"<html/>", parser=parser, base_url=response.url)
    return root


#: Bytes at the edges of a stripped body that ``str.strip`` could still remove (or decode
#: differently): the separators ``\x1c``-``\x1f`` and any non-ASCII byte (a BOM, U+00A0, …).
_EDGE_UNSAFE = frozenset(range(0x1C, 0x20)) | frozenset(range(0x80, 0x100))


def _utf8_source(response: Any) -> bytes | None:
    """The bytes :func:`page_root` parses, straight from a plain UTF-8 body; ``None`` otherwise.

    ``response.text.strip().replace("\x00", "").encode("utf-8")`` decodes the page and encodes
    it again. For a body Scrapy reads as UTF-8 that is valid UTF-8 (so nothing is replaced),
    has no NUL and no BOM, and whose edges ``bytes.strip`` strips as ``str.strip`` would (no
    ``\x1c``-``\x1f`` or non-ASCII character left at either end), that round trip gives back
    ``response.body.strip()``: the same bytes, so the same tree, without the two copies (and,
    when nothing else asked for ``response.text``, without Scrapy's decode).
    """
    if response.encoding != "utf-8":
        return None
    body: bytes = response.body.strip()
    if not body or body[0] in _EDGE_UNSAFE or body[-1] in _EDGE_UNSAFE or b"\x00" in body:
        return None
    if not body.isascii():
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return body
