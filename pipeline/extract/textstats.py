"""Language-independent text statistics: characters and sentences, never whitespace words.

``text.split()`` counts words only in scripts that put spaces between words: a Chinese or
Japanese article is one "word" per paragraph and a Thai one a handful, so every threshold
in words rejects them as "little text". These measures count what every script has:

- :func:`text_units` – characters weighted by how much a character says. A Han or kana
  character carries about as much as three Latin letters, a Hangul syllable about two
  (Korean spaces its words, a word being ~3 syllables); everything else counts one. So
  "150 units" is a paragraph in English, Chinese, Korean or Thai alike.
- :func:`sentence_count` – sentence ends (. ! ? and 。！？ ؟ । ۔ …) followed by a space or
  the end; for scripts without sentence marks (Thai, Lao, Khmer, Myanmar, Tibetan) the
  space-separated runs, which is how those scripts end a sentence or clause.
- :func:`paragraphs` / :func:`long_paragraphs` – blank-line separated blocks and those of
  at least :data:`LONG_PARAGRAPH_UNITS` units.

Cheap (one pass of regular expressions in C) and shared: detection uses them, and so can
cleaning or metadata code that needs "is this a sentence".
"""

from __future__ import annotations

import re

#: Han ideographs (incl. extension A and compatibility), hiragana, katakana: ~3 Latin letters.
_WIDE3 = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
#: Hangul syllables and jamo: ~2 Latin letters.
_WIDE2 = re.compile(r"[\uac00-\ud7af\u1100-\u11ff\u3130-\u318f]")
#: Scripts that end sentences with a space, not a mark.
UNPUNCTUATED_SCRIPT = re.compile(r"[\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff]")
#: A sentence end: a mark, closing quotes/brackets, then a space or the end. CJK full stops and
#: the Arabic, Devanagari and Urdu marks need no following space.
SENTENCE_END = re.compile(
    r"(?:[.!?\u2026][\"'\u201d\u2019\u00bb)\]]*(?:\s|$)"
    r"|[\u3002\uff01\uff1f\uff0e\u061f\u0964\u0965\u06d4][\"'\u201d\u2019\u300d\u300f\uff09)\]]*)"
)
_SPACE_RUN = re.compile(r"\S+")
#: A run of an unpunctuated script this long between spaces is taken as a sentence or clause.
MIN_CLAUSE_CHARS = 12
#: A paragraph of running prose: ~2 sentences of a news story, in :func:`text_units`.
LONG_PARAGRAPH_UNITS = 150


def text_units(text: str) -> float:
    """Non-space characters, Han/kana weighted 3 and Hangul 2 (see the module docstring)."""
    plain = len("".join(text.split()))  # C speed: this runs on every link and card of a page
    if text.isascii():  # a constant-time flag of the string: no wide characters to weigh
        return float(plain)
    wide3 = len(_WIDE3.findall(text))
    wide2 = len(_WIDE2.findall(text))
    return float(plain + 2 * wide3 + wide2)


def unpunctuated_share(text: str) -> float:
    """Share of the letters in a script that marks no sentence end (Thai & co.)."""
    marked = len(UNPUNCTUATED_SCRIPT.findall(text))
    if not marked:  # the common case, decided in C without visiting every character
        return 0.0
    letters = sum(map(str.isalpha, text))
    return marked / letters if letters else 0.0


def sentence_count(text: str) -> int:
    """Sentences in ``text``: sentence-end marks, or clauses in scripts without such marks."""
    marks = len(SENTENCE_END.findall(text))
    if unpunctuated_share(text) < 0.5:
        return marks
    clauses = sum(1 for run in _SPACE_RUN.findall(text) if len(run) >= MIN_CLAUSE_CHARS)
    return max(marks, clauses)


def paragraphs(text: str) -> list[str]:
    """Blank-line separated blocks (the extractor's line format), stripped, non-empty."""
    return [p.strip() for p in text.split("\n\n") if p.strip()]


def long_paragraphs(text: str, min_units: float = LONG_PARAGRAPH_UNITS) -> int:
    """Paragraphs of at least ``min_units`` text units: running prose, not a caption."""
    return sum(1 for p in paragraphs(text) if text_units(p) >= min_units)


def has_sentence(text: str) -> bool:
    """True when ``text`` ends a sentence somewhere, or is mostly in an unpunctuated script."""
    return SENTENCE_END.search(text) is not None or unpunctuated_share(text) >= 1 / 3
