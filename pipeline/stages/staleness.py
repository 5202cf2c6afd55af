"""Staleness: which sources stored nothing new for longer than they usually go quiet.

A source whose site moved, blocked us or changed its feed URLs often fails no gate: its runs
succeed and simply find nothing new. What tells ops is time: the gaps between a source's runs
that stored new articles have a usual length; a current gap several times longer is worth an
alert. ``news_staleness`` (hourly) runs :func:`stale_sources` and fails, naming each quiet
source, so the DAGs' failure notifiers deliver the alert.
"""

from __future__ import annotations

import itertools
import statistics
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from pipeline.config import load_sources
from pipeline.db.engine import get_engine, session_scope
from pipeline.db.models import CrawlRun, Source
from pipeline.jsonout import iso_z
from pipeline.runs import utcnow

#: A source is stale when its current quiet time exceeds this many usual gaps ...
FACTOR = 3.0
#: ... and this absolute minimum (hourly sources publish in bursts).
MIN_QUIET = timedelta(hours=6)
#: Runs with new articles needed before a usual gap means anything.
MIN_HISTORY = 4
#: The recent runs with new articles the usual gap is computed from.
HISTORY = 30


@dataclass(frozen=True)
class Staleness:
    """One quiet source: since when, and how long its usual gap is."""

    source: str
    last_new: datetime
    quiet_hours: float
    usual_gap_hours: float

    def __str__(self) -> str:
        return (
            f"{self.source}: nothing new for {self.quiet_hours:.1f} h (usual gap {self.usual_gap_hours:.1f} h,"
            f" last new article stored {self.last_new.isoformat(timespec='minutes')})"
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["last_new"] = iso_z(self.last_new)
        return data


def usual_gap(times: list[datetime]) -> timedelta | None:
    """The median gap between consecutive times (newest first); ``None`` without enough history."""
    if len(times) < MIN_HISTORY:
        return None
    gaps = [(a - b).total_seconds() for a, b in itertools.pairwise(times)]
    return timedelta(seconds=statistics.median(gaps))


def stale_sources(
    *,
    now: datetime | None = None,
    factor: float = FACTOR,
    database_url: str | None = None,
    sources_path: str | Path | None = None,
) -> list[Staleness]:
    """The active sources (not paused in sources.yaml) that are quiet for too long."""
    now = now or utcnow()
    active = [s.key for s in load_sources(sources_path).sources if not s.schedule.paused]
    stale = []
    with session_scope(get_engine(database_url)) as session:
        for key in active:
            finished = list(
                session.scalars(
                    select(CrawlRun.finished_at)
                    .join(Source, Source.id == CrawlRun.source_id)
                    .where(
                        Source.key == key,
                        CrawlRun.status == "success",
                        CrawlRun.articles_new > 0,
                        CrawlRun.finished_at.is_not(None),
                    )
                    .order_by(CrawlRun.finished_at.desc())
                    .limit(HISTORY)
                )
            )
            times = [t for t in finished if t is not None]  # aware UTC on both backends (UTCDateTime)
            gap = usual_gap(times)
            if gap is None:
                continue
            last = times[0]
            quiet = now - last
            if quiet > max(gap * factor, MIN_QUIET):
                stale.append(Staleness(key, last, quiet.total_seconds() / 3600, gap.total_seconds() / 3600))
    return stale
