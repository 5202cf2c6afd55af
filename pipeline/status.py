"""``newsflow status``: what ran, what it did, and what is in the database — for ops and scripts.

Pages a run fetched but did not store as articles (not an article, empty, removed, error)
are listed per run with the extractor's reason and the detector's score, closest calls
first: a genuine article the detector rejected must be visible to an operator (and can be
re-extracted), not silently missing.

Before it shows anything, runs still ``running`` past ``NEWSFLOW_STALE_RUN_HOURS`` are marked
failed (their process died), so the report never shows a dead run as running.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from pipeline.db.models import Article, CrawlRun, ExtractedRecord, Fetch, Source, SourcePause
from pipeline.jsonout import encode, gate_fields
from pipeline.pauses import table_exists
from pipeline.redact import redact
from pipeline.runs import STALE_PREFIX, expire_stale_runs


@dataclass(frozen=True)
class RunStatus:
    source: str
    run_id: str
    kind: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    pages_fetched: int
    pages_failed: int
    pages_unchanged: int
    articles_new: int
    articles_updated: int
    articles_unchanged: int
    articles_duplicate: int
    articles_rejected: int
    quality: str
    failures_by_category: dict[str, int]
    articles_removed: int = 0
    stage: str = ""
    error: str | None = None
    gate: dict[str, Any] | None = None  # the verdict as fields (pipeline.jsonout.gate_fields)

    @property
    def state(self) -> str:
        """The status for people: ``stale`` is a failed run whose process died."""
        if self.status == "failed" and (self.error or "").startswith(STALE_PREFIX):
            return "failed (stale)"
        if self.status == "running":
            return f"running ({self.stage})" if self.stage else "running"
        return self.status


@dataclass(frozen=True)
class ArticleBrief:
    source: str
    title: str | None
    published_at: datetime | None
    canonical_url: str
    version: int
    removed_at: datetime | None = None


@dataclass(frozen=True)
class RejectedPage:
    """A fetched page that is not stored as an article, and why."""

    run_id: str
    url: str
    status: str  # not_article | empty | removed | error
    reason: str | None
    #: the detector's score (positive: article); None when the page was never judged
    score: float | None


@dataclass(frozen=True)
class StatusReport:
    runs: list[RunStatus]
    newest_articles: list[ArticleBrief]
    article_count: int
    articles_per_source: dict[str, int]
    database_bytes: int | None
    removed_count: int = 0
    expired_runs: list[str] | None = None
    #: per shown run, up to ``rejected_per_run`` pages not stored as articles (closest calls first)
    rejected_pages: list[RejectedPage] | None = None
    #: per shown run id: status -> pages not stored as articles (all of them, not only those listed)
    rejected_counts: dict[str, dict[str, int]] | None = None
    #: sources an operator paused (``newsflow sources pause``): key -> reason and since when
    paused_sources: dict[str, dict[str, Any]] | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON conventions of :mod:`pipeline.jsonout` (``source_key``, ``Z`` times, gate fields)."""
        data: dict[str, Any] = encode(asdict(self))
        for run, shown in zip(self.runs, data["runs"], strict=True):
            shown["state"] = run.state
        return data


def _verdict(quality: dict[str, Any] | None) -> str:
    if not quality:
        return "not checked"
    if quality.get("passed"):
        return "passed"
    reasons = quality.get("failures") or quality.get("reasons") or []
    return "failed: " + "; ".join(str(r) for r in reasons) if reasons else "failed"


