"""What an HTML page is and where it points: canonical URL, article signals, links.

The crawler only needs a cheap, robust verdict ("is this worth extracting?") and the links
to follow; the extraction stage makes the final article/not-article call on the text.
Works on the lxml tree Scrapy already parsed (``response.selector.root``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from lxml import etree

from crawlers.pagescan import PageScan, scan
from pipeline.urls import safe_join as join

ARTICLE_LD_TYPES = {
    "article",
    "newsarticle",
    "reportagenewsarticle",
    "analysisnewsarticle",
    "opinionnewsarticle",
    "backgroundnewsarticle",
    "reviewnewsarticle",
    "blogposting",
    "liveblogposting",
    "report",
}
LISTING_LD_TYPES = {"collectionpage", "itemlist", "searchresultspage", "website", "aboutpage", "contactpage"}
RELATED_MARK = re.compile(
    r"related|more[-_ ]?stor|more[-_ ]?from|read[-_ ]?more|read[-_ ]?next|recommend|also[-_ ]?read|"
    r"further[-_ ]?reading|recirc|see[-_ ]?also|you[-_ ]?may|more[-_ ]?coverage|more[-_ ]?on",
    re.IGNORECASE,
)
RELATED_HEADING = re.compile(
    r"^\s*(related|more stories|more from|read more|read next|recommended|see also|further reading|"
    r"more coverage|you may also like|also read|more on)",
    re.IGNORECASE,
)
BOILERPLATE_CONTAINERS = {"nav", "header", "footer"}
NEXT_TEXT = re.compile(r"^\s*(next|older|more|›|»|→|next page|older posts|load more)\b", re.IGNORECASE)
PAGE_PARAM = re.compile(r"([?&](page|p|pg)=\d+|/page/\d+/?$)", re.IGNORECASE)
# The page's lookups (canonical, og:*, title, dates, JSON-LD, body candidates, headings,
# marked blocks, pagination, <base>) come from one walk of the tree: crawlers.pagescan.


MISSING: Any = object()  # "not computed yet" (``None`` is a real answer: no body element)


@dataclass(frozen=True)
class Link:
    url: str
    kind: str  # related | promo | inline | listing | pagination | nav


@dataclass
class PageInfo:
    """The crawler's view of one HTML page."""

    canonical: str | None = None
    og_type: str | None = None
    ld_types: set[str] = field(default_factory=set)
    published: str | None = None
    title: str | None = None
    score: int = 0
    signals: list[str] = field(default_factory=list)
    amp: bool = False
    #: The element holding the article body (:func:`body_root`), for :func:`related_links`.
    body: Any = field(default=None, repr=False, compare=False)
    #: The page's one walk (:func:`crawlers.pagescan.scan`), for the link functions.
    scan: PageScan | None = field(default=None, repr=False, compare=False)


def _first(values: Iterable[str]) -> str | None:
    """The first value that is not blank, stripped (what ``//…/@attr`` lookups keep)."""
    for value in values:
        text = value.strip()
        if text:
            return text
    return None


def _ld_types(page: PageScan) -> set[str]:
    types: set[str] = set()
    for script in page.ld_json_texts:
        try:
            data = json.loads(script)
        except ValueError:
            continue
        stack: list[Any] = [data]
        while stack:
            node = stack.pop()
            if isinstance(node, list):
                stack.extend(node)
            elif isinstance(node, dict):
                t = node.get("@type")
                for value in t if isinstance(t, list) else [t]:
                    if isinstance(value, str):
                        types.add(value.lower())
                if "@graph" in node:
                    stack.append(node["@graph"])
    return types


