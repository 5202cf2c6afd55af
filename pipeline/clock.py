"""The pipeline's one notion of "now": ``NEWSFLOW_NOW`` when set, else the real clock.

Every decision that depends on time (recency, the revisit schedule, run ids, stale-run
expiry, retention, fetch timestamps) asks :func:`now`, so a simulated month of runs
(``benchmarks/soak.py``), a test of "the tenth run, three days later" or an operator
replaying a past hour can set the time instead of waiting for it. The variable is read on
every call (not cached): a harness moves the clock between runs in one process, and the
crawler subprocess inherits it. ``NEWSFLOW_NOW=file:/path`` reads the instant from that file
on every call instead, so processes that were started before the clock moved (an Airflow
scheduler's task runners, the living demo network's ``clock_file``) follow one shared,
simulated time. DAG tasks keep using their data interval for their window.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

from pipeline.errors import UsageError

ENV_VAR = "NEWSFLOW_NOW"
FILE_PREFIX = "file:"


def parse_now(value: str) -> datetime:
    """An ISO 8601 instant (``2026-11-03T14:00:00Z``; a naive value is UTC) as an aware UTC time."""
    try:
        stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{ENV_VAR}={value!r} is not an ISO 8601 time (e.g. 2026-11-03T14:00:00Z)") from None
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).astimezone(UTC)


def now() -> datetime:
    """The current instant (aware, UTC): ``NEWSFLOW_NOW`` if set and not empty, else the real clock."""
    value = os.environ.get(ENV_VAR)
    if not value or not value.strip():
        return datetime.now(UTC)
    if value.startswith(FILE_PREFIX):
        path = Path(value.removeprefix(FILE_PREFIX))
        try:
            value = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(
                f"{ENV_VAR}={FILE_PREFIX}{path}: cannot read the clock file: {exc.strerror}"
            ) from exc
    return parse_now(value)
