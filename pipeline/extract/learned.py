"""Site-learned boilerplate: lines that recur across many articles of one source.

Every outlet has its own promo lines ("CLICK HERE TO READ MORE FROM THE X", a standard
sign-off, a newsletter plug) that no generic rule can list. A short line found on several
articles of the same source in one run is boilerplate of that source. State lives in the
``boilerplate_lines`` table, bounded per source (:data:`MAX_LINES_PER_SOURCE`).

Idempotency: ``pages_seen`` is the largest number of distinct pages of one run that showed
the line, updated with ``max()``, so re-running a run never inflates the evidence and the
same run always yields the same records.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from pipeline.db.dialect import dialect_insert, greatest
from pipeline.db.models import BoilerplateLine
from pipeline.extract.cleaning import line_hash, normalise_line

MIN_PAGES = 3  # a line must be seen on at least this many pages of one run
MIN_SHARE = 0.2  # ... and on this share of the run's article pages
MAX_LINE_CHARS = 300  # long paragraphs are content, even when repeated (syndication)
MAX_LINES_PER_SOURCE = 1000


@dataclass(frozen=True)
class LineEvidence:
    """Per-run counts: line hash -> (sample text, distinct pages showing it)."""

    pages: int
    counts: dict[str, tuple[str, int]]


def candidate_lines(text: str) -> dict[str, str]:
    """Short lines of one article text, keyed by hash (each counted once per page)."""
    out: dict[str, str] = {}
    for raw in text.split("\n\n"):
        line = normalise_line(raw)
        if line and len(line) <= MAX_LINE_CHARS:
            out.setdefault(line_hash(line), line)
    return out


class LineTally:
    """Per-run line evidence, one page at a time and lean on memory.

    A line seen once is kept as its hash only (most short lines are unique to their page);
    a sample of the text is kept once a second page shows it, and only such lines count as
    evidence: a line on a single page can never reach ``MIN_PAGES``.
    """

    def __init__(self) -> None:
        self.pages = 0
        self._once: set[str] = set()
        self._counts: dict[str, int] = {}
        self._samples: dict[str, str] = {}

    def add(self, text: str) -> None:
        self.pages += 1
        for key, line in candidate_lines(text).items():
            if key in self._counts:
                self._counts[key] += 1
            elif key in self._once:
                self._once.discard(key)
                self._counts[key] = 2
                self._samples[key] = line
            else:
                self._once.add(key)

    def evidence(self) -> LineEvidence:
        return LineEvidence(self.pages, {k: (self._samples[k], n) for k, n in self._counts.items()})


def _upsert(session: Session, source_id: int, key: str, sample: str, seen: int, score: float) -> None:
    from pipeline.runs import utcnow

    now = utcnow()
    values = {
        "source_id": source_id,
        "line_hash": key,
        "sample": sample,
        "pages_seen": seen,
        "score": score,
        "first_seen_at": now,
        "last_seen_at": now,
    }
    stmt = dialect_insert(session, BoilerplateLine).values(values)
    excluded = stmt.excluded
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=["source_id", "line_hash"],
            set_={
                # max(), not sum: counts of a rerun must not add up (reruns are idempotent).
                "pages_seen": greatest(session, BoilerplateLine.pages_seen, excluded.pages_seen),
                "score": greatest(session, BoilerplateLine.score, excluded.score),
                "last_seen_at": excluded.last_seen_at,
            },
        )
    )


def record(session: Session, source_id: int, evidence: LineEvidence) -> None:
    """Merge one run's evidence into the table and keep it bounded."""
    if evidence.pages == 0:
        return
    for key, (sample, seen) in sorted(evidence.counts.items()):
        _upsert(session, source_id, key, sample, seen, round(seen / evidence.pages, 4))
    total = session.scalar(select(func.count()).where(BoilerplateLine.source_id == source_id)) or 0
    if total > MAX_LINES_PER_SOURCE:
        keep = select(BoilerplateLine.id).where(BoilerplateLine.source_id == source_id)
        keep = keep.order_by(BoilerplateLine.pages_seen.desc(), BoilerplateLine.last_seen_at.desc())
        keep_ids = set(session.scalars(keep.limit(MAX_LINES_PER_SOURCE)))
        session.execute(
            delete(BoilerplateLine).where(
                BoilerplateLine.source_id == source_id, BoilerplateLine.id.not_in(keep_ids)
            )
        )


def learned_hashes(session: Session, source_id: int) -> frozenset[str]:
    """Hashes of the lines currently judged boilerplate for the source."""
    rows = session.scalars(
        select(BoilerplateLine.line_hash).where(
            BoilerplateLine.source_id == source_id,
            BoilerplateLine.pages_seen >= MIN_PAGES,
            BoilerplateLine.score >= MIN_SHARE,
        )
    )
    return frozenset(rows)


def strip_learned(text: str, learned: frozenset[str]) -> tuple[str, list[str]]:
    """Remove learned lines from an article text; return (text, removed lines)."""
    if not learned:
        return text, []
    kept: list[str] = []
    removed: list[str] = []
    for raw in text.split("\n\n"):
        line = normalise_line(raw)
        if not line:
            continue
        (removed if len(line) <= MAX_LINE_CHARS and line_hash(line) in learned else kept).append(line)
    return "\n\n".join(kept), removed
