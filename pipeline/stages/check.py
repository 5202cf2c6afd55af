"""The last two stages of a run: ``check`` (quality gates) and ``publish`` (finalise the run).

``check`` reads the run's own rows (fetches, extraction records, load counters), stores the
verdict in ``crawl_runs.quality`` and raises :class:`~pipeline.quality.QualityGateFailed`
when a gate fails, so the Airflow task fails with a message naming the cause. ``publish``
marks the run successful and returns the Asset event ``extra`` for consumers. Both are
idempotent: re-running them recomputes the same verdict and keeps the first finish time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pipeline.config import Quality
from pipeline.db.engine import get_engine, session_scope
from pipeline.db.models import Article, CrawlRun, ExtractedRecord, Fetch
from pipeline.quality import LostPage, QualityGateFailed, RunMetrics, verdict
from pipeline.redact import redact
from pipeline.runs import get_run, utcnow

ATTEMPT_OUTCOMES = ("fetched", "not_modified", "error")


@dataclass(frozen=True)
class CheckResult:
    """The verdict of the quality gates for one run (what goes to XCom)."""

    run_id: str
    source: str
    passed: bool
    failures: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


#: Discoveries that vouch for a page being an article (the site said so, or we stored it).
VOUCHED_DISCOVERY = ("feed", "sitemap", "seed", "revisit")
#: Crawl plans of a URL fetched for the first time (anything else refetched a known URL).
FIRST_FETCH_PLANS = (None, "new", "fetched before, not stored")
MAX_NAMED_PAGES = 5


def _is_vouched(discovery: str, hints: dict[str, Any] | None) -> bool:
    """A feed/sitemap entry, a seed, or a stored article asked again: it should be an article."""
    if discovery in VOUCHED_DISCOVERY:
        return True
    return (hints or {}).get("plan") not in FIRST_FETCH_PLANS


def _lost_pages(session: Session, run: CrawlRun) -> tuple[int, tuple[LostPage, ...]]:
    """How many vouched article pages gave no article, and up to five named (vouched first)."""
    rows = session.execute(
        select(Fetch.url, Fetch.discovery, Fetch.hints, ExtractedRecord.status, ExtractedRecord.reason)
        .join(Fetch, Fetch.id == ExtractedRecord.fetch_id)
        .where(ExtractedRecord.run_id == run.id, ExtractedRecord.status.not_in(("ok", "removed")))
        .order_by(Fetch.id)
    )
    lost = 0
    vouched_pages: list[LostPage] = []
    other_pages: list[LostPage] = []
    for url, discovery, hints, status, reason in rows:
        vouched = _is_vouched(discovery, hints)
        page = LostPage(url, status, (reason or "")[:200] or None, vouched)
        if vouched:
            lost += 1
            if len(vouched_pages) < MAX_NAMED_PAGES:
                vouched_pages.append(page)
        elif len(other_pages) < MAX_NAMED_PAGES:
            other_pages.append(page)
    return lost, tuple((vouched_pages + other_pages)[:MAX_NAMED_PAGES])


def collect_metrics(session: Session, run: CrawlRun) -> RunMetrics:
    """Count what the run did from its own rows (never from other runs)."""
    outcomes: dict[str, int] = {
        outcome: int(n)
        for outcome, n in session.execute(
            select(Fetch.outcome, func.count()).where(Fetch.run_id == run.id).group_by(Fetch.outcome)
        )
    }
    unchanged_candidates = session.scalar(
        select(func.count()).where(
            Fetch.run_id == run.id, Fetch.outcome == "not_modified", Fetch.is_article_candidate.is_(True)
        )
    )
    statuses: dict[str, int] = {
        status: int(n)
        for status, n in session.execute(
            select(ExtractedRecord.status, func.count())
            .where(ExtractedRecord.run_id == run.id)
            .group_by(ExtractedRecord.status)
        )
    }
    # A stored story answering 404/410 is a retraction the load records, not a broken site.
    removals = sum(
        1
        for hints in session.scalars(
            select(Fetch.hints).where(
                Fetch.run_id == run.id, Fetch.outcome == "error", Fetch.status.in_((404, 410))
            )
        )
        if (hints or {}).get("removal")
    )
    loaded = run.articles_new + run.articles_updated + run.articles_unchanged + run.articles_duplicate
    stored = int(session.scalar(select(func.count()).where(Article.source_id == run.source_id)) or 0)
    crawl_stats = (run.stats or {}).get("crawl") or {}
    listed = crawl_stats.get("listed_articles")
    lost, lost_pages = _lost_pages(session, run)
    return RunMetrics(
        attempts=sum(outcomes.get(o, 0) for o in ATTEMPT_OUTCOMES),
        errors=outcomes.get("error", 0) - removals,
        extracted=sum(statuses.values()),
        extracted_ok=statuses.get("ok", 0),
        extracted_empty=statuses.get("empty", 0),
        extracted_failed=statuses.get("error", 0),
        not_article=statuses.get("not_article", 0),
        unchanged_candidates=int(unchanged_candidates or 0),
        articles_loaded=loaded,
        known_skipped=int(crawl_stats.get("skipped_known") or 0),
        fetched=outcomes.get("fetched", 0),
        removed=statuses.get("removed", 0),
        lost=lost,
        lost_pages=lost_pages,
        stored_before=max(stored - run.articles_new, 0),
        listed_articles=int(listed) if listed is not None else (0 if crawl_stats else None),
        backfill=bool((run.params or {}).get("backfill")),
        retractions=removals,
    )


def _thresholds(source_key: str, sources_path: str | Path | None) -> Quality:
    """The source's gate thresholds: its own entry only (``pipeline.sourcecache``), not the whole file.

    A source removed from sources.yaml after its run started is judged by the defaults; a
    source whose entry is invalid fails the check (``ConfigError`` naming file and line).
    """
    from pipeline.sourcecache import load_source

    try:
        return load_source(source_key, sources_path).quality
    except KeyError:
        return Quality()


def check(
    run_id: str,
    *,
    database_url: str | None = None,
    sources_path: str | Path | None = None,
) -> CheckResult:
    """Judge the run against its source's thresholds; raise ``QualityGateFailed`` if it fails.

    The verdict is committed before raising, so ``newsflow status`` and the ``crawl_runs``
    row say why the run failed even though the task itself ends in an exception.
    """
    with session_scope(get_engine(database_url)) as session:
        run = get_run(session, run_id)
        source_key = run.source.key
        thresholds = _thresholds(source_key, sources_path)
        metrics = collect_metrics(session, run)
        result = verdict(metrics, thresholds)
        run.quality = result
        run.stage = "check"
        if result["passed"]:
            if run.status == "failed":  # an earlier check failed; thresholds or data changed since
                run.status = "running"
                run.error = None
                run.finished_at = None
        else:
            error = QualityGateFailed(source_key, run_id, result["failures"])
            run.status = "failed"
            run.error = str(error)
    if not result["passed"]:
        raise QualityGateFailed(source_key, run_id, result["failures"])
    return CheckResult(run_id, source_key, True, [], result["metrics"])


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def publish(run_id: str, *, database_url: str | None = None) -> dict[str, Any]:
    """Finalise the run row and return the Asset event ``extra`` (JSON-safe).

    A run already marked failed (e.g. by the quality gate) stays failed: publishing records
    the end of the run, it does not overrule the verdict.
    """
    with session_scope(get_engine(database_url)) as session:
        run = get_run(session, run_id)
        if run.status != "failed":
            run.status = "success"
        run.stage = "publish"
        if run.finished_at is None:
            run.finished_at = utcnow()
        return {
            "source": run.source.key,
            "run_id": run.run_id,
            "kind": run.kind,
            "status": run.status,
            "window_start": _iso(run.window_start),
            "window_end": _iso(run.window_end),
            "started_at": _iso(run.started_at),
            "finished_at": _iso(run.finished_at),
            "pages_fetched": run.pages_fetched,
            "pages_failed": run.pages_failed,
            "articles_new": run.articles_new,
            "articles_updated": run.articles_updated,
            "articles_unchanged": run.articles_unchanged,
            "articles_duplicate": run.articles_duplicate,
            "articles_rejected": run.articles_rejected,
        }


def fail_run(run_id: str, error: str, *, database_url: str | None = None) -> bool:
    """Mark a run failed with ``error`` (task failure callbacks); False when there is no such run."""
    with session_scope(get_engine(database_url)) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one_or_none()
        if run is None:
            return False
        if run.status != "failed" or not run.error:  # keep the first, most specific cause
            run.error = redact(error)[:10_000]
        run.status = "failed"
        if run.finished_at is None:
            run.finished_at = utcnow()
        return True
