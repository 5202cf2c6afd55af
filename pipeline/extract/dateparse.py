"""Date strings as pages write them -> timezone-aware datetimes (no page context here).

ISO 8601 and its relatives (``2026-12-07T08:30+01:00``, ``20261207``, ``2026/12/07``, Unix
epochs) come from structured sources; written dates ("May 22, 2023", "22.05.2023", "7 décembre
2026", "2026年12月7日", "٧ ديسمبر ٢٠٢٦") from ``<time>`` text and datelines. Month names of the
common Western languages are matched here directly (cheap); every other language's through
:mod:`pipeline.extract.datewords`.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from pipeline.extract.datewords import ascii_digits, first_word_date

MONTHS = {
    # English, German, French, Spanish, Italian, Portuguese, Dutch: cheap and common.
    "jan": 1, "january": 1, "januar": 1, "janvier": 1, "enero": 1, "gennaio": 1, "janeiro": 1, "januari": 1,
    "feb": 2, "february": 2, "februar": 2, "février": 2, "fevrier": 2, "febrero": 2, "febbraio": 2,
    "fevereiro": 2, "februari": 2,
    "mar": 3, "march": 3, "märz": 3, "maerz": 3, "mars": 3, "marzo": 3, "março": 3, "marco": 3, "maart": 3,
    "apr": 4, "april": 4, "avril": 4, "abril": 4, "aprile": 4,
    "may": 5, "mai": 5, "mayo": 5, "maggio": 5, "maio": 5, "mei": 5,
    "jun": 6, "june": 6, "juni": 6, "juin": 6, "junio": 6, "giugno": 6, "junho": 6,
    "jul": 7, "july": 7, "juli": 7, "juillet": 7, "julio": 7, "luglio": 7, "julho": 7,
    "aug": 8, "august": 8, "août": 8, "aout": 8, "agosto": 8, "augustus": 8,
    "sep": 9, "sept": 9, "september": 9, "septembre": 9, "septiembre": 9, "settembre": 9, "setembro": 9,
    "oct": 10, "october": 10, "oktober": 10, "octobre": 10, "octubre": 10, "ottobre": 10, "outubro": 10,
    "nov": 11, "november": 11, "novembre": 11, "noviembre": 11, "novembro": 11,
    "dec": 12, "december": 12, "dezember": 12, "décembre": 12, "decembre": 12, "diciembre": 12,
    "dicembre": 12, "dezembro": 12,
}  # fmt: skip
_MONTH_NAMES = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
# The patterns are scanned over up to 20 kB of visible text per page (the dateline search), so
# each starts with a digit and puts its "not after a digit" / word-boundary test right after
# that digit (``\d(?<!\d\d)`` is ``(?<!\d)\d``, ``\d(?<!\w\d)`` is ``\b\d``): a pattern that
# opens with a character class lets the regex engine skip ahead to the next digit, where a
# leading lookbehind or ``\b`` is tried at every position (the same matches, ~3x faster scans;
# ``tests/test_extract_scans.py`` holds each to its plain form).
ISO_DATE = re.compile(
    r"(\d(?<!\d\d)\d{3})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,]\d+)?)?\s*"
    r"(Z|[+-]\d{2}:?\d{2}|UTC|GMT)?)?(?!\d)",
    re.I,
)
SLASHED_YMD = re.compile(r"(\d(?<!\d\d)\d{3})[/.](\d{1,2})[/.](\d{1,2})(?!\d)")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})(?:T?(\d{2})(\d{2})(\d{2})?)?(Z)?$")
MDY_NAME = re.compile(rf"\b({_MONTH_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
DMY_NAME = re.compile(
    rf"(\d(?<!\w\d)\d?)(?:st|nd|rd|th|er|º)?\.?\s+(?:de\s+)?({_MONTH_NAMES})\.?,?\s+(?:de\s+)?(\d{{4}})\b",
    re.I,
)
NUMERIC_DMY = re.compile(r"(\d(?<!\d\d)\d?)([./-])(\d{1,2})\2(\d{4})(?!\d)")
_EPOCH = re.compile(r"^\d{10}(\d{3})?$")


def _tz(spec: str | None) -> timezone:
    if not spec or spec.upper() in {"Z", "UTC", "GMT"}:
        return UTC
    sign = -1 if spec[0] == "-" else 1
    digits = spec[1:].replace(":", "")
    try:
        return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:4] or 0)))
    except ValueError:
        return UTC


def build_date(
    y: int, m: int, d: int, hh: int = 0, mm: int = 0, ss: int = 0, tz: timezone = UTC
) -> datetime | None:
    try:
        return datetime(y, m, d, hh, mm, ss, tzinfo=tz)
    except ValueError:
        return None


def parse_date(value: Any) -> datetime | None:
    """A timezone-aware datetime from the formats pages actually use, else None."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(int(value))
    if not isinstance(value, str):
        return None
    text = ascii_digits(value.strip())
    if not text or len(text) > 200:
        return None
    if _EPOCH.match(text):
        seconds = int(text[:10])
        return datetime.fromtimestamp(seconds, tz=UTC)
    match = ISO_DATE.search(text)
    if match:
        y, m, d, hh, mi, ss, tz = match.groups()
        return build_date(int(y), int(m), int(d), int(hh or 0), int(mi or 0), int(ss or 0), _tz(tz))
    match = _COMPACT.match(text)
    if match:
        y, m, d, hh, mi, ss, _z = match.groups()
        return build_date(int(y), int(m), int(d), int(hh or 0), int(mi or 0), int(ss or 0))
    match = SLASHED_YMD.search(text)
    if match:
        return build_date(int(match[1]), int(match[2]), int(match[3]))
    return parse_human_date(text)


def parse_human_date(text: str) -> datetime | None:
    """ "May 22, 2023", "22 mai 2023", "22.05.2023" (day-first for numeric forms)."""
    match = MDY_NAME.search(text)
    if match:
        month = MONTHS.get(match[1].lower())
        if month:
            return build_date(int(match[3]), month, int(match[2]))
    match = DMY_NAME.search(text)
    if match:
        month = MONTHS.get(match[2].lower())
        if month:
            return build_date(int(match[3]), month, int(match[1]))
    match = NUMERIC_DMY.search(text)
    if match:
        first, second, year = int(match[1]), int(match[3]), int(match[4])
        if first > 12 or match[2] == ".":
            return build_date(year, second, first)
        if second > 12:
            return build_date(year, first, second)
        # Ambiguous 05/06/2023: US sites write month first with slashes.
        return build_date(year, first, second) if match[2] == "/" else build_date(year, second, first)
    found = first_word_date(text)
    return build_date(found.year, found.month, found.day) if found is not None else None
