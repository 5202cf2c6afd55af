"""Experiment: features of each candidate body line, for the line classifier (``lineclass.py``).

Rules that name boilerplate phrases carry poorly from one site (or language) to the next;
the shape of a line and of the markup it came from carries better. So each line trafilatura
kept is described by language-independent measures: length, sentence ends (Latin and CJK
marks alike), capitals and digits, where it sits in the body, whether it is a link or
mostly links, which output element trafilatura made of it (heading, list item, cell, quote),
the class/id words of its DOM ancestors, how often its text recurs in the page, how close
it is to the headline, and whether one of the old line rules (``rules.py``) would have
dropped it. The classifier, trained with cross-validation on the dev pages, decides what
these are worth; nothing here decides on its own.

The same function computes features at training time (``benchmarks/train_lines.py``) and at
run time, so the two can never drift apart.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

from lxml.html import HtmlElement

from pipeline.extract import rules

_WS = re.compile(r"\s+")
_TOKEN = re.compile(r"\w+")
#: Sentence ends in Latin, CJK, Devanagari, Arabic and Ethiopic scripts.
_SENT_END = re.compile(
    r"[.!?\u3002\uff01\uff1f\u0964\u061f\u06d4\u1362][\"'\u201d\u2019\u300d\u300f)\]]*(?:\s|$)"
)
_ENDS_SENTENCE = re.compile(
    r"[.!?:;\u3002\uff01\uff1f\u0964\u061f\u06d4\u1362\u2026][\"'\u201d\u2019\u300d\u300f)\]]*$"
)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af\u0e00-\u0e7f]")
#: Teaser, credit and consent phrases in many languages (searched, not anchored: a hint only).
_HINT = re.compile(
    r"you might also|you may also|also like|read more|read next|more from|related|recommended|"
    r"les også|les mer|lees ook|läs också|läs mer|læs også|lue myös|zum weiterlesen|lesen sie auch|"
    r"mehr zum thema|weitere artikel|lire aussi|à lire|a lire|leer más|lea también|te puede interesar|"
    r"leia também|leggi anche|czytaj (też|także|więcej)|читайте также|читать далее|еще по теме|"
    r"関連|相关|相關|관련|推荐|もっと見る|newsletter|subscribe|abonn|suscr|sign up|log ?in|cookie|consent|"
    r"javascript|advert|anzeige|werbung|sponsored|share|follow us|copyright|©|all rights|photo|foto|"
    r"image|credit|getty|shutterstock|reuters|\bap\b|afp|dpa|video|podcast|comment",
    re.I,
)
_NEG_ATTR = re.compile(
    r"nav|menu|foot|header|sidebar|widget|related|recommend|share|social|comment|promo|teaser|"
    r"advert|\bads?\b|banner|newsletter|subscribe|cookie|consent|caption|credit|breadcrumb|\btags?\b|"
    r"byline|author|meta|date|more|card|list|popular|trending|outbrain|taboola|modal|popup"
)
_POS_ATTR = re.compile(r"article|content|body|story|post|entry|text|main|paragraph|prose|rich")
_BLOCK_TAGS = frozenset(
    {"p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "dd", "dt", "blockquote", "pre"}
)
KEY_CHARS = 24
MAX_ANCESTORS = 8
MAX_ANCHORS = 400
RULE_MAX_CHARS = 600

BASE_FEATURES: tuple[str, ...] = (
    "log_chars",
    "log_tokens",
    "ends_sentence",
    "sentences_per_100",
    "upper_share",
    "digit_share",
    "punct_share",
    "cjk_share",
    "position",
    "log_index",
    "log_from_end",
    "char_position",
    "log_lines",
    "log_body_chars",
    "rel_length",
    "prev_log_chars",
    "next_log_chars",
    "rule_hit",
    "credit_hit",
    "prev_rule_hit",
    "next_rule_hit",
    "hint",
    "title_equal",
    "title_overlap",
    "is_anchor",
    "link_share",
    "out_head",
    "out_item",
    "out_cell",
    "out_quote",
    "out_p",
    "dom_found",
    "dom_in_link",
    "dom_block_p",
    "dom_block_li",
    "dom_block_h",
    "dom_block_other",
    "neg_attr",
    "pos_attr",
    "in_article",
    "depth",
    "repeat_lines",
    "repeat_page",
    "short_run",
    "starts_dash",
    "has_pipe",
)
#: Features averaged over the neighbouring lines: navigation, teaser lists and credits come in
#: runs, body paragraphs in runs of sentences; a line is judged with its neighbourhood.
CONTEXT_OF: tuple[str, ...] = (
    "ends_sentence",
    "log_chars",
    "link_share",
    "neg_attr",
    "rule_hit",
    "hint",
    "is_anchor",
)
CONTEXT_WINDOW = 3
FEATURES = (
    BASE_FEATURES + tuple(f"near_{name}" for name in CONTEXT_OF) + ("prev_link_share", "next_link_share")
)


def norm(text: str) -> str:
    return _WS.sub(" ", text).strip()


@dataclass
class PageIndex:
    """What the features need from the pre-cleaned page, gathered in one walk."""

    by_key: dict[str, HtmlElement]
    key_counts: Counter[str]
    anchors: list[str]
    anchor_set: frozenset[str]


def index_page(tree: HtmlElement) -> PageIndex:
    """Text nodes keyed by their first characters (to find a line's element) and link texts."""
    by_key: dict[str, HtmlElement] = {}
    counts: Counter[str] = Counter()
    body = tree.find(".//body")
    root = body if body is not None else tree
    for node in root.xpath(".//text()"):
        text = norm(str(node))
        if len(text) < 2:
            continue
        key = text[:KEY_CHARS].casefold()
        counts[key] += 1
        if key not in by_key:
            parent = node.getparent()
            if parent is not None and node.is_tail:
                parent = parent.getparent()
            if isinstance(parent, HtmlElement):
                by_key[key] = parent
    anchors: list[str] = []
    for anchor in root.iter("a"):
        text = norm(anchor.text_content() or "")
        if 2 <= len(text) <= 300:
            anchors.append(text)
            if len(anchors) >= MAX_ANCHORS:
                break
    return PageIndex(by_key, counts, anchors, frozenset(anchors))


def output_tags(body: object) -> dict[str, str]:
    """Normalised text -> trafilatura's output element (p, head, item, cell, quote)."""
    out: dict[str, str] = {}
    iterator = getattr(body, "iter", None)
    if iterator is None:
        return out
    for el in iterator("p", "head", "item", "cell", "quote"):
        text = norm("".join(el.itertext()))
        if text:
            out.setdefault(text, str(el.tag))
    return out


def _dom_features(el: HtmlElement | None) -> list[float]:
    if el is None:
        return [0.0] * 10
    in_link = 0.0
    block = "other"
    attrs: list[str] = []
    in_article = 0.0
    depth = 0
    node: HtmlElement | None = el
    steps = 0
    while node is not None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if steps < 3 and tag == "a":
            in_link = 1.0
        if block == "other" and tag in _BLOCK_TAGS:
            block = "h" if tag[0] == "h" and tag != "hr" else tag if tag in ("p", "li") else "other"
        if tag in ("article", "main"):
            in_article = 1.0
        if steps < MAX_ANCESTORS:
            attrs.append(f"{node.get('class') or ''} {node.get('id') or ''}")
        node = node.getparent()
        steps += 1
        depth += 1
    joined = " ".join(attrs).lower()
    return [
        1.0,
        in_link,
        float(block == "p"),
        float(block == "li"),
        float(block == "h"),
        float(block == "other"),
        float(len(_NEG_ATTR.findall(joined))),
        float(len(_POS_ATTR.findall(joined))),
        in_article,
        float(depth),
    ]


def _tokens(text: str) -> set[str]:
    return {t.casefold() for t in _TOKEN.findall(text)}


def _link_share(line: str, index: PageIndex) -> float:
    if line in index.anchor_set:
        return 1.0
    chars = sum(len(a) for a in index.anchors if len(a) < len(line) and a in line)
    return min(1.0, chars / max(1, len(line)))


def line_features(
    lines: list[str], index: PageIndex, tags: dict[str, str], title: str | None
) -> list[list[float]]:
    """One feature row (in :data:`FEATURES` order) per line of ``lines`` (normalised lines)."""
    n = len(lines)
    if n == 0:
        return []
    lengths = [len(line) for line in lines]
    total = sum(lengths)
    median = sorted(lengths)[n // 2]
    # The rule table's patterns are bounded: no line longer than RULE_MAX_CHARS can match.
    hits = [len(line) <= RULE_MAX_CHARS and bool(rules.BOILERPLATE_LINE_RE.match(line)) for line in lines]
    line_counts = Counter(line.casefold() for line in lines)
    title_norm = norm(title or "").casefold()
    title_tokens = _tokens(title_norm)
    short = [length < 60 for length in lengths]
    runs = [0] * n
    start = 0
    for i in range(n + 1):
        if i == n or not short[i]:
            for j in range(start, i):
                runs[j] = i - start
            start = i + 1
    rows: list[list[float]] = []
    offset = 0
    for i, line in enumerate(lines):
        chars = lengths[i]
        tokens = _TOKEN.findall(line)
        n_letters = max(1, sum(map(str.isalpha, line)))
        n_alnum = sum(map(str.isalnum, line))
        key = line[:KEY_CHARS].casefold()
        bare = line[2:] if line.startswith("- ") else line
        tag = tags.get(bare) or tags.get(line) or ""
        line_tokens = _tokens(line)
        overlap = (
            len(line_tokens & title_tokens) / max(1, len(line_tokens | title_tokens)) if title_tokens else 0.0
        )
        rows.append(
            [
                math.log1p(chars),
                math.log1p(len(tokens)),
                float(_ENDS_SENTENCE.search(line[-8:]) is not None),
                100.0 * len(_SENT_END.findall(line)) / max(1, chars),
                sum(map(str.isupper, line)) / n_letters,
                sum(map(str.isdigit, line)) / max(1, chars),
                (chars - n_alnum - sum(map(str.isspace, line))) / max(1, chars),
                len(_CJK.findall(line)) / n_letters,
                i / max(1, n - 1),
                math.log1p(i),
                math.log1p(n - 1 - i),
                offset / max(1, total),
                math.log1p(n),
                math.log1p(total),
                chars / max(1, median),
                math.log1p(lengths[i - 1]) if i > 0 else 0.0,
                math.log1p(lengths[i + 1]) if i + 1 < n else 0.0,
                float(hits[i]),
                float(chars < 400 and "(" in line and rules.CAPTION_CREDIT_RE.search(line) is not None),
                float(hits[i - 1]) if i > 0 else 0.0,
                float(hits[i + 1]) if i + 1 < n else 0.0,
                float(_HINT.search(line) is not None),
                float(bool(title_norm) and line.casefold() == title_norm),
                overlap,
                float(line in index.anchor_set),
                _link_share(line, index),
                float(tag == "head"),
                float(tag == "item" or line.startswith("- ")),
                float(tag == "cell" or line.startswith("|")),
                float(tag == "quote"),
                float(tag == "p"),
                *_dom_features(index.by_key.get(key)),
                float(line_counts[line.casefold()]),
                math.log1p(index.key_counts.get(key, 0)),
                float(runs[i]),
                float(line.startswith("- ")),
                float("|" in line),
            ]
        )
        offset += chars
    return add_context(rows)


def add_context(rows: list[list[float]]) -> list[list[float]]:
    """Append the neighbourhood features (:data:`CONTEXT_OF` means over the window, link shares)."""
    columns = [BASE_FEATURES.index(name) for name in CONTEXT_OF]
    link = BASE_FEATURES.index("link_share")
    n = len(rows)
    out = []
    for i, row in enumerate(rows):
        near = [j for j in range(max(0, i - CONTEXT_WINDOW), min(n, i + CONTEXT_WINDOW + 1)) if j != i]
        means = [sum(rows[j][c] for j in near) / len(near) if near else 0.0 for c in columns]
        prev_link = rows[i - 1][link] if i > 0 else 0.0
        next_link = rows[i + 1][link] if i + 1 < n else 0.0
        out.append([*row, *means, prev_link, next_link])
    return out
