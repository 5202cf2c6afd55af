"""Re-extraction runs: extraction and load over a window of stored responses, no crawling.

This is how a fixed cleaning rule or a better extractor reaches old articles: a run of kind
``reextract`` owns a window; the extract stage then reads, per URL, the source's latest
response archived in that window from the WARC store (never over HTTP), and load upserts
the articles as usual (a changed text becomes a new version).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import func, select

from pipeline.db.engine import get_engine, session_scope
from pipeline.db.models import Fetch, Source
from pipeline.errors import UsageError
from pipeline.runs import start_run, sync_source, utcnow
from pipeline.sourcecache import load_source
from pipeline.stages.extract import stored_page_conditions

WhenLike = datetime | date | str


def parse_when(value: WhenLike, name: str = "time") -> datetime:
    """A timezone-aware UTC datetime from a datetime, a date (midnight UTC) or an ISO string.

    Naive values are taken as UTC: the trigger form of the maintenance DAG sends ISO
    strings, and ops type dates, not offsets.
    """
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed: datetime | date = (
                date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)
            )
        except ValueError as exc:
            raise UsageError(f"{name} {value!r} is not an ISO date or date-time") from exc
        value = parsed
    if not isinstance(value, datetime):
        value = datetime.combine(value, time.min)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def reextract_run_id(source_key: str, now: datetime | None = None) -> str:
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{source_key}__reextract__{stamp}"


def start_reextract(
    source_key: str,
    start: WhenLike,
    end: WhenLike,
    run_id: str | None = None,
    *,
    database_url: str | None = None,
    sources_path: str | Path | None = None,
) -> str:
    """Create (or reset) the ``reextract`` run for ``[start, end)`` and return its run id."""
    window = (parse_when(start, "start"), parse_when(end, "end"))
    if window[0] >= window[1]:
        raise UsageError(
            f"empty window: start {window[0].isoformat()} is not before end {window[1].isoformat()}"
        )
    try:
        config = load_source(source_key, sources_path)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from exc
    run_id = run_id or reextract_run_id(source_key)
    with session_scope(get_engine(database_url)) as session:
        source = sync_source(session, config)
        start_run(
            session,
            source,
            run_id,
            kind="reextract",
            window=window,
            params={"start": window[0].isoformat(), "end": window[1].isoformat()},
        )
    return run_id


def window_from_params(
    start: WhenLike | None, end: WhenLike | None, *, default_hours: int = 24
) -> tuple[datetime, datetime]:
    """The window of a trigger form: empty ends mean "the last ``default_hours`` hours"."""
    end_at = parse_when(end, "end") if end not in (None, "") else utcnow()
    start_at = (
        parse_when(start, "start") if start not in (None, "") else end_at - timedelta(hours=default_hours)
    )
    return start_at, end_at


def stored_responses(
    source_key: str, start: WhenLike, end: WhenLike, *, database_url: str | None = None
) -> int:
    """Distinct article URLs of the source archived in ``[start, end)`` (sizes the shards)."""
    with session_scope(get_engine(database_url)) as session:
        count = session.scalar(
            select(func.count(func.distinct(Fetch.url_hash)))
            .join(Source, Source.id == Fetch.source_id)
            .where(
                Source.key == source_key,
                *stored_page_conditions(),
                Fetch.fetched_at >= parse_when(start, "start"),
                Fetch.fetched_at < parse_when(end, "end"),
            )
        )
    return int(count or 0)
