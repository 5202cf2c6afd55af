"""Author names: clean person names, or nothing.

Bylines on the web carry "By", dates, job titles, outlet names and social handles; JSON-LD
often names the publisher as the author. A consumer filtering by author needs person names
only, and an invented author (the site's name, "Staff", "Admin") is worse than none.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from lxml.html import HtmlElement

from pipeline.extract.jsonld import ARTICLE_TYPES, node_types
from pipeline.extract.rules import AUTHOR_STOPWORDS, NON_PERSON_WORDS

# Byline labels before the name, in the languages of the pages we read: words ("By", "Von",
# "Автор") end at a word boundary; labels in scripts without spaces ("记者", "بقلم", "글")
# need a separator after them, so a name that starts with the same character is kept.
_LABEL_WORDS = (
    "by|von|par|por|di|door|av|af|autor(?:in|es|a)?|author|authors|auteur|yazar|автор(?:ы)?|текст|συντάκτης"
)
_LABEL_UNSPACED = "بقلم|كتب(?:ت|ه)?|إعداد|记者|記者|作者|撰文|執筆|筆者|文|글|취재"
_SEPARATOR = r"[\s:：／/|・]"
_BY = re.compile(
    r"^\s*(?:(?:written|posted|reported|reviewed|edited|story|text|words|article|published)\s+)?"
    rf"(?:(?:{_LABEL_WORDS})\b{_SEPARATOR}*:?|(?:{_LABEL_UNSPACED}){_SEPARATOR}+)\s*",
    re.I,
)
# A title after the name: "김민수 기자" (reporter), "山田太郎記者", "王小明 报道" (reports).
_SUFFIX = re.compile(r"\s*(?:기자|특파원|記者|记者|报道|報道|特派員|特派员)$")
_SPLIT = re.compile(r"\s*(?:,|;|\||&|\band\b|\bund\b|\bet\b|\by\b|\be\b|\s·\s|\s•\s|\s/\s)\s*", re.I)
_TRAILING = re.compile(
    r"(?:\s+|\s*[-–—|,:]\s*)(?:(?:(?:last\s+)?updated|published|posted|on)\b.*|\d{1,2}[:/.]\d{2}.*|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2}\b.*)$",
    re.I,
)
_HANDLE = re.compile(r"@\w+|https?://\S+|\S+@\S+\.\w+")
_NAME_TOKEN = re.compile(r"^[^\W\d_][\w'’.\-]*$", re.UNICODE)


# "By" glued to the name by markup ("Written by<a>Jane</a>" read as one text node).
_BY_GLUED = re.compile(r"^\s*(?i:(?:written|posted|reported)\s+)?(?:By|by)(?::\s*)?(?=[A-Z])")


def _text(el: HtmlElement) -> str:
    """Element text with a space between child elements ("By<a>Jane</a>" -> "By Jane")."""
    return " ".join(" ".join(el.itertext()).split())


def _in_comments(el: HtmlElement) -> bool:
    for anc in el.iterancestors():
        marker = f"{anc.get('class') or ''} {anc.get('id') or ''}".lower()
        if "comment" in marker or "related" in marker or anc.tag in {"footer", "aside"}:
            return True
    return False


def _clean_one(raw: str, strict: bool = False) -> str | None:
    name = unicodedata.normalize("NFKC", raw)
    name = _BY_GLUED.sub("", name)
    name = _HANDLE.sub(" ", name)
    name = " ".join(name.split())
    name = _BY.sub("", name)
    name = _TRAILING.sub("", name)
    name = _SUFFIX.sub("", name)
    name = name.strip(" -–—|,:;.·•()[]\"'")
    if not name or len(name) > 60:
        return None
    tokens = name.split()
    if not 1 <= len(tokens) <= 5:
        return None
    lowered = {t.lower().strip(".,") for t in tokens}
    if lowered & NON_PERSON_WORDS:
        return None
    if name.lower() in AUTHOR_STOPWORDS:
        return None
    if not all(_NAME_TOKEN.match(t) for t in tokens):
        return None
    if name.isupper() and len(tokens) == 1:
        return None
    # Person names are capitalised in every script that has case; CJK, Arabic, Hebrew, Thai,
    # Devanagari... have none, and a name there is judged by its length only.
    if len(tokens) >= 3 and _is_avatar_initials(tokens):
        tokens = tokens[1:]  # "CM Craig McCarthy": the avatar's initials read before the name
        name = " ".join(tokens)
    cased = [t for t in tokens if _cased(t[0])]
    if cased and not any(t[0].isupper() for t in cased):
        # A declared name (meta, JSON-LD) typed in lower case is still a name; in page text a
        # lower-case phrase after "by" is prose.
        if strict or not 2 <= len(tokens) <= 4:
            return None
        name = name.title()
    if len(tokens) == 1 and len(name) < (2 if _UNSPACED_NAME.match(name) else 3):
        return None
    if strict and not _strict_name(tokens):
        return None
    return name.title() if name.isupper() else name


def _is_avatar_initials(tokens: list[str]) -> bool:
    first = tokens[0]
    return (
        2 <= len(first) <= 3
        and first.isupper()
        and len(tokens) > len(first)
        and first == "".join(t[0] for t in tokens[1 : 1 + len(first)])
    )


def _cased(ch: str) -> bool:
    return ch.lower() != ch.upper()


# A whole name written without spaces: Chinese and Japanese (2-8 ideographs/kana), Korean.
_UNSPACED_NAME = re.compile("^[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af·・]{2,8}$")


def _strict_name(tokens: list[str]) -> bool:
    """A byline found in the page text must look like a full name, not a stray word."""
    if len(tokens) == 1:
        return bool(_UNSPACED_NAME.match(tokens[0]))
    return 2 <= len(tokens) <= 4 and all(
        t[0].isupper() or not _cased(t[0]) for t in tokens if t.lower() not in _PARTICLES
    )


_PARTICLES = {
    "van",
    "von",
    "der",
    "den",
    "de",
    "del",
    "da",
    "di",
    "la",
    "le",
    "bin",
    "al",
    "du",
    "dos",
    "ter",
}


_COMPACT = re.compile(r"[\W_]+")


def outlet_key(name: str) -> str:
    """One key for "USA TODAY", "usatoday.com" and "Usa-Today"."""
    return _COMPACT.sub("", name.casefold())


def outlet_keys(site_names: list[str]) -> set[str]:
    """Keys of the outlet's names (``PageMeta.site_names``: declared names, host labels).

    A one-word "author" equal to one of these is the brand ("Rapid7", "GitHub"). A longer
    one is kept even when the site declares the same name: personal sites are named after
    their author.
    """
    return {key for key in (outlet_key(n) for n in site_names) if key}


def clean_authors(values: list[str], reject: set[str], strict: bool = False) -> list[str]:
    """Split, clean and dedupe author strings; drop outlet names listed in ``reject``."""
    out: list[str] = []
    seen: set[str] = set()
    for value in values:
        stripped = _BY.sub("", _BY_GLUED.sub("", " ".join(value.split())))
        for part in _SPLIT.split(stripped):
            name = _clean_one(part, strict)
            if name is None:
                continue
            key = name.casefold()
            if key in seen or key in reject or (" " not in name and outlet_key(name) in reject):
                continue
            seen.add(key)
            out.append(name)
    return out[:8]


def _jsonld_author_names(value: Any, *, persons_only: bool) -> list[str]:
    names: list[str] = []
    items = value if isinstance(value, list) else [value]
    for item in items:
        if isinstance(item, str):
            if not item.startswith("http"):
                names.append(item)
        elif isinstance(item, dict):
            types = node_types(item)
            if persons_only and types and "person" not in types:
                continue
            name = item.get("name")
            if isinstance(name, str):
                names.append(name)
            elif isinstance(name, list):
                names.extend(n for n in name if isinstance(n, str))
    return names


def jsonld_authors(nodes: list[dict[str, Any]]) -> list[str]:
    for node in sorted(nodes, key=lambda n: 0 if node_types(n) & ARTICLE_TYPES else 1):
        types = node_types(node)
        if types & {"person", "organization", "imageobject", "website", "breadcrumblist", "product"}:
            continue
        author = node.get("author") or node.get("creator")
        if author:
            names = _jsonld_author_names(author, persons_only=True)
            if names:
                return names
    return []


def meta_authors(tree: HtmlElement) -> list[str]:
    out: list[str] = []
    for meta in tree.iterfind(".//meta"):
        key = (meta.get("name") or meta.get("property") or "").lower()
        if key in {
            "author",
            "article:author",
            "dc.creator",
            "sailthru.author",
            "parsely-author",
            "byl",
            "dcterms.creator",
            "cxenseparse:author",
            "twitter:creator:name",
        }:
            content = (meta.get("content") or "").strip()
            if content and not content.startswith("http"):
                out.append(content)
    return out


# Attribute-level tests (one per attribute node, not nine per element): same matches, ~5x
# cheaper on big pages. "yline"/"uthor" cover Byline/byline and Author/author. The rel,
# itemprop and href tests are attribute steps too (``.//*/@rel[.='author']/..`` is
# ``.//*[@rel='author']``): libxml2 then tests the few elements that carry the attribute
# instead of asking every element for it, 1.3 s -> 1.0 s over the 900 WCXB dev pages.
_BYLINE_XPATH = (
    ".//*/@rel[.='author']/.. | .//*/@itemprop[.='author']/.."
    " | .//@class[contains(., 'yline') or contains(., 'uthor') or contains(., 'writer')]/.."
    " | .//@id[contains(., 'byline')]/.. | .//@data-testid[contains(., 'byline')]/.."
    " | .//a/@href[contains(., '/author')]/.."
)


# The byline vocabulary, once: "By", its translations, and the verbs that may precede it.
_BY_PREPOSITIONS = ("by", "von", "par", "por", "door")
_BY_VERBS = ("written", "posted")
_BY_PREP_RE = "|".join(_BY_PREPOSITIONS)
_BY_VERB_RE = "|".join(_BY_VERBS)
_BY_COLON_WORDS = "author|autor|auteur|автор(?:ы)?|текст|yazar"
# Cheap prefilter on an element's own leading text (first four characters).
_BY_WORDS = (
    *_BY_PREPOSITIONS,
    *(verb[:4] for verb in _BY_VERBS),
    "auth", "auto", "aute", "авто", "текс", "yaza", "بقلم", "كتب", "إعدا", "记者", "記者", "作者", "撰文",
    "執筆", "筆者", "文", "글", "취재",
)  # fmt: skip
_BY_LINE = re.compile(
    rf"^\s*(?:(?:(?:{_BY_VERB_RE})\s+)?(?:{_BY_PREP_RE})(?:\b|(?-i:(?=[A-Z]))):?|(?:{_BY_COLON_WORDS}):"
    rf"|(?:{_LABEL_UNSPACED}){_SEPARATOR}+)\s*[^\W\d_]",
    re.I | re.UNICODE,
)
# An element that holds only the label; the name is in the next element ("<span>By</span><a>…").
_BY_LABEL_ONLY = re.compile(
    rf"^\s*(?:(?:{_BY_VERB_RE})\s+)?(?:{_BY_PREP_RE}|{_BY_COLON_WORDS}|authors|{_LABEL_UNSPACED})"
    rf"{_SEPARATOR}*:?\s*$",
    re.I,
)
# "김민수 기자", "山田太郎記者": a name with its title after it, no label before.
_NAME_THEN_TITLE = re.compile(
    "^\\s*[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]{2,8}\\s*(?:기자|특파원|記者|记者|特派員|特派员)(?:\\s|$)"
)
_TITLE_WORDS = ("기자", "특파원", "記者", "记者", "特派")


def _byline_text(el: HtmlElement) -> str | None:
    """The byline this element holds ("By Jane Roe", "Автор: Иван Петров", "김민수 기자"), if any."""
    own = (el.text or "").lstrip()
    lead = own[:4].lower()
    if lead.startswith(_BY_WORDS):
        text = _text(el)
        parent = el.getparent()
        if _BY_LABEL_ONLY.match(text) and parent is not None:
            text = _text(parent)
        return text if len(text) <= 80 and _BY_LINE.match(text) else None
    if any(word in own[:20] for word in _TITLE_WORDS):
        text = _text(el)
        return text if len(text) <= 40 and _NAME_THEN_TITLE.match(text) else None
    return None


def _author_box_name(box: HtmlElement, reject: set[str]) -> list[str]:
    for child in box.iter("h2", "h3", "h4", "h5", "strong", "b", "a", "span", "div", "p"):
        if child is box or len(child) > 2:
            continue
        text = _text(child)
        if 3 <= len(text) <= 60:
            names = clean_authors([text], reject, strict=True)
            if names:
                return names[:1]
    return []


def byline_authors(tree: HtmlElement, reject: set[str], headline: HtmlElement | None) -> list[str]:
    """Names from visible byline elements: marked-up bylines first, then "By Name" lines."""
    for el in tree.xpath(_BYLINE_XPATH)[:30]:
        if el.tag in {"meta", "link", "script", "style", "img", "body", "html"} or _in_comments(el):
            continue
        text = _text(el)
        if not text:
            continue
        if len(text) > 120:
            # An author box with a bio: its name is the first short child that is a name.
            names = _author_box_name(el, reject)
            if names:
                return names
            continue
        names_inside = el.xpath(".//*[@itemprop='name'] | .//a[@rel='author']")
        values = [_text(n) for n in names_inside] or [text]
        names = clean_authors([v for v in values if v], reject, strict=True)
        if names:
            return names
    scope = headline.getparent() if headline is not None else None
    for _ in range(3):
        if scope is None or scope.getparent() is None:
            break
        scope = scope.getparent()
    for el in (scope if scope is not None else tree).iter("p", "span", "div", "li", "address"):
        line = _byline_text(el)
        if line is not None and not _in_comments(el):
            names = clean_authors([line], reject, strict=True)
            if names:
                return names
    return []


def extract_authors(
    tree: HtmlElement, nodes: list[dict[str, Any]], reject: set[str], headline: HtmlElement | None = None
) -> list[str]:
    """JSON-LD persons, then ``<meta name=author>``, then the visible byline."""
    for values in (jsonld_authors(nodes), meta_authors(tree)):
        names = clean_authors(values, reject)
        if names:
            return names
    return byline_authors(tree, reject, headline)
