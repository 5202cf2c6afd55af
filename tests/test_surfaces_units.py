"""Pure helpers of surface reading: which entries vanished, gzip with a ceiling, backfill windows."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import pytest

from crawlers.backfill import BackfillWindow
from crawlers.discovery import Entry
from crawlers.surfaces import TooLarge, gunzip, is_gzip, vanished
from pipeline.config import Limits, parse_duration

T = datetime(2024, 3, 4, 12, tzinfo=UTC)


def entry(slug: str, hours_ago: float | None = None) -> Entry:
    published = None if hours_ago is None else T - timedelta(hours=hours_ago)
    return Entry(f"http://x/news/{slug}", published)


def test_vanished_needs_an_older_entry_still_listed() -> None:
    previous = [entry("c", 1), entry("b", 2), entry("a", 3)]
    # b left while the older a stays: a retraction candidate.
    assert [e.url for e in vanished(previous, [entry("d", 0), entry("c", 1), entry("a", 3)])] == [
        "http://x/news/b"
    ]
    # a fell off the end of a feed that keeps the newest entries: not vanished.
    assert vanished(previous, [entry("d", 0), entry("c", 1), entry("b", 2)]) == []
    # Without dates the previous order decides (newest first).
    undated = [entry("c"), entry("b"), entry("a")]
    assert [e.url for e in vanished(undated, [entry("c"), entry("a")])] == ["http://x/news/b"]
    # An empty capture (outage, broken feed) proves nothing.
    assert vanished(previous, []) == []
    # Canonical forms are compared, not raw URLs.
    tracked = [Entry("http://x/news/b?utm_source=rss", T), entry("a", 3)]
    assert vanished(tracked, [entry("b", 0), entry("a", 3)], lambda u: u.split("?")[0]) == []


def test_gunzip_limits_the_decompressed_size() -> None:
    body = gzip.compress(b"<urlset>" + b"<url/>" * 1000 + b"</urlset>")
    assert is_gzip("http://x/sitemap.xml.gz", "application/gzip", body)
    assert not is_gzip("http://x/sitemap.xml.gz", "application/xml", b"<?xml version='1.0'?><urlset/>")
    assert is_gzip("http://x/sitemap.xml.gz", None, b"garbage")  # named gzip, not XML: try (and fail)
    assert gunzip(body, 10_000).endswith(b"</urlset>")
    with pytest.raises(TooLarge, match="max_response_bytes"):
        gunzip(gzip.compress(b" " * 1_000_000), 100_000)


def test_durations_and_schedule_validation() -> None:
    assert parse_duration("90m") == timedelta(minutes=90) and parse_duration("1.5d") == timedelta(hours=36)
    assert Limits(revisit=["1d", "1h", "1h"]).revisit_ages() == [timedelta(hours=1), timedelta(days=1)]
    for bad in ("1", "h", "-1h", "0h", "1y"):
        with pytest.raises(ValueError, match="invalid duration"):
            Limits(revisit=[bad])


def test_backfill_window_counts_and_reports() -> None:
    window = BackfillWindow(T - timedelta(hours=10), T)
    assert window.admits(entry("in", 5), "feed") and not window.admits(entry("new", 0), "feed")
    assert not window.admits(entry("old", 11), "feed") and not window.admits(entry("undated"), "feed")
    report = window.report({"backfill_requested": 1})
    assert (report["entries_in_window"], report["entries_outside_window"], report["entries_undated"]) == (
        1,
        2,
        1,
    )
    assert any("without a date" in line for line in report["not_recovered"])
    assert report["surfaces_not_reaching_back"] == []
    assert not window.covers(Entry("http://x/sitemap-old.xml", None, T - timedelta(hours=11)))
