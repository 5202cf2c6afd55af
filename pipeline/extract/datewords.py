"""Dates written in words or in non-Latin notations, in the languages news is published in.

"7 décembre 2026", "7. Dezember 2026", "7 декабря 2026", "٧ ديسمبر ٢٠٢٦", "2026年12月7日",
"2026년 12월 7일": a dateline in the page's language. The month names come from dateparser's
translation data (every inflected and abbreviated form it knows, for :data:`LANGUAGES`),
read once into one lookup table; dateparser's own parser is not run, because without a
language hint it tries every locale it has (up to seconds on a string that is no date),
and these candidates are only ever "day, month word, year" in some order. A month word
that means different months in different languages ("listopad": November in Czech and
Polish, October in Croatian) is resolved by the page's declared language, else not used.
"""

from __future__ import annotations

import contextlib
import importlib
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

#: Languages whose month names are recognised (ISO 639-1; dateparser's module names).
LANGUAGES = [
    "en",
    "de",
    "fr",
    "es",
    "it",
    "pt",
    "nl",
    "ru",
    "uk",
    "be",
    "pl",
    "cs",
    "sk",
    "sl",
    "hr",
    "sr",
    "bs",
    "bg",
    "mk",
    "ro",
    "hu",
    "tr",
    "el",
    "ar",
    "fa",
    "ur",
    "he",
    "hi",
    "bn",
    "id",
    "ms",
    "vi",
    "tl",
    "sv",
    "nb",
    "nn",
    "da",
    "fi",
    "et",
    "lv",
    "lt",
    "is",
    "ca",
    "gl",
    "eu",
    "sq",
    "az",
    "kk",
    "uz",
    "ka",
    "hy",
    "sw",
    "af",
    "cy",
    "ga",
    "mt",
    "lb",
]
_MONTH_KEYS = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
]

# Decimal digits of other scripts (Arabic-Indic, Persian, Devanagari, Bengali, fullwidth) to ASCII:
# one character for one, so match offsets in the translated text are offsets in the original.
_DIGITS = str.maketrans(
    {chr(base + i): str(i) for base in (0x0660, 0x06F0, 0x0966, 0x09E6, 0xFF10) for i in range(10)}
)


_OTHER_DIGIT = re.compile("[\u0660-\u0669\u06f0-\u06f9\u0966-\u096f\u09e6-\u09ef\uff10-\uff19]")


def ascii_digits(text: str) -> str:
    """``text`` with every decimal digit written as an ASCII digit (same length)."""
    return text.translate(_DIGITS) if _OTHER_DIGIT.search(text) else text


@dataclass(frozen=True)
class _Table:
    merged: dict[str, int]  # word -> month, for words every listed language agrees on
    by_language: dict[str, dict[str, int]]


_lock = threading.Lock()
_table: _Table | None = None


def _load() -> _Table:
    global _table
    with _lock:
        if _table is None:
            by_language: dict[str, dict[str, int]] = {}
            seen: dict[str, set[int]] = {}
            for code in LANGUAGES:
                try:
                    info = importlib.import_module(f"dateparser.data.date_translation_data.{code}").info
                except ImportError:  # pragma: no cover - a dateparser without this language
                    continue
                words: dict[str, int] = {}
                for month, key in enumerate(_MONTH_KEYS, start=1):
                    for word in info.get(key, []):
                        folded = str(word).casefold().rstrip(".")
                        if len(folded) >= 3 and " " not in folded:
                            words[folded] = month
                            seen.setdefault(folded, set()).add(month)
                by_language["no" if code == "nb" else code] = words
            merged = {word: next(iter(months)) for word, months in seen.items() if len(months) == 1}
            _table = _Table(merged, by_language)
        return _table


def month_number(word: str, language: str | None = None) -> int | None:
    """The month a month word names (in ``language`` first, then in any listed language)."""
    folded = word.casefold().rstrip(".")
    table = _load()
    if language is not None:
        found = table.by_language.get(language, {}).get(folded)
        if found is not None:
            return found
    return table.merged.get(folded)


_WORD = r"([^\W\d_]{3,}\.?)"
#: "7 décembre 2026", "7. Dezember 2026", "7 de diciembre de 2026", "7 декабря 2026 г."
#: (Digit first, its "not after a digit" test right after it: ``\d(?<!\d\d)`` is ``(?<!\d)\d``,
#: and a pattern that opens with a character class is scanned from digit to digit.)
DAY_WORD_YEAR = re.compile(
    rf"(\d(?<!\d\d)\d?)(?:\.|er|º|°)?\s+(?:de\s+)?{_WORD},?\s+(?:de\s+)?(\d{{4}})(?!\d)"
)
#: "Dezember 7, 2026", "ديسمبر 7، 2026". The month word is a whole run of letters, so a match
#: starts where a run starts: the lookbehind says so up front, and the scan stops at once inside
#: a word instead of matching its letters to the end and backing off one by one (the same
#: matches, half the cost).
WORD_DAY_YEAR = re.compile(rf"(?<![^\W\d_]){_WORD}\s+(\d{{1,2}})(?:st|nd|rd|th)?[,،]?\s+(\d{{4}})(?!\d)")
#: What every ``WORD_DAY_YEAR`` match holds, opening with a digit (a fast scan): without it the
#: word-led scan is skipped.
_WORD_DAY_YEAR_NEEDS = re.compile(r"\d(?:st|nd|rd|th)?[,،]?\s+\d{4}(?!\d)")
#: "2026年12月7日" (Chinese, Japanese), "2026년 12월 7일" (Korean)
CJK_YMD = re.compile(r"(?<!\d)(\d{4})\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]")


#: Languages whose month names :mod:`pipeline.extract.dateparse` already matches (cheaply).
WESTERN = frozenset({"en", "de", "fr", "es", "it", "pt", "nl"})


def word_dates(text: str, language: str | None = None) -> Iterator[tuple[int, date]]:
    """(offset, date) of every worded or CJK date in ``text`` (digits already ASCII), in order.

    On a page in one of the :data:`WESTERN` languages written in Latin letters only CJK dates
    are looked for here (the month-name scan of a long text is the expensive part, and those
    names are matched anyway).
    """
    found: list[tuple[int, date]] = []
    if "年" in text or "년" in text:
        for match in CJK_YMD.finditer(text):
            _add(found, match.start(), int(match[1]), int(match[2]), int(match[3]))
    if language in WESTERN and (not text or max(text) < "\u0250"):
        # A declared Western language and only Latin letters: nothing here to add. (Text in
        # another script under a template's lang="en" is still read.)
        return iter(sorted(found, key=lambda item: item[0]))
    for match in DAY_WORD_YEAR.finditer(text):
        month = month_number(match[2], language)
        if month is not None:
            _add(found, match.start(), int(match[3]), month, int(match[1]))
    for match in WORD_DAY_YEAR.finditer(text) if _WORD_DAY_YEAR_NEEDS.search(text) else ():
        month = month_number(match[1], language)
        if month is not None:
            _add(found, match.start(), int(match[3]), month, int(match[2]))
    return iter(sorted(found, key=lambda item: item[0]))


def _add(found: list[tuple[int, date]], start: int, year: int, month: int, day: int) -> None:
    with contextlib.suppress(ValueError):  # "31 February": not a date
        found.append((start, date(year, month, day)))


def first_word_date(text: str, language: str | None = None) -> date | None:
    """The first worded or CJK date in ``text`` (any digits), or None."""
    return next((day for _start, day in word_dates(ascii_digits(text), language)), None)