class _Enclosed:
    """Per page: is an element inside a related block or one of ``containers``? (memoised)

    A related block is an element whose class/id/``data-block`` matches :data:`RELATED_MARK`;
    a container is matched by tag name. Each ancestor is judged once per page instead of
    once per paragraph, heading or link below it (walking every paragraph's ancestors again
    was the largest cost of the page analysis).
    """

    def __init__(self, containers: set[str] | frozenset[str], related: bool) -> None:
        self.containers = containers
        self.related = related
        self._memo: dict[Any, bool] = {}  # element -> flagged itself or above

    def _flag(self, elem: Any) -> bool:
        if not isinstance(elem.tag, str):
            return False
        return elem.tag.lower() in self.containers or (self.related and _related_marker(elem))

    def above(self, elem: Any) -> bool:
        """Whether an ancestor of ``elem`` (not ``elem`` itself) is flagged."""
        chain: list[Any] = []
        node = elem.getparent()
        flagged = False
        while node is not None:
            known = self._memo.get(node)
            if known is not None:
                flagged = known
                break
            chain.append(node)
            node = node.getparent()
        chain.reverse()  # not reversed(chain): mypyc 2.4 fails on it (benchmarks.compiled)
        for node in chain:
            flagged = flagged or self._flag(node)
            self._memo[node] = flagged
        return flagged

    def excluded(self, elem: Any) -> bool:
        """``elem`` or an ancestor is a related block (with ``related``), or an ancestor is a container."""
        return (self.related and isinstance(elem.tag, str) and _related_marker(elem)) or self.above(elem)


def _related_marker(elem: Any) -> bool:
    return related_marker(f"{elem.get('class') or ''} {elem.get('id') or ''} {elem.get('data-block') or ''}")


@lru_cache(maxsize=8192)
def related_marker(marker: str) -> bool:
    """Whether a ``"class id data-block"`` string marks a related block (:data:`RELATED_MARK`).

    Cached: a site's pages repeat the same few dozen class/id strings page after page, and
    the pattern's search (a dozen alternatives, case-insensitive, at every position) cost
    more than the rest of judging an element. Bounded, so it does not grow with the site.
    """
    return bool(marker.strip() and RELATED_MARK.search(marker))


def body_root(root: Any, page: PageScan | None = None) -> Any | None:
    """The article body's element: ``itemprop=articleBody``, a body class, ``<article>``, ``<main>``."""
    page = page or scan(root)
    for found in (page.article_body, *page.body_classes.values(), page.articles, page.mains):
        if found:
            return found[0]
    return None


def paragraph_chars(container: Any, enclosed: _Enclosed | None = None, enough: int | None = None) -> int:
    """Characters of the paragraphs below ``container`` outside boilerplate and related blocks.

    ``enough``: stop counting once the total reaches it (the answer is then some number
    ``>= enough``). The crawl only compares the total with :data:`LONG_TEXT_CHARS`, and an
    article reaches that within its first paragraphs: judging and measuring the rest was
    most of this function's cost on the demo's article pages.
    """
    enclosed = enclosed or _Enclosed(BOILERPLATE_CONTAINERS | {"aside"}, related=True)
    total = 0
    for p in container.iter("p"):
        if enclosed.excluded(p):
            continue
        total += len(" ".join(p.itertext()).strip())
        if enough is not None and total >= enough:
            break
    return total


#: Paragraph text (characters) from which a page earns the ``long-text`` signal.
LONG_TEXT_CHARS = 600


#: A body in the page's JSON at least this long (characters) makes a text-less page an article.
JSON_BODY_CHARS = 600


def json_body_chars(root: Any, title: str | None) -> int:
    """Length of the article body a page carries in JSON and not in its HTML (0: none).

    The same readers the extraction uses (:mod:`pipeline.extract.jsonbody`), so a shell the
    crawler keeps is one the extraction can fill; imported lazily, as only text-less pages
    need them.
    """
    from pipeline.extract.embedded import find_state_scripts
    from pipeline.extract.jsonbody import embedded_body, jsonld_body
    from pipeline.extract.jsonld import parse_jsonld

    titles = [title] if title else []
    found = jsonld_body(parse_jsonld(root), titles, [])
    if found is None:
        scripts = [s for s in find_state_scripts(root) if len(s.text) >= JSON_BODY_CHARS]
        found = embedded_body(scripts, titles, []) if scripts else None
    return found.chars if found is not None else 0


