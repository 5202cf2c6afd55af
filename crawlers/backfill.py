"""Backfill: recover a past window from the dated entries of feeds and sitemaps.

A backfill run owns a window in the past. Today's listings show today's site, and revisits
judge today's pages, so neither says anything about the window; the only honest witnesses
are feeds and sitemaps whose entries carry dates. This module decides per entry whether it
belongs to the window and keeps the account of what could and could not be recovered,
which ``crawlers.run`` stores as ``stats.crawl.backfill``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from crawlers.discovery import Entry


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


@dataclass
class SurfaceSpan:
    """What one feed/sitemap listed: entry count and the oldest/newest dates."""

    entries: int = 0
    undated: int = 0
    oldest: datetime | None = None
    newest: datetime | None = None

    def add(self, date: datetime | None) -> None:
        self.entries += 1
        if date is None:
            self.undated += 1
            return
        self.oldest = date if self.oldest is None or date < self.oldest else self.oldest
        self.newest = date if self.newest is None or date > self.newest else self.newest


@dataclass
class BackfillWindow:
    """The window ``[start, end)`` and the tally of entries judged against it."""

    start: datetime | None
    end: datetime
    in_window: int = 0
    outside: int = 0
    undated: int = 0
    surfaces: dict[str, SurfaceSpan] = field(default_factory=dict)

    @staticmethod
    def entry_date(entry: Entry) -> datetime | None:
        """The date that places an entry: publication, else last modification."""
        return entry.published or entry.updated

    def admits(self, entry: Entry, surface: str) -> bool:
        """True when the entry is dated inside the window (and count it either way)."""
        date = self.entry_date(entry)
        self.surfaces.setdefault(surface, SurfaceSpan()).add(date)
        if date is None:
            self.undated += 1
            return False
        if date >= self.end or (self.start is not None and date < self.start):
            self.outside += 1
            return False
        self.in_window += 1
        return True

    def covers(self, sitemap: Entry) -> bool:
        """False for a sub-sitemap last modified before the window: nothing in it is newer."""
        date = sitemap.newest()
        return not (date is not None and self.start is not None and date < self.start)

    def report(self, counts: dict[str, int]) -> dict[str, Any]:
        """``stats.crawl.backfill``: the window, what was found and requested, what is lost."""
        not_recovered: list[str] = [
            "listings and related links are not crawled in a backfill (they show today's site)",
            "corrections and retractions of the window's articles are not revisited",
        ]
        if self.undated:
            not_recovered.append(f"{self.undated} entries without a date could not be placed in the window")
        short: list[str] = []
        for url, span in sorted(self.surfaces.items()):
            if self.start is not None and span.oldest is not None and span.oldest > self.start:
                short.append(url)
                not_recovered.append(
                    f"{url} reaches back only to {span.oldest.isoformat()}, after the window start: "
                    "older entries of the window are no longer listed"
                )
        if not self.surfaces:
            not_recovered.append("no feed or sitemap was read, so nothing of the window could be recovered")
        return {
            "window_start": _iso(self.start),
            "window_end": _iso(self.end),
            "entries_in_window": self.in_window,
            "entries_outside_window": self.outside,
            "entries_undated": self.undated,
            "requested": counts.get("backfill_requested", 0),
            "already_stored": counts.get("backfill_stored", 0),
            "surfaces": {
                url: {
                    "entries": span.entries,
                    "undated": span.undated,
                    "oldest": _iso(span.oldest),
                    "newest": _iso(span.newest),
                }
                for url, span in sorted(self.surfaces.items())
            },
            "surfaces_not_reaching_back": short,
            "not_recovered": not_recovered,
        }
