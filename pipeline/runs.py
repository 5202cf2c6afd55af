"""Run bookkeeping shared by every stage: the source row, the run row, run ids.

Three rules live here because every entry point (CLI, DAG task, crawler subprocess) starts
its run through :func:`start_run`:

- **Stale runs expire.** A run still ``running`` ``NEWSFLOW_STALE_RUN_HOURS`` after it
  started lost its process; it is marked failed (with that reason) instead of looking alive
  forever, blocking its source and protecting its files from retention.
- **One crawl per source at a time.** Two crawls of one source would race on the revisit
  schedule and fetch everything twice; the second one is refused with :class:`SourceBusy`.
- **A rerun keeps provenance.** Re-running a run id replaces its raw data, but fetch rows an
  article (or an article version, or another run's extraction) points at are kept as
  ``superseded`` together with their WARC records (see :mod:`pipeline.supersede`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from pipeline import clock
from pipeline.config import Source as SourceConfig
from pipeline.db.models import CrawlLink, CrawlRun, ExtractedRecord, Source
from pipeline.errors import UsageError

#: ``crawl_runs.error`` of a run expired by :func:`expire_stale_runs` starts with this.
STALE_PREFIX = "stale:"


class SourceBusy(UsageError):
    """Another live crawl of the same source is in progress (one crawl per source at a time)."""


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
        # INSERT … ON CONFLICT DO NOTHING: two first runs of a source on a fresh database
        # both get here; the second must find the first's row, not die on the unique key.
        from pipeline.db.dialect import dialect_insert

        session.execute(
            dialect_insert(session, Source)
            .values(
                key=config.key,
                name=config.name,
                homepage=str(config.homepage),
                config_hash=config.config_hash(),
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )
        row = session.scalars(select(Source).where(Source.key == config.key)).one()
    if row.config_hash != config.config_hash() or row.name != config.name:
        row.name = config.name
        row.homepage = str(config.homepage)
        row.config_hash = config.config_hash()
        row.updated_at = now
    session.flush()
    return row


def stale_run_hours() -> float:
    """Hours after its start at which a run still ``running`` counts as dead (the setting)."""
    from pipeline.settings import get_settings

    return float(get_settings().stale_run_hours)


def _hours(delta: timedelta) -> str:
    return f"{delta.total_seconds() / 3600:.1f}".removesuffix(".0")


def stale_cutoff(now: datetime | None = None, hours: float | None = None) -> datetime:
    """Runs ``running`` that started before this instant are stale."""
    return (now or utcnow()) - timedelta(hours=stale_run_hours() if hours is None else hours)


def expire_stale_runs(
    session: Session,
    *,
    source_id: int | None = None,
    now: datetime | None = None,
    hours: float | None = None,
) -> list[str]:
    """Mark every stale run (of ``source_id``, or of all sources) failed; their run ids.

    The error names the age and the stage it was in, so ``newsflow status`` and the alert
    say what happened instead of showing a run that is "running" for days.
    """
    now = now or utcnow()
    query = select(CrawlRun).where(
        CrawlRun.status == "running", CrawlRun.started_at < stale_cutoff(now, hours)
    )
    if source_id is not None:
        query = query.where(CrawlRun.source_id == source_id)
    expired = []
    for run in session.scalars(query.order_by(CrawlRun.id)).all():
        run.status = "failed"
        run.error = (
            f"{STALE_PREFIX} still 'running' {_hours(now - run.started_at)} h after it started "
            f"(stage {run.stage}); its process probably died"
        )
        run.finished_at = now
        expired.append(run.run_id)
    session.flush()
    return expired


def _refuse_second_crawl(session: Session, source: Source, run_id: str) -> None:
    """:class:`SourceBusy` when another crawl of ``source`` is in progress.

    In progress = ``running`` in stage ``crawl`` and no crawl statistics yet: the crawler
    writes ``stats["crawl"]`` when it ends, and a run whose crawl ended (a ``newsflow crawl``
    on its own, a dry run, a run waiting for its extract task) does not block the next one.
    """
    candidates = session.scalars(
        select(CrawlRun)
        .where(
            CrawlRun.source_id == source.id,
            CrawlRun.run_id != run_id,
            CrawlRun.status == "running",
            CrawlRun.stage == "crawl",
        )
        .order_by(CrawlRun.started_at)
    ).all()
    other = next((run for run in candidates if "crawl" not in (run.stats or {})), None)
    if other is not None:
        raise SourceBusy(
            f"source {source.key!r} is busy: run {other.run_id!r} has been crawling since "
            f"{other.started_at:%Y-%m-%d %H:%M:%S} UTC (one crawl per source at a time; a run "
            f"still 'running' after {stale_run_hours():g} h is treated as dead, NEWSFLOW_STALE_RUN_HOURS)"
        )


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

    First the source's stale runs are expired; a crawl is then refused (:class:`SourceBusy`)
    while another crawl of the source is live. Re-running a run id replaces its raw data
    (fetches, links, staging) rather than adding to it, except the fetch rows that stored
    articles came from: those stay, as ``superseded``, with their WARC records moved out of
    the run's file (which the new crawl rewrites). Articles already loaded stay, and the
    next load upserts over them.
    """
    now = utcnow()
    # A write first: it serialises concurrent start_runs of one source on both backends (a
    # row lock on PostgreSQL, SQLite's write lock), so the busy check below cannot race.
    session.execute(
        update(Source)
        .where(Source.id == source.id)
        .values(updated_at=Source.updated_at)
        .execution_options(synchronize_session=False)
    )
    expire_stale_runs(session, source_id=source.id, now=now)
    if kind == "crawl":
        _refuse_second_crawl(session, source, run_id)
    run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one_or_none()
    if run is None:
        run = CrawlRun(run_id=run_id, source_id=source.id, kind=kind, started_at=now)
        session.add(run)
    else:
        if run.source_id != source.id:
            raise UsageError(f"run id {run_id!r} belongs to another source")
        from pipeline.supersede import supersede_referenced_fetches

        session.execute(delete(ExtractedRecord).where(ExtractedRecord.run_id == run.id))
        session.execute(delete(CrawlLink).where(CrawlLink.run_id == run.id))
        supersede_referenced_fetches(session, run, source.key)
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
