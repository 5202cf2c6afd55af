"""Raw-store retention: delete WARC files older than ``NEWSFLOW_RAW_RETENTION_DAYS``.

The raw store grows with every run; old bodies are only needed for re-extraction, and a
window older than the retention period is, by policy, not re-extracted. Two safety rules:
the WARC files of each source's last successful crawl run (and of runs still in progress)
are never deleted, whatever their age; and fetch rows that pointed at a deleted file are
detached first (``warc_path`` set to NULL, in one transaction), so nothing in the database
points at a missing file even if the deletion is interrupted — a rerun finishes the job.

Age is the policy, also for provenance: a file older than the retention period goes even
when stored articles still point at its records (their view rows then show no WARC
location); within the period nothing an article points at is deleted. The records a rerun
of a run id keeps (``<run>.superseded-<time>.warc.gz``, see :mod:`pipeline.supersede`) are
files like any other, protected with their run. A run still ``running`` after
``NEWSFLOW_STALE_RUN_HOURS`` protects nothing: it is marked failed first (a dry run only
leaves it out of the protected set).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import fsspec
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from pipeline.db.engine import get_engine, session_scope
from pipeline.db.models import CrawlRun, Fetch, Source
from pipeline.rawstore import run_warc_path
from pipeline.runs import expire_stale_runs, stale_cutoff, utcnow
from pipeline.settings import get_settings


@dataclass(frozen=True)
class RetentionResult:
    """What a prune did (or, with ``dry_run``, would do)."""

    cutoff: str
    files_deleted: int
    bytes_freed: int
    files_protected: int
    fetches_detached: int
    dry_run: bool
    deleted: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _norm(path: str) -> str:
    """One spelling per file, whatever way the writer spelled it (relative, file://, …)."""
    fs, stripped = fsspec.core.url_to_fs(path)
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return f"{protocol}://{stripped}"


def _modified(info: dict[str, Any]) -> datetime | None:
    for key in ("mtime", "LastModified", "last_modified", "updated", "created"):
        value = info.get(key)
        if isinstance(value, int | float):
            return datetime.fromtimestamp(float(value), UTC)
        if isinstance(value, datetime):
            return value if value.tzinfo else value.replace(tzinfo=UTC)
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                continue
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def protected_runs(session: Session, now: datetime | None = None) -> list[CrawlRun]:
    """Each source's latest successful crawl run, plus every run still in progress (not stale)."""
    latest = (
        select(CrawlRun.source_id, func.max(CrawlRun.started_at).label("started_at"))
        .where(CrawlRun.status == "success", CrawlRun.kind == "crawl")
        .group_by(CrawlRun.source_id)
        .subquery()
    )
    last_good = session.scalars(
        select(CrawlRun)
        .join(
            latest,
            (CrawlRun.source_id == latest.c.source_id) & (CrawlRun.started_at == latest.c.started_at),
        )
        .where(CrawlRun.status == "success", CrawlRun.kind == "crawl")
    ).all()
    running = session.scalars(
        select(CrawlRun).where(CrawlRun.status == "running", CrawlRun.started_at >= stale_cutoff(now))
    ).all()
    return [*last_good, *running]


def _protected_paths(session: Session, raw_store: str, now: datetime) -> set[str]:
    paths: set[str] = set()
    for run in protected_runs(session, now):
        key = session.scalar(select(Source.key).where(Source.id == run.source_id))
        if key is not None:
            paths.add(_norm(run_warc_path(raw_store, key, run.run_id)))
        stored = session.scalars(
            select(Fetch.warc_path).where(Fetch.run_id == run.id, Fetch.warc_path.is_not(None)).distinct()
        )
        paths.update(_norm(p) for p in stored if p)
    return paths


def prune_raw(
    *,
    retention_days: int | None = None,
    raw_store: str | None = None,
    database_url: str | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
) -> RetentionResult:
    """Delete WARC files modified before ``now - retention_days``, except protected ones."""
    settings = get_settings()
    days = retention_days if retention_days is not None else settings.raw_retention_days
    store = raw_store or settings.raw_store
    now = now or utcnow()
    cutoff = now - timedelta(days=days)
    fs, root = fsspec.core.url_to_fs(store)
    candidates: list[tuple[str, str, int]] = []  # (normalised, fs path, size)
    if fs.exists(root):
        for path, info in fs.find(root, detail=True).items():
            if not path.endswith((".warc.gz", ".warc")):
                continue
            modified = _modified(info)
            if modified is not None and modified < cutoff:
                candidates.append((_norm(fs.unstrip_protocol(path)), path, int(info.get("size") or 0)))

    engine = get_engine(database_url)
    with session_scope(engine) as session:
        if not dry_run:
            expire_stale_runs(session, now=now)
        protected = _protected_paths(session, store, now)
        doomed = [c for c in candidates if c[0] not in protected]
        doomed_norm = {c[0] for c in doomed}
        stored_spellings = [
            p
            for p in session.scalars(select(Fetch.warc_path).where(Fetch.warc_path.is_not(None)).distinct())
            if p and _norm(p) in doomed_norm
        ]
        detached = 0
        if stored_spellings and not dry_run:
            result = session.execute(
                update(Fetch)
                .where(Fetch.warc_path.in_(stored_spellings))
                .values(warc_path=None, warc_offset=None, warc_length=None)
                .execution_options(synchronize_session=False)
            )
            detached = int(getattr(result, "rowcount", 0) or 0)
        elif stored_spellings:
            detached = int(
                session.scalar(select(func.count()).where(Fetch.warc_path.in_(stored_spellings))) or 0
            )
    if not dry_run:
        for _, path, _ in doomed:
            fs.rm_file(path)
    return RetentionResult(
        cutoff=cutoff.isoformat(),
        files_deleted=len(doomed),
        bytes_freed=sum(size for _, _, size in doomed),
        files_protected=len(candidates) - len(doomed),
        fetches_detached=detached,
        dry_run=dry_run,
        deleted=sorted(path for _, path, _ in doomed),
    )
