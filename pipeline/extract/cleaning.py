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

from lxml import etree
from lxml.html import HtmlElement

from pipeline.extract import rules
from pipeline.urls import safe_join

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_BLOCKS = frozenset({"p", "div", "h2", "h3", "h4", "h5", "h6", "li", "section"})
_PROTECTED = frozenset({"body", "html", "article", "main"})


def normalise_line(line: str) -> str:
    """Runs of whitespace as one space, none at the ends (``str.split`` and ``\\s`` agree on
    what whitespace is, and splitting is cheaper than a regex substitution)."""
    return " ".join(line.split())


def line_hash(line: str) -> str:
    """Stable key of a line for site-learned boilerplate (case/space-insensitive)."""
    return hashlib.sha256(normalise_line(line).casefold().encode()).hexdigest()


def _is_caps_promo(text: str) -> bool:
    if not text.isupper():
        return False
    words = _WORD.findall(text)
    if not rules.PROMO_MIN_WORDS <= len(words) <= rules.PROMO_MAX_WORDS:
        return False
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and sum(c.isupper() for c in letters) / len(letters) > 0.9


#: An ASCII lower-case letter: a link whose text has one is no all-caps promo.
_ASCII_LOWER = re.compile("[a-z]")
#: XPath's whitespace (``normalize-space``), narrower than Python's.
_XML_SPACE = " \t\r\n"


def _caps_links(root: HtmlElement) -> list[HtmlElement]:
    """Links with an ``href`` and some text, none of it an ASCII lower-case letter.

    The pre-filter of :func:`_promo_blocks`: what the XPath
    ``.//a[@href][normalize-space()][translate(., 'a..z', '') = .]`` selects, found by a walk
    over the links (libxml2 evaluated that predicate on every link at ~1.5x the cost).
    """
    out = []
    for anchor in root.iterdescendants("a"):
        if anchor.get("href") is None:
            continue
        # The link's own leading text opens its text_content(): a lower-case letter there
        # settles it without collecting the whole text (most links; ~0.5 % of the CPU).
        lead = anchor.text
        if lead is not None and _ASCII_LOWER.search(lead) is not None:
            continue
        text = anchor.text_content()
        if text.strip(_XML_SPACE) and _ASCII_LOWER.search(text) is None:
            out.append(anchor)
    return out


def _promo_blocks(root: HtmlElement) -> list[HtmlElement]:
    """Block elements whose whole text is one all-caps link (in-body promo headlines)."""
    out = []
    for anchor in _caps_links(root):
        text = normalise_line(anchor.text_content() or "")
        if not text or not _is_caps_promo(text):
            continue
        block = None
        for ancestor in anchor.iterancestors():
            if normalise_line(ancestor.text_content() or "") != text:
                break
            if ancestor.tag in _BLOCKS:
                block = ancestor
        if block is not None:
            out.append(block)
    return out


RELATED_MARKERS = (
    "related",
    "read-next",
    "readnext",
    "recommend",
    "more-stories",
    "further-reading",
    "also-read",
    "see-also",
)
MAX_LINKS = 50

_RELATED_RE = re.compile("|".join(re.escape(m) for m in RELATED_MARKERS))


@dataclass
class Preclean:
    """What the DOM pass removed (texts, for audits) and the related-article links it saw."""

    removed: list[str] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    page_chars: int = 0  # body text left after the pass: how much text the page offers


def _links_of(block: HtmlElement, url: str, page: str, out: dict[str, str]) -> None:
    for anchor in block.iter("a"):
        href = (anchor.get("href") or "").strip()
        if not href or href.startswith(("#", "javascript:", "mailto:")):
            continue
        target = safe_join(url, href)
        if target is not None and target.startswith(("http://", "https://")) and target.split("#")[0] != page:
            out.setdefault(target, "related")


