"""Lenient date parsing for feed and sitemap hints (RFC 822, ISO 8601, W3C datetime)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def parse_date(value: str | None) -> datetime | None:
    """An aware UTC datetime from a feed/sitemap date string, ``None`` when unparseable.

    Naive values are taken as UTC: a hint a few hours off does not change a recrawl decision.
    """
    if not value:
        return None
    text = value.strip()
    if not text:
        return None
    parsed: datetime | None = None
    if re.match(r"^\d{4}-\d{2}", text):
        candidate = text.replace(" ", "T", 1) if re.match(r"^\d{4}-\d{2}-\d{2} \d", text) else text
        try:
            parsed = datetime.fromisoformat(candidate)
        except ValueError:
            parsed = None
    else:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            parsed = None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value else None
