"""Article bodies that live in JSON: JSON-LD ``articleBody`` and framework state.

Used only when trafilatura found little in the HTML (see :mod:`pipeline.extract.api`). The
framework state is searched generically, not by one site's key path: every object that has
a headline/title AND a body field is a candidate, whatever its position. A body is a plain
or HTML string, a list of paragraph strings, or a list of blocks with text (Portable Text,
Editor.js, Contentful rich text, Apollo references to paragraph objects...). The longest
body whose headline agrees with the page's own titles wins; a state with several unrelated
stories (a front page's teasers) and no agreeing one gives nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lxml.html import HtmlElement

from pipeline.extract.cleaning import normalise_line
from pipeline.extract.embedded import StateScript, parse_state
from pipeline.extract.jsonblocks import LOOKS_HTML, Resolver, apollo_resolver, block_lines, html_lines
from pipeline.extract.jsonld import ARTICLE_TYPES, node_types
from pipeline.extract.metadata import token_f1

#: A candidate body shorter than this (characters) is a teaser or a caption, not an article.
MIN_BODY_CHARS = 200
#: Objects visited per state (Apollo caches of big pages hold tens of thousands).
MAX_NODES = 200_000
MAX_DEPTH = 60
#: Headline agreement with a page title (token F1) for a candidate to count as "this page's".
AGREEMENT = 0.6

_TITLE_KEYS = ("headline", "title", "heading", "seotitle", "displaytitle", "headlinetext")
_BODY_KEYS = frozenset(
    {
        "articlebody",
        "body",
        "bodyhtml",
        "bodytext",
        "bodyblocks",
        "content",
        "contenthtml",
        "contentbody",
        "contentblocks",
        "contentelements",
        "html",
        "text",
        "fulltext",
        "articletext",
        "storybody",
        "story",
        "blocks",
        "paragraphs",
        "richtext",
    }
)
_AUTHOR_KEYS = ("authors", "author", "byline", "bylines", "creators", "creator", "writers")
_PUBLISHED_KEYS = (
    "datepublished",
    "publishedat",
    "publisheddate",
    "publishdate",
    "firstpublished",
    "pubdate",
)
_MODIFIED_KEYS = ("datemodified", "modifiedat", "updatedat", "dateupdated", "lastmodified", "modifieddate")


@dataclass
class JsonBody:
    """An article body found in JSON, with the metadata its object declares."""

    source: str  # "jsonld" | "embedded_state"
    where: str  # "articleBody", "__NEXT_DATA__", ...
    title: str | None
    lines: list[str]
    authors: list[str] = field(default_factory=list)
    published: Any = None
    modified: Any = None

    @property
    def chars(self) -> int:
        return sum(len(line) for line in self.lines)


def _norm_key(key: str) -> str:
    return key.replace("_", "").replace("-", "").lower()


def _field(obj: dict[str, Any], names: Iterable[str]) -> Any:
    """The first present value among ``names`` (keys compared without case and ``_``)."""
    wanted = list(names)
    keys = {_norm_key(k): k for k in obj if isinstance(k, str)}
    for name in wanted:
        if name in keys:
            value = obj[keys[name]]
            if value not in (None, "", [], {}):
                return value
    return None


def _title_of(obj: dict[str, Any]) -> str | None:
    value = _field(obj, _TITLE_KEYS)
    if isinstance(value, dict):  # {"rendered": "<em>...</em>"} (WordPress REST), {"text": "..."}
        value = next(
            (value[k] for k in ("rendered", "text", "value", "plain") if isinstance(value.get(k), str)), None
        )
        value = html_lines(value)[0] if value and LOOKS_HTML.search(value) and html_lines(value) else value
    if isinstance(value, str):
        title = normalise_line(value)
        return title if 3 <= len(title) <= 400 else None
    return None


def _author_names(value: Any, resolve: Resolver) -> list[str]:
    names: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        item = resolve(item)
        if isinstance(item, str):
            names.append(item)
        elif isinstance(item, dict):
            name = _field(item, ("name", "displayname", "fullname", "title"))
            if not isinstance(name, str):
                first, last = item.get("firstName") or item.get("first_name"), item.get("lastName")
                name = " ".join(p for p in (first, last or item.get("last_name")) if isinstance(p, str))
            if isinstance(name, str) and name.strip():
                names.append(name.strip())
    return names[:8]


def _candidate(obj: dict[str, Any], where: str, resolve: Resolver) -> JsonBody | None:
    title = _title_of(obj)
    if title is None:
        return None
    best: list[str] = []
    for key, value in obj.items():
        if not isinstance(key, str) or _norm_key(key) not in _BODY_KEYS:
            continue
        lines = block_lines(value, resolve)
        if sum(map(len, lines)) > sum(map(len, best)):
            best = lines
    if sum(map(len, best)) < MIN_BODY_CHARS:
        return None
    authors = _field(obj, _AUTHOR_KEYS)
    return JsonBody(
        source="embedded_state",
        where=where,
        title=title,
        lines=best,
        authors=_author_names(authors, resolve) if authors is not None else [],
        published=_field(obj, _PUBLISHED_KEYS),
        modified=_field(obj, _MODIFIED_KEYS),
    )


def state_candidates(value: Any, where: str) -> list[JsonBody]:
    """Every article-like object of a parsed state (bounded walk, shared objects once)."""
    resolve = apollo_resolver(value)
    found: list[JsonBody] = []
    stack: list[tuple[Any, int]] = [(value, 0)]
    seen: set[int] = set()
    visited = 0
    while stack and visited < MAX_NODES:
        node, depth = stack.pop()
        if id(node) in seen or depth > MAX_DEPTH:
            continue
        seen.add(id(node))
        visited += 1
        if isinstance(node, dict):
            candidate = _candidate(node, where, resolve)
            if candidate is not None:
                found.append(candidate)
            stack.extend((child, depth + 1) for child in node.values() if isinstance(child, dict | list))
        elif isinstance(node, list):
            stack.extend((child, depth + 1) for child in node if isinstance(child, dict | list))
    return found


def _agreement(title: str | None, page_titles: list[str]) -> float:
    if not title:
        return 0.0
    folded = title.casefold()
    best = 0.0
    for page_title in page_titles:
        if len(folded) > 10 and folded in page_title.casefold():
            return 1.0
        best = max(best, token_f1(title, page_title))
    return best


def choose(candidates: list[JsonBody], page_titles: list[str], site_names: list[str]) -> JsonBody | None:
    """The longest body that agrees with the page's titles.

    A story that does not agree is taken only when it is the state's only story AND the page
    has no title of its own beyond the site's name (a bare app shell): otherwise a lone
    non-agreeing object is something else on the page (an author's bio, a teaser).
    """
    if not candidates:
        return None
    agreeing = [c for c in candidates if _agreement(c.title, page_titles) >= AGREEMENT]
    if agreeing:
        return max(agreeing, key=lambda c: c.chars)
    distinct = {(c.title or "").casefold() for c in candidates}
    untitled = all(any(token_f1(t, name) >= 0.8 for name in site_names) for t in page_titles)
    if len(distinct) == 1 and untitled:
        return max(candidates, key=lambda c: c.chars)
    return None


def jsonld_body(
    nodes: list[dict[str, Any]], page_titles: list[str], site_names: list[str]
) -> JsonBody | None:
    """``articleBody`` of the page's article-type JSON-LD node (the longest agreeing one)."""
    candidates: list[JsonBody] = []
    for node in nodes:
        if not node_types(node) & ARTICLE_TYPES:
            continue
        body = node.get("articleBody")
        lines = block_lines(body) if isinstance(body, str | list) else []
        if sum(map(len, lines)) < MIN_BODY_CHARS:
            continue
        title = _title_of(node) or (node.get("name") if isinstance(node.get("name"), str) else None)
        candidates.append(JsonBody("jsonld", "articleBody", title, lines))
    if not candidates:
        return None
    if len(candidates) == 1:  # declared as this page's article: no title agreement needed
        return candidates[0]
    return choose(candidates, page_titles, site_names) or max(candidates, key=lambda c: c.chars)


def embedded_body(
    scripts: list[StateScript], page_titles: list[str], site_names: list[str]
) -> JsonBody | None:
    """The article body in the page's framework state, if any script holds one."""
    candidates: list[JsonBody] = []
    for script in scripts:
        value = parse_state(script)
        if value is not None:
            candidates.extend(state_candidates(value, script.name))
    return choose(candidates, page_titles, site_names)


def page_title_texts(tree: HtmlElement, meta: dict[str, str], title: str | None) -> list[str]:
    """The titles a page declares for itself (chosen headline, og/twitter title, ``<title>``)."""
    titles = [title] if title else []
    titles.extend(meta[k] for k in ("og:title", "twitter:title") if meta.get(k))
    title_el = tree.find(".//title")
    if title_el is not None and title_el.text_content():
        titles.append(normalise_line(title_el.text_content()))
    return titles