def preclean_tree(tree: HtmlElement, drop_xpaths: Iterable[str] = (), url: str = "") -> Preclean:
    """Remove never-article elements in place, in one pass that also collects related links."""
    result = Preclean()
    doomed: list[HtmlElement] = []
    related: dict[str, str] = {}
    page = url.split("#")[0]
    body = tree.find(".//body")
    root = body if body is not None else tree
    # Inert subtrees (scripts except JSON-LD, styles, inline SVG drawings) are removed first, in
    # C: trafilatura ignores them anyway, but copies and XPath-scans them several times.
    scripts = [s for s in tree.iter("script") if (s.get("type") or "").lower() != "application/ld+json"]
    for script in scripts:
        script.drop_tree()
    etree.strip_elements(tree, *rules.INERT_TAGS, with_tail=False)
    for el in root.iter(*rules.DROP_TAGS):
        doomed.append(el)
    # class/id values come back as strings from C; an element proxy is only made for the
    # few that match (visiting every element from Python was the costliest step here).
    for value in root.xpath(".//@class | .//@id"):
        lowered = value.lower()
        related_block = _RELATED_RE.search(lowered) is not None
        drop = not rules.DROP_CLASS_TOKENS.isdisjoint(lowered.split())
        if not related_block and not drop:
            continue
        el = value.getparent()
        if related_block and len(related) < MAX_LINKS:
            _links_of(el, url, page, related)
        if drop and el.tag not in _PROTECTED:
            doomed.append(el)
    doomed.extend(_promo_blocks(root))
    doomed.extend(el for el in _dialogs(root) if el.tag not in _PROTECTED)
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
            result.removed.append(text)
        el.drop_tree()
    result.links = list(related.items())[:MAX_LINKS]
    result.page_chars = strip_layout(root)
    return result


_DIALOG_ATTRIBUTES = etree.XPath(".//@role | .//@aria-modal")


def _dialogs(root: HtmlElement) -> list[HtmlElement]:
    """What ``rules.DIALOG_XPATH`` selects, in document order, from the (rare) attributes.

    Asking for the ``role``/``aria-modal`` values and testing them in Python costs half of
    the XPath's predicate on every element.
    """
    out: list[HtmlElement] = []
    for value in _DIALOG_ATTRIBUTES(root):
        name = value.attrname
        if (name == "role" and value in ("dialog", "alertdialog")) or (
            name == "aria-modal" and value == "true"
        ):
            el = value.getparent()
            if el is not root and (not out or out[-1] is not el):  # both attributes: one element
                out.append(el)
    return out


def strip_layout(root: HtmlElement) -> int:
    """Remove page furniture trafilatura drops anyway (after related links were collected).

    Returns the number of text characters left in ``root``.
    """
    etree.strip_elements(root, *rules.LAYOUT_TAGS, with_tail=False)
    limit = rules.GUARDED_MAX_SHARE * len(root.text_content() or "")
    for el in list(root.iter(*rules.GUARDED_LAYOUT_TAGS)):
        if el.getparent() is not None and len(el.text_content() or "") <= limit:
            el.drop_tree()
    return _text_chars(root)


def _text_chars(el: HtmlElement) -> int:
    """Characters of text with runs of whitespace counted as one (markup indentation ignored)."""
    return len(" ".join((el.text_content() or "").split()))


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
        return self._drop_repeated_runs(kept)

    def _drop_repeated_runs(self, lines: list[str]) -> list[str]:
        """Drop a block of lines that repeats an earlier block verbatim.

        Responsive layouts and print/AMP copies render the same article body two or three
        times in one page, and trafilatura keeps every copy. Single repeated lines are left
        alone (a heading or list item may legitimately recur); only a run of at least
        ``rules.REPEAT_MIN_LINES`` lines and ``rules.REPEAT_MIN_CHARS`` characters counts.
        """
        keys = [line.casefold() for line in lines]
        first: dict[str, int] = {}
        for index, key in enumerate(keys):
            first.setdefault(key, index)
        drop: set[int] = set()
        index = 0
        while index < len(lines):
            earlier = first[keys[index]]
            # Length of the run matching the block at ``earlier`` (which must end before ``index``).
            run = 0
            limit = min(len(lines) - index, index - earlier)
            while run < limit and keys[index + run] == keys[earlier + run]:
                run += 1
            block = range(index, index + run)
            if run >= rules.REPEAT_MIN_LINES and sum(len(keys[i]) for i in block) >= rules.REPEAT_MIN_CHARS:
                drop.update(block)
                index += run
            else:
                index += 1
        if not drop:
            return lines
        self.removed.extend(lines[i] for i in sorted(drop))
        return [line for i, line in enumerate(lines) if i not in drop]


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
