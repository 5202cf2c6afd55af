"""The soak harness, short: a day of hourly runs of every outlet against a one-day living network.

A one-day timeline compresses the month's incidents into 24 hours — a feed outage, a section
turning into JavaScript shells, a redesign, three hours of a broken CMS — with 16 edits and four
retractions (410, 404, a redirect to the section front, a removal notice). The pipeline runs
exactly as in ``python -m benchmarks.soak --days 30`` (the same :func:`benchmarks.soak.soak`),
so every figure of the acceptance is pinned here on a smaller scale.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.soak import soak

pytestmark = pytest.mark.slow


def test_a_day_of_hourly_runs_keeps_the_record_true(tmp_path: Path) -> None:
    result = soak(1, workdir=tmp_path, network_days=1)
    card = result.scorecard
    detail = "\n".join(card.failures + card.misses)
    assert card.runs == 72 and card.stories_published >= 20
    assert card.completeness == 1.0, detail
    assert card.current == 1.0, detail  # every stored live story holds the text it has now
    assert card.corrections >= 10 and card.correction_capture == 1.0, detail
    assert card.correction_bound_violations == 0, detail
    assert card.retractions >= 3 and card.retraction_capture == 1.0, detail
    latency = card.retraction_latency_h["max"]
    assert latency is not None and latency <= 24
    assert card.broken_runs >= 1 and card.missed_alarms == 0, detail  # the broken CMS was seen and alarmed
    assert card.false_alarms == 0, detail  # quiet hours, the outage, the redesign and the JS section pass
    assert card.provenance_missing == 0 and card.duplicates == 0 and card.junk_articles == 0, detail
    assert card.requests_per_article is not None and card.requests_per_article <= 10
    as_json = card.as_dict()
    for key in (
        "completeness",
        "correction_capture",
        "correction_latency_h",
        "retraction_capture",
        "retraction_latency_h",
        "false_alarms",
        "missed_alarms",
        "provenance_missing",
        "duplicates",
        "requests_per_article",
    ):
        assert key in as_json
