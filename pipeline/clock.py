"""The pipeline's one notion of "now": ``NEWSFLOW_NOW`` when set, else the real clock.

Every decision that depends on time (recency, the revisit schedule, run ids, stale-run
expiry, retention, fetch timestamps) asks :func:`now`, so a simulated month of runs
(``benchmarks/soak.py``), a test of "the tenth run, three days later" or an operator
replaying a past hour can set the time instead of waiting for it. The variable is read on
every call (not cached): a harness moves the clock between runs in one process, and the
crawler subprocess inherits it. DAG tasks keep using their data interval.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from pipeline.errors import UsageError

ENV_VAR = "NEWSFLOW_NOW"


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
    if value and value.strip():
        return parse_now(value)
    return datetime.now(UTC)