def analyse(root: Any, url: str) -> PageInfo:
    """Canonical URL and article signals of a parsed HTML page."""
    page = scan(root)
    info = PageInfo(scan=page)
    canonical = _first(page.canonical_hrefs) or _first(page.og_url)
    if canonical:
        info.canonical = join(url, canonical) or canonical
    info.og_type = (_first(page.og_type) or "").lower() or None
    info.ld_types = _ld_types(page)
    info.title = _first(page.og_title) or _first(page.title_texts)
    info.published = _first(page.published)
    html = root.getroottree().getroot()
    info.amp = html.get("amp") is not None or html.get("\u26a1") is not None
    score = 0
    signals: list[str] = []
    if info.ld_types & ARTICLE_LD_TYPES:
        score += 3
        signals.append("jsonld-article")
    elif info.ld_types & LISTING_LD_TYPES and not info.ld_types & ARTICLE_LD_TYPES:
        score -= 2
        signals.append("jsonld-listing")
    if info.og_type == "article":
        score += 2
        signals.append("og-article")
    elif info.og_type in {"website", "profile"}:
        score -= 1
        signals.append(f"og-{info.og_type}")
    if info.published:
        score += 1
        signals.append("published-date")
    articles = page.articles
    if len(articles) == 1:
        score += 1
        signals.append("one-article-element")
    elif len(articles) >= 4:
        score -= 2
        signals.append("many-article-elements")
    container = body_root(root, page)
    info.body = container
    enclosed = _Enclosed(BOILERPLATE_CONTAINERS | {"aside"}, related=True)
    chars = paragraph_chars(container if container is not None else root, enclosed, enough=LONG_TEXT_CHARS)
    if chars >= LONG_TEXT_CHARS:
        score += 1
        signals.append("long-text")
    elif chars < 150 and json_body_chars(root, info.title) >= JSON_BODY_CHARS:
        # A JavaScript shell whose story is in its JSON (JSON-LD articleBody, framework
        # state): as good a sign as visible body text, and the extraction reads it.
        score += 2
        signals.append("json-body")
    elif chars < 150:
        score -= 1
        signals.append("little-text")
    teasers = headline_links(container if container is not None else root, url, enclosed)
    if teasers >= 2:
        score -= 2
        signals.append(f"teaser-headlines-{teasers}")
    if page.next_links:
        score -= 1
        signals.append("pagination")
    info.score = score
    info.signals = signals
    return info


def headline_links(container: Any, url: str, enclosed: _Enclosed | None = None) -> int:
    """Headings that link elsewhere: the teaser pattern of listings and topic hubs."""
    enclosed = enclosed or _Enclosed(BOILERPLATE_CONTAINERS | {"aside"}, related=True)
    count = 0
    for heading in _headlines(container):
        if enclosed.excluded(heading):
            continue
        if any(RELATED_HEADING.match(" ".join(h.itertext())) for h in heading.itersiblings(preceding=True)):
            continue
        hrefs = [join(url, a.get("href") or "") or "" for a in heading.iter("a")]
        if any(h and h.split("#")[0] != url for h in hrefs):
            count += 1
    return count


def _headlines(container: Any) -> Iterator[Any]:
    """``.//h2[.//a] | .//h3[.//a] | .//h4[.//a]``: headings below ``container`` holding a link."""
    for heading in container.iter("h2", "h3", "h4"):
        if heading is not container and next(heading.iter("a"), None) is not None:
            yield heading


