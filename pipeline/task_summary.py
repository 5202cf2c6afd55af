"""One human line per finished task, and the short message of a failed quality gate.

Airflow ends a task log with ``Returned value was {…}``: a JSON blob an operator has to read
field by field. Every newsflow task logs one ``summary:`` line before that (pages, articles
new/updated/unchanged/removed, failures by category, seconds), built here from the task's
XCom value, so the lines read the same in every DAG and are testable without Airflow.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

log = logging.getLogger("newsflow.task")

#: A gate message longer than this is cut (the full text is in the log lines above it and
#: in ``crawl_runs.quality``): the exception an operator sees must fit on a screen.
MAX_GATE_REASON = 160


def _by_category(counts: Mapping[str, Any] | None) -> str:
    if not counts:
        return "none"
    return ", ".join(f"{key} {value}" for key, value in sorted(counts.items(), key=lambda kv: -int(kv[1])))


def _seconds(seconds: float) -> str:
    return f"{seconds:.1f} s"


def crawl_line(result: Mapping[str, Any], seconds: float) -> str:
    return (
        f"crawl {result.get('run_id')}: {result.get('status')}, {result.get('pages_fetched', 0)} pages fetched, "
        f"{result.get('pages_unchanged', 0)} unchanged, {result.get('pages_failed', 0)} failed "
        f"(by category: {_by_category(result.get('errors_by_category'))}), {_seconds(seconds)}"
    )


def extract_line(result: Mapping[str, Any], seconds: float) -> str:
    return (
        f"extract {result.get('run_id')} shard {int(result.get('shard', 0)) + 1}/{result.get('shards', 1)}: "
        f"{result.get('pages', 0)} pages, {result.get('extracted', 0)} articles extracted, "
        f"{result.get('not_article', 0)} not articles, {result.get('empty', 0)} empty, "
        f"{result.get('removed', 0)} removal notices, {result.get('failed', 0)} failed, {_seconds(seconds)}"
    )


def load_line(result: Mapping[str, Any], seconds: float) -> str:
    return (
        f"load {result.get('run_id')}: articles {result.get('new', 0)} new, {result.get('updated', 0)} updated, "
        f"{result.get('unchanged', 0)} unchanged, {result.get('removed', 0)} removed, "
        f"{result.get('duplicate', 0)} duplicate, {result.get('rejected', 0)} rejected "
        f"(by reason: {_by_category(result.get('rejected_reasons'))}), {_seconds(seconds)}"
    )


def check_line(result: Mapping[str, Any], seconds: float) -> str:
    metrics = result.get("metrics") or {}

    def pct(key: str) -> str:
        value = metrics.get(key)
        return "n/a" if value is None else f"{float(value) * 100:.0f}%"

    return (
        f"check {result.get('run_id')}: quality gates passed, {metrics.get('attempts', 0)} pages attempted, "
        f"{metrics.get('extracted_ok', 0)} articles, yield {pct('extraction_yield')}, "
        f"empty {pct('empty_text_rate')}, errors {pct('error_rate')}, {_seconds(seconds)}"
    )


def publish_line(result: Mapping[str, Any], seconds: float) -> str:
    return (
        f"publish {result.get('run_id')}: run {result.get('status')}, {result.get('pages_fetched', 0)} pages, "
        f"{result.get('pages_failed', 0)} failed; articles {result.get('articles_new', 0)} new, "
        f"{result.get('articles_updated', 0)} updated, {result.get('articles_unchanged', 0)} unchanged, "
        f"{result.get('articles_duplicate', 0)} duplicate, {result.get('articles_rejected', 0)} rejected, "
        f"{_seconds(seconds)}"
    )


def generic_line(task: str, result: Mapping[str, Any], seconds: float) -> str:
    """Tasks without their own line (retention, staleness): scalar fields as ``key value``."""
    fields = ", ".join(f"{k} {v}" for k, v in result.items() if isinstance(v, int | float | str | bool))
    return f"{task}: {fields}, {_seconds(seconds)}"


LINES = {
    "crawl": crawl_line,
    "extract": extract_line,
    "load": load_line,
    "check": check_line,
    "publish": publish_line,
}


def log_summary(task: str, result: Mapping[str, Any], seconds: float) -> str:
    """Log (INFO) and return the task's ``summary:`` line."""
    line = LINES[task](result, seconds) if task in LINES else generic_line(task, result, seconds)
    log.info("summary: %s", line)
    return f"summary: {line}"


def short_reason(failure: str, limit: int = MAX_GATE_REASON) -> str:
    """A gate failure without its page list: the gate and, when it fits, its likely cause."""
    reason = failure.split(" - pages: ", 1)[0]
    if len(reason) > limit:
        reason = reason.split(" - ", 1)[0]  # drop the cause, keep the gate and its numbers
    if len(reason) > limit:
        reason = reason[: limit - 1].rsplit(" ", 1)[0] + "…"
    return reason


def gate_message(source: str, failures: list[str]) -> str:
    """The one-screen message of a failed quality gate: each gate's reason, no page lists."""
    reasons = "; ".join(short_reason(f) for f in failures) or "no reason recorded"
    return f"quality gate failed for {source}: {reasons} (pages and metrics: see the log above, crawl_runs.quality)"
