"""Words in an article's text, in every script (``articles.word_count``).

``len(text.split())`` counts a whole Chinese or Japanese paragraph as one or two "words" and a
Thai article as a handful, so length filters and reading-time estimates were meaningless for
them. Word processors count each East Asian character as a word, and so do we: every Han
ideograph and every kana is one word (about what a reader of those scripts reads per
English word's time). Thai, Lao, Khmer and Myanmar write words without spaces and without
one-character words; a run of them counts one word per :data:`SEA_CHARS_PER_WORD`
characters (an estimate; exact counts need a dictionary segmenter). Korean separates words
with spaces and is counted like the rest. Elsewhere a word is a whitespace-separated token
with at least one letter or digit, so a stray dash or bullet is not a word.
"""

from __future__ import annotations

import math
import re

#: Average characters per word assumed for the unspaced Southeast Asian scripts.
SEA_CHARS_PER_WORD = 4

_CJK = re.compile(
    "[\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f\U00020000-\U0002fa1f]"
)
_SEA_RUN = re.compile("[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]+")


def count_words(text: str) -> int:
    """The number of words in ``text`` (see the module docstring for unspaced scripts)."""
    cjk = len(_CJK.findall(text))
    sea = sum(math.ceil(len(run) / SEA_CHARS_PER_WORD) for run in _SEA_RUN.findall(text))
    rest = _SEA_RUN.sub(" ", _CJK.sub(" ", text)) if cjk or sea else text
    spaced = sum(1 for token in rest.split() if any(ch.isalnum() for ch in token))
    return cjk + sea + spaced
