"""Body values in JSON -> text lines: strings (plain, HTML, Markdown) and block structures.

Headless CMSs and front-end frameworks store an article body in one of a few shapes: an
HTML string, Markdown, a list of paragraph strings, or a tree of typed blocks with inline
spans (Portable Text, Editor.js, Contentful rich text, Slate, Apollo references to
paragraph objects). One recursive reader covers them: text fields become lines, a typed
block's inline spans are joined into one line, and media/embed/ad/teaser blocks are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from lxml import etree
from lxml.html import fragment_fromstring

from pipeline.extract.cleaning import normalise_line

# Block fields holding the text itself, and fields holding child blocks/spans.
_TEXT_FIELDS = ("text", "html", "value", "content", "body", "rendered", "plain", "markup")
_CHILD_FIELDS = ("children", "content", "blocks", "items", "elements", "paragraphs", "body")
_TYPE_FIELDS = ("type", "_type", "__typename", "nodeType", "blockType", "kind")
# Blocks that are never body text (media, embeds, ads, teasers).
_SKIP_BLOCK = re.compile(
    r"image|photo|picture|video|embed|iframe|advert|^ads?$|\bads?\b|promo|related|newsletter|gallery|"
    r"tweet|social|audio|podcast|teaser|recirc|widget",
    re.I,
)
LOOKS_HTML = re.compile(r"<(?:p|br|div|h[1-6]|ul|ol|li|blockquote|strong|em|b|i|a|span|figure)\b[^>]*>", re.I)
_HTML_BLOCKS = (
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "li",
    "blockquote",
    "pre",
    "tr",
    "section",
    "article",
)
_HTML_DROP = (
    "script",
    "style",
    "figure",
    "figcaption",
    "iframe",
    "noscript",
    "svg",
    "button",
    "form",
    "aside",
)


def html_lines(html: str) -> list[str]:
    """Text lines of an HTML fragment: one per block element, media and scripts dropped."""
    try:
        root = fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return text_lines(re.sub(r"<[^>]+>", " ", html))
    for el in list(root.iter(*_HTML_DROP)):
        if el.getparent() is not None:
            el.drop_tree()
    for el in root.iter(*_HTML_BLOCKS, "br"):
        el.tail = "\n" + (el.tail or "")
        if el.tag != "br":
            el.text = "\n" + (el.text or "")
    return text_lines(root.text_content() or "")


def text_lines(text: str) -> list[str]:
    return [line for line in (normalise_line(part) for part in text.split("\n")) if line]


_MARKDOWN = re.compile(r"^#{1,6} |^```|\]\([^)\s]+\)", re.M)
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]*)\]\([^)\s]*(?:\s+\"[^\"]*\")?\)")
_MD_HEADING = re.compile(r"^#{1,6}\s+", re.M)
_MD_FENCE = re.compile(r"^```.*$", re.M)


def markdown_lines(text: str) -> list[str]:
    """Lines of a Markdown body (headless CMSs store bodies so): links and headings as text."""
    text = _MD_FENCE.sub("", _MD_IMAGE.sub("", text))
    return text_lines(_MD_HEADING.sub("", _MD_LINK.sub(r"\1", text)))


def _string_lines(value: str) -> list[str]:
    if LOOKS_HTML.search(value):
        return html_lines(value)
    return markdown_lines(value) if _MARKDOWN.search(value) else text_lines(value)


Resolver = Callable[[Any], Any]


def _no_refs(value: Any) -> Any:
    return value


def apollo_resolver(root: Any) -> Resolver:
    """Follows Apollo cache references (``{"__ref": "Paragraph:7"}``, ``{"id": ..., "type": "id"}``)."""
    if not isinstance(root, dict):
        return _no_refs

    def resolve(value: Any) -> Any:
        if isinstance(value, dict):
            ref = value.get("__ref")
            if ref is None and value.get("type") == "id" and value.get("generated") is not None:
                ref = value.get("id")
            if isinstance(ref, str) and isinstance(root.get(ref), dict):
                return root[ref]
        return value

    return resolve


_INLINE_TYPES = frozenset(
    {"span", "text", "hyperlink", "link", "entry-hyperlink", "a", "em", "strong", "inline"}
)


def _block_type(value: dict[str, Any]) -> str:
    return next((value[k] for k in _TYPE_FIELDS if isinstance(value.get(k), str)), "")


def _inline_text(value: Any, depth: int = 0) -> str | None:
    """The text of an inline span (Portable Text span, Contentful text/hyperlink, Slate leaf),
    or None when ``value`` is a block of its own."""
    if not isinstance(value, dict) or depth > 6:
        return None
    block_type = _block_type(value)
    if block_type and block_type.lower() not in _INLINE_TYPES:
        return None
    children = next((value[k] for k in _CHILD_FIELDS if isinstance(value.get(k), list)), None)
    if children is None:
        text = value.get("text", value.get("value"))
        return text if isinstance(text, str) else None
    parts = [_inline_text(child, depth + 1) for child in children]
    return None if any(p is None for p in parts) else "".join(p or "" for p in parts)


def block_lines(
    value: Any, resolve: Resolver = _no_refs, depth: int = 0, *, in_block: bool = False
) -> list[str]:
    """Text lines of a body value: string, list of strings, or (nested) blocks with text.

    ``in_block``: ``value`` is the child list of a typed block (a paragraph), so a list of
    inline spans is one line, not one line per span.
    """
    if depth > 25:
        return []
    value = resolve(value)
    if isinstance(value, str):
        return _string_lines(value)
    if isinstance(value, list):
        items = [resolve(item) for item in value[:5000]]
        if in_block and items:
            spans = [_inline_text(item) for item in items]
            if all(s is not None for s in spans):
                return text_lines("".join(s or "" for s in spans))
        lines: list[str] = []
        for item in items:
            lines.extend(block_lines(item, resolve, depth + 1))
        return lines
    if not isinstance(value, dict):
        return []
    block_type = _block_type(value)
    if block_type and _SKIP_BLOCK.search(block_type):
        return []
    for key in _TEXT_FIELDS:
        text = value.get(key)
        if isinstance(text, str) and text.strip():
            return _string_lines(text)
    data = value.get("data")
    if isinstance(data, dict):
        found = block_lines(data, resolve, depth + 1)
        if found:
            return found
    for key in _CHILD_FIELDS:
        children = value.get(key)
        if isinstance(children, list | dict):
            return block_lines(children, resolve, depth + 1, in_block=bool(block_type))
    return []
