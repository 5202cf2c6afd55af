"""``pipeline.clock``: NEWSFLOW_NOW as an instant, as a file, and the real clock when unset."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline import clock
from pipeline.errors import UsageError
from pipeline.runs import new_run_id


def test_unset_is_the_real_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSFLOW_NOW", raising=False)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=5)


def test_an_instant_is_read_on_every_call(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEWSFLOW_NOW", "2026-10-03T14:00:00Z")
    assert clock.now() == datetime(2026, 10, 3, 14, tzinfo=UTC)
    assert new_run_id("capital") == "capital__manual__20261003T140000000000Z"
    monkeypatch.setenv("NEWSFLOW_NOW", "2026-10-03T15:30:00+02:00")  # moved between two runs
    assert clock.now() == datetime(2026, 10, 3, 13, 30, tzinfo=UTC)
    monkeypatch.setenv("NEWSFLOW_NOW", "2026-10-03T16:00:00")  # naive = UTC
    assert clock.now().tzinfo is UTC and clock.now().hour == 16


def test_a_clock_file_is_followed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    file = tmp_path / "now.txt"
    file.write_text("2026-10-01T01:00:00Z\n")
    monkeypatch.setenv("NEWSFLOW_NOW", f"file:{file}")
    assert clock.now() == datetime(2026, 10, 1, 1, tzinfo=UTC)
    file.write_text("2026-10-01T02:00:00Z")
    assert clock.now() == datetime(2026, 10, 1, 2, tzinfo=UTC)


@pytest.mark.parametrize("value", ["yesterday", "2026-13-01T00:00:00Z", "file:/nonexistent/now.txt"])
def test_a_bad_value_is_named(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("NEWSFLOW_NOW", value)
    with pytest.raises(UsageError, match="NEWSFLOW_NOW"):
        clock.now()