def database_size(engine: Engine) -> int | None:
    """Bytes on disk of the news database (SQLite file + WAL, or pg_database_size)."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        path = make_url(str(url)).database
        if not path or path == ":memory:":
            return None
        return sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
    with engine.connect().execution_options(read_only=True) as conn:
        return int(conn.execute(text("select pg_database_size(current_database())")).scalar_one())


def rejected_pages(session: Session, run_pks: dict[int, str], per_run: int) -> list[RejectedPage]:
    """Up to ``per_run`` non-``ok`` extraction rows of each run, highest detection score first.

    One query for all shown runs (a window ranks each run's rows), not one per run.
    """
    if per_run <= 0 or not run_pks:
        return []
    closest_first = (ExtractedRecord.detection_score.desc().nulls_last(), ExtractedRecord.fetch_id)
    ranked = (
        select(
            ExtractedRecord.run_id,
            Fetch.url,
            Fetch.final_url,
            ExtractedRecord.status,
            ExtractedRecord.reason,
            ExtractedRecord.detection_score,
            func.row_number().over(partition_by=ExtractedRecord.run_id, order_by=closest_first).label("nth"),
        )
        .join(Fetch, Fetch.id == ExtractedRecord.fetch_id)
        .where(ExtractedRecord.run_id.in_(list(run_pks)), ExtractedRecord.status != "ok")
        .subquery()
    )
    shown_order = {pk: position for position, pk in enumerate(run_pks)}
    rows = sorted(
        session.execute(select(ranked).where(ranked.c.nth <= per_run)).all(),
        key=lambda row: (shown_order[row.run_id], row.nth),
    )
    return [
        RejectedPage(run_pks[pk], final or url, status, redact(reason) if reason else None, score)
        for pk, url, final, status, reason, score, _nth in rows
    ]


def rejected_counts(session: Session, run_pks: dict[int, str]) -> dict[str, dict[str, int]]:
    """Per run id: status -> number of pages not stored as articles."""
    counts: dict[str, dict[str, int]] = {}
    if not run_pks:
        return counts
    for pk, status, n in session.execute(
        select(ExtractedRecord.run_id, ExtractedRecord.status, func.count())
        .where(ExtractedRecord.run_id.in_(list(run_pks)), ExtractedRecord.status != "ok")
        .group_by(ExtractedRecord.run_id, ExtractedRecord.status)
    ):
        counts.setdefault(run_pks[pk], {})[status] = int(n)
    return counts


def collect_status(
    engine: Engine,
    runs_per_source: int = 5,
    newest: int = 10,
    *,
    expire_stale: bool = True,
    rejected_per_run: int = 10,
) -> StatusReport:
    """Recent runs per source (newest first), the newest articles, counts and database size.

    ``rejected_per_run``: pages of each shown run not stored as articles, listed with reason
    and detection score (0: counts only).

    ``expire_stale`` first marks stale runs failed (one short write transaction).
    """
    expired: list[str] = []
    if expire_stale:
        with Session(engine) as session, session.begin():
            expired = expire_stale_runs(session)
    rank = (
        func.row_number()
        .over(partition_by=CrawlRun.source_id, order_by=CrawlRun.started_at.desc())
        .label("rank")
    )
    recent = select(CrawlRun.id, rank).subquery()
    with Session(engine.execution_options(read_only=True)) as session:
        rows = session.execute(
            select(CrawlRun, Source.key)
            .join(Source, Source.id == CrawlRun.source_id)
            .join(recent, recent.c.id == CrawlRun.id)
            .where(recent.c.rank <= runs_per_source)
            .order_by(Source.key, CrawlRun.started_at.desc())
        ).all()
        runs = [
            RunStatus(
                source=key,
                run_id=run.run_id,
                kind=run.kind,
                status=run.status,
                started_at=run.started_at,
                finished_at=run.finished_at,
                pages_fetched=run.pages_fetched,
                pages_failed=run.pages_failed,
                pages_unchanged=run.pages_unchanged,
                articles_new=run.articles_new,
                articles_updated=run.articles_updated,
                articles_unchanged=run.articles_unchanged,
                articles_duplicate=run.articles_duplicate,
                articles_rejected=run.articles_rejected,
                quality=_verdict(run.quality),
                failures_by_category=dict(run.errors_by_category or {}),
                articles_removed=int(((run.stats or {}).get("load") or {}).get("articles_removed") or 0),
                stage=run.stage,
                error=redact(run.error) if run.error else None,
                gate=gate_fields(run.quality),
            )
            for run, key in rows
        ]
        run_pks = {run.id: run.run_id for run, _key in rows}
        rejected = rejected_pages(session, run_pks, rejected_per_run)
        rejected_by_run = rejected_counts(session, run_pks)
        newest_articles = [
            ArticleBrief(
                source=key,
                title=article.title,
                published_at=article.published_at,
                canonical_url=article.canonical_url,
                version=article.version,
                removed_at=article.removed_at,
            )
            for article, key in session.execute(
                select(Article, Source.key)
                .join(Source, Source.id == Article.source_id)
                .order_by(Article.first_seen_at.desc(), Article.id.desc())
                .limit(newest)
            ).all()
        ]
        per_source = {
            str(key): int(count)
            for key, count in session.execute(
                select(Source.key, func.count(Article.id))
                .join(Article, Article.source_id == Source.id)
                .group_by(Source.key)
            ).all()
        }
        removed = int(
            session.scalar(select(func.count(Article.id)).where(Article.removed_at.is_not(None))) or 0
        )
        paused = {
            row.key: {"reason": row.reason, "since": row.changed_at}
            for row in (
                session.scalars(
                    select(SourcePause).where(SourcePause.paused.is_(True)).order_by(SourcePause.key)
                )
                if table_exists(session.connection())
                else []
            )
        }
    return StatusReport(
        runs=runs,
        newest_articles=newest_articles,
        article_count=sum(per_source.values()),
        articles_per_source=per_source,
        database_bytes=database_size(engine),
        removed_count=removed,
        expired_runs=expired,
        rejected_pages=rejected,
        rejected_counts=rejected_by_run,
        paused_sources=paused,
    )