def _hrefs(elements: Iterable[Any], base: str) -> Iterator[tuple[Any, str]]:
    for a in elements:
        href = (a.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        absolute = join(base, href)
        if absolute is not None and _is_http(absolute):
            yield a, absolute


def _is_http(url: str) -> bool:
    """``urlsplit(url).scheme in {"http", "https"}``, without parsing the URL in the usual case."""
    scheme, colon, _ = url.partition(":")
    if colon and scheme.lower() in ("http", "https"):
        return True  # urlsplit would find the same scheme (nothing to strip before an "h")
    return urlsplit(url).scheme in {"http", "https"}


def base_url(root: Any, url: str, page: PageScan | None = None) -> str:
    base = _first((page or scan(root)).base_hrefs)
    return (join(url, base) or url) if base else url


def listing_links(root: Any, url: str, page: PageScan | None = None) -> list[Link]:
    """Links of a listing page: pagination, navigation (sections) and content links.

    ``page``: the page's :func:`crawlers.pagescan.scan` when the caller has it (``PageInfo.scan``).
    """
    page = page or scan(root)
    base = base_url(root, url, page)
    out: list[Link] = []
    next_urls = {u for u in (join(base, h) for h in page.next_hrefs()) if u is not None}
    boilerplate = _Enclosed(BOILERPLATE_CONTAINERS, related=False)
    for a, href in _hrefs(root.iter("a"), base):
        text = " ".join(a.itertext()).strip()
        rel = (a.get("rel") or "").lower()
        if href in next_urls or "next" in rel.split() or (NEXT_TEXT.match(text) and PAGE_PARAM.search(href)):
            out.append(Link(href, "pagination"))
        elif boilerplate.above(a):
            out.append(Link(href, "nav"))
        else:
            out.append(Link(href, "listing"))
    for href in next_urls:
        out.append(Link(href, "pagination"))
    return out


def related_links(
    root: Any, url: str, selectors: Iterable[str] = (), body: Any = MISSING, page: PageScan | None = None
) -> list[Link]:
    """Related-article links of an article page: related blocks, in-body promos, inline links.

    ``related``: inside a related/more-stories block (class/id markers, a "Related …" heading,
    or a configured CSS selector). ``promo``: a body paragraph that is nothing but the link.
    ``inline``: a link within running body text. Navigation, header and footer are ignored.
    ``body``: the page's :func:`body_root` when the caller has it already (``PageInfo.body``);
    ``page`` likewise its :func:`crawlers.pagescan.scan` (``PageInfo.scan``).
    """
    page = page or scan(root)
    base = base_url(root, url, page)
    out: dict[str, str] = {}
    order = {"related": 0, "promo": 1, "inline": 2}

    def add(href: str, kind: str) -> None:
        if href not in out or order[kind] < order[out[href]]:
            out[href] = kind

    from lxml.cssselect import CSSSelector  # lazily: only sources with selectors pay for it

    for css in selectors:
        try:
            matcher = CSSSelector(css)
        except Exception:  # invalid selector in config: skip it, extraction still works
            continue
        for block in matcher(root):
            for _a, href in _hrefs(block.iter("a"), base):
                add(href, "related")
    for heading in page.headings:
        if RELATED_HEADING.match(" ".join(heading.itertext())):
            parent = heading.getparent()
            if parent is not None:
                for _a, href in _hrefs(parent.iter("a"), base):
                    add(href, "related")
    # One pass over marked elements instead of an ancestor walk per link.
    related_elements: dict[Any, None] = {}  # ordered, so edges come out in page order
    boilerplate = _Enclosed(BOILERPLATE_CONTAINERS, related=False)
    for block, marker in page.marked:
        if related_marker(marker) and not boilerplate.above(block):
            related_elements.update(dict.fromkeys(block.iter("a", "p")))
    for _a, href in _hrefs((e for e in related_elements if e.tag == "a"), base):
        add(href, "related")
    if body is MISSING:
        body = body_root(root, page)
    if body is not None:
        for p in body.iter("p"):
            if p in related_elements or boilerplate.above(p):
                continue
            p_text = None  # only paragraphs with a link need their text (most have none)
            for a, href in _hrefs(p.iter("a"), base):
                if p_text is None:
                    p_text = " ".join(" ".join(p.itertext()).split())
                a_text = " ".join(" ".join(a.itertext()).split())
                add(href, "promo" if a_text and a_text == p_text else "inline")
    return [Link(href, kind) for href, kind in out.items()]


def parse_html(body: bytes, encoding: str | None = None) -> Any:
    """An lxml HTML tree for code paths that have bytes rather than a Scrapy response."""
    parser = etree.HTMLParser(encoding=encoding, recover=True, remove_comments=True)
    return etree.fromstring(body, parser)
