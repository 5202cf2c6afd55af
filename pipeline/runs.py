"""Run bookkeeping shared by every stage: the source row, the run row, run ids."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from pipeline import clock
from pipeline.config import Source as SourceConfig
from pipeline.db.models import CrawlLink, CrawlRun, ExtractedRecord, Fetch, Source
from pipeline.errors import UsageError


def utcnow() -> datetime:
    """Now, by the pipeline's clock (``NEWSFLOW_NOW`` when set; see :mod:`pipeline.clock`)."""
    return clock.now()


def new_run_id(source_key: str, now: datetime | None = None) -> str:
    """A readable, sortable run id for runs started outside Airflow."""
    stamp = (now or utcnow()).strftime("%Y%m%dT%H%M%S%fZ")
    return f"{source_key}__manual__{stamp}"


def sync_source(session: Session, config: SourceConfig) -> Source:
    """Insert or refresh the ``sources`` row mirroring one configured source."""
    now = utcnow()
    row = session.scalars(select(Source).where(Source.key == config.key)).one_or_none()
    if row is None:
        row = Source(
            key=config.key,
            name=config.name,
            homepage=str(config.homepage),
            config_hash=config.config_hash(),
            created_at=now,
            updated_at=now,
        )
        session.add(row)
    elif row.config_hash != config.config_hash() or row.name != config.name:
        row.name = config.name
        row.homepage = str(config.homepage)
        row.config_hash = config.config_hash()
        row.updated_at = now
    session.flush()
    return row


def start_run(
    session: Session,
    source: Source,
    run_id: str,
    *,
    kind: str = "crawl",
    window: tuple[datetime | None, datetime | None] = (None, None),
    params: dict[str, Any] | None = None,
) -> CrawlRun:
    """Create the run row, or reset it when the same run id runs again.

    Re-running a run id replaces its raw data (fetches, links, staging) rather than adding
    to it; articles already loaded stay, and the next load upserts over them.
    """
    run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one_or_none()
    now = utcnow()
    if run is None:
        run = CrawlRun(run_id=run_id, source_id=source.id, kind=kind, started_at=now)
        session.add(run)
    else:
        if run.source_id != source.id:
            raise UsageError(f"run id {run_id!r} belongs to another source")
        session.execute(delete(ExtractedRecord).where(ExtractedRecord.run_id == run.id))
        session.execute(delete(CrawlLink).where(CrawlLink.run_id == run.id))
        session.execute(delete(Fetch).where(Fetch.run_id == run.id))
        for column in CrawlRun.__table__.columns:
            if column.name.startswith(("pages_", "articles_")) or column.name == "extract_failed":
                setattr(run, column.name, 0)
        run.errors_by_category = {}
        run.quality = None
        run.stats = {}
        run.error = None
        run.started_at = now
        run.finished_at = None
    run.kind = kind
    run.status = "running"
    run.stage = kind
    run.window_start, run.window_end = window
    run.params = params or {}
    session.flush()
    return run


def get_run(session: Session, run_id: str) -> CrawlRun:
    """The run row for ``run_id``; a clear error when there is none."""
    run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one_or_none()
    if run is None:
        raise UsageError(f"no run {run_id!r} in the database (see `newsflow status`)")
    return run
