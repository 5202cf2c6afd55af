"""The one JSON shape of every ``--json`` / ``--jsonl`` output of the CLI.

Why: scripts parse these; three timestamp spellings, ``source`` beside ``source_key`` and a
free-text gate verdict each forced a special case on them. Here: timestamps ISO 8601 UTC
ending in ``Z``, ``source_key`` for a source, and the gate verdict as fields
(``{"verdict": "passed" | "failed" | "not_checked", "passed": bool | null, "reasons": [...]}``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def iso_z(value: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z`` (naive values are UTC, as the database stores them)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def encode(value: Any) -> Any:
    """``value`` with every datetime as :func:`iso_z` and ``source`` keys named ``source_key``."""
    if isinstance(value, datetime):
        return iso_z(value)
    if isinstance(value, dict):
        return {("source_key" if k == "source" else k): encode(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [encode(v) for v in value]
    return value


def gate_fields(quality: dict[str, Any] | None, reasons: list[str] | None = None) -> dict[str, Any]:
    """The gate verdict as fields, from ``crawl_runs.quality`` (None: the gate did not run)."""
    if quality is None and reasons is None:
        return {"verdict": "not_checked", "passed": None, "reasons": []}
    if quality is not None:
        reasons = [str(r) for r in (quality.get("failures") or quality.get("reasons") or [])]
        passed = bool(quality.get("passed"))
    else:
        passed = not reasons
    return {"verdict": "passed" if passed else "failed", "passed": passed, "reasons": reasons or []}
