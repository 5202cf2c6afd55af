"""Cleaning beyond trafilatura: before extraction on the DOM, after extraction on lines.

Before: elements that are never article text (captions, credits, embed placeholders,
in-body promo links, per-source ``drop_selectors``) are removed from the tree, so that
trafilatura's own scoring does not have to decide about them.
After: whole lines that match the boilerplate rule table, caption-credit lines,
site-learned boilerplate and per-source ``drop_patterns`` are removed. Only whole lines
(paragraphs) are ever removed, never parts of a paragraph, so a real sentence cannot be
cut in half by a rule.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from lxml.html import HtmlElement

from pipeline.extract import rules

_WS = re.compile(r"\s+")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_SPLIT_TOKENS = re.compile(r"[\s]+")
_BLOCKS = frozenset({"p", "div", "h2", "h3", "h4", "h5", "h6", "li", "section"})


def normalise_line(line: str) -> str:
    return _WS.sub(" ", line).strip()


def line_hash(line: str) -> str:
    """Stable key of a line for site-learned boilerplate (case/space-insensitive)."""
    return hashlib.sha256(normalise_line(line).casefold().encode()).hexdigest()


def _class_tokens(el: HtmlElement) -> set[str]:
    raw = f"{el.get('class') or ''} {el.get('id') or ''}".lower()
    return {t for t in _SPLIT_TOKENS.split(raw) if t}


def _is_caps_promo(text: str) -> bool:
    words = _WORD.findall(text)
    if not rules.PROMO_MIN_WORDS <= len(words) <= rules.PROMO_MAX_WORDS:
        return False
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) / len(letters) > 0.9


def _only_link_text(el: HtmlElement) -> str | None:
    """The text of ``el`` if all of it sits inside one link, else None."""
    links = el.xpath(".//a[@href]")
    if len(links) != 1:
        return None
    text = normalise_line(el.text_content() or "")
    link_text = normalise_line(links[0].text_content() or "")
    return text if text and text == link_text else None


def preclean_tree(tree: HtmlElement, drop_xpaths: Iterable[str] = ()) -> list[str]:
    """Remove never-article elements in place; return the texts removed (for audits)."""
    removed: list[str] = []
    doomed: list[HtmlElement] = []
    body = tree.find(".//body")
    root = body if body is not None else tree
    for el in root.iter(*rules.DROP_TAGS):
        doomed.append(el)
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        tokens = _class_tokens(el)
        if tokens and tokens & rules.DROP_CLASS_TOKENS and el.tag not in {"body", "html", "article", "main"}:
            doomed.append(el)
            continue
        if el.tag in _BLOCKS:
            text = _only_link_text(el)
            if text is not None and _is_caps_promo(text):
                doomed.append(el)
    for xpath in drop_xpaths:
        try:
            doomed.extend(e for e in tree.xpath(xpath) if isinstance(e, HtmlElement))
        except Exception:  # an invalid per-source selector must not cost the page
            continue
    seen: set[int] = set()
    for el in doomed:
        if id(el) in seen or el.getparent() is None:
            continue
        seen.add(id(el))
        text = normalise_line(el.text_content() or "")
        if text:
            removed.append(text)
        el.drop_tree()
    return removed


@dataclass
class LineCleaner:
    """Decides line by line; keeps what it removed for ``ExtractedArticle.removed_lines``."""

    drop_patterns: list[re.Pattern[str]] = field(default_factory=list)
    learned: Collection[str] = frozenset()
    removed: list[str] = field(default_factory=list)

    def is_boilerplate(self, line: str) -> bool:
        if rules.BOILERPLATE_LINE_RE.match(line):
            return True
        if rules.CAPTION_CREDIT_RE.search(line) and len(line) < 400:
            return True
        if self.learned and line_hash(line) in self.learned:
            return True
        return any(p.search(line) for p in self.drop_patterns)

    def clean(self, lines: Iterable[str]) -> list[str]:
        kept: list[str] = []
        for raw in lines:
            line = normalise_line(raw)
            if not line:
                continue
            if self.is_boilerplate(line):
                self.removed.append(line)
                continue
            kept.append(line)
        return kept


def compile_patterns(patterns: Iterable[str]) -> list[re.Pattern[str]]:
    out = []
    for pattern in patterns:
        try:
            out.append(re.compile(pattern, re.I))
        except re.error:
            continue
    return out


def css_to_xpath(selectors: Iterable[str]) -> list[str]:
    """Per-source CSS selectors as XPath (cssselect); invalid ones are skipped."""
    from cssselect import GenericTranslator, SelectorError

    translator = GenericTranslator()
    out = []
    for selector in selectors:
        try:
            out.append(translator.css_to_xpath(selector, prefix="descendant-or-self::"))
        except SelectorError:
            continue
    return out
