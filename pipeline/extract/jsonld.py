"""Schema.org JSON-LD blocks, read leniently.

Publishers' JSON-LD is the best metadata source on the web *when it parses*; real pages
contain trailing commas, raw newlines inside strings, HTML comments and several blocks
with ``@graph`` arrays. We flatten everything into a list of typed nodes once per page.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lxml.html import HtmlElement

#: schema.org's news types: a page that declares one is a dated news story by its publisher's
#: own account.
NEWS_TYPES = frozenset(
    {
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "reviewnewsarticle",
        "askpublicnewsarticle",
        "liveblogposting",
    }
)
ARTICLE_TYPES = NEWS_TYPES | frozenset(
    {
        "article",
        "blogposting",
        "report",
        "satiricalarticle",
        "techarticle",
        "scholarlyarticle",
        "socialmediaposting",
        "medicalscholarlyarticle",
        "posting",
        "discussionforumposting",
        "advertisercontentarticle",
        "howto",
        "recipe",
        "review",
    }
)
LISTING_TYPES = frozenset(
    {"collectionpage", "itemlist", "searchresultspage", "profilepage", "offercatalog", "productcollection"}
)
PERSON_TYPES = frozenset({"person"})
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_CONTROL = re.compile(r"[\x00-\x1f]")


def _loads(raw: str) -> Any:
    raw = raw.strip()
    if raw.startswith("<!--"):
        raw = raw[4:]
    if raw.endswith("-->"):
        raw = raw[:-3]
    raw = raw.strip().removeprefix("//<![CDATA[").removesuffix("//]]>").strip()
    if not raw:
        return None
    for candidate in (raw, _TRAILING_COMMA.sub(r"\1", raw)):
        try:
            return json.loads(candidate, strict=False)
        except ValueError:
            continue
    try:
        return json.loads(_CONTROL.sub(" ", _TRAILING_COMMA.sub(r"\1", raw)), strict=False)
    except ValueError:
        return None


def _walk(value: Any, out: list[dict[str, Any]], depth: int = 0) -> None:
    if depth > 6:
        return
    if isinstance(value, list):
        for item in value:
            _walk(item, out, depth + 1)
    elif isinstance(value, dict):
        out.append(value)
        graph = value.get("@graph")
        if graph is not None:
            _walk(graph, out, depth + 1)
        main = value.get("mainEntity")
        if isinstance(main, dict | list):
            _walk(main, out, depth + 1)


def node_types(node: dict[str, Any]) -> set[str]:
    """Lower-cased ``@type`` values of a node (a string or a list in the wild)."""
    value = node.get("@type")
    if isinstance(value, str):
        return {value.rsplit("/", 1)[-1].lower()}
    if isinstance(value, list):
        return {str(v).rsplit("/", 1)[-1].lower() for v in value}
    return set()


def parse_jsonld(tree: HtmlElement) -> list[dict[str, Any]]:
    """Every JSON object found in the page's JSON-LD scripts, ``@graph`` flattened."""
    nodes: list[dict[str, Any]] = []
    for script in tree.iterfind(".//script[@type]"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        data = _loads(script.text or "")
        if data is not None:
            _walk(data, nodes)
    return nodes


def text_value(value: Any) -> str | None:
    """A plain string from a JSON-LD value that may be a string, a list or a ``{"name"}``."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, list):
        for item in value:
            found = text_value(item)
            if found:
                return found
        return None
    if isinstance(value, dict):
        return text_value(value.get("name") or value.get("@value"))
    return None
