"""The revisit schedule: when a stored article is asked again, and which ones this run asks.

Stories change most while young (corrections in the first hours, updates over the first
days) and retractions follow the same curve, so each stored article is refetched
conditionally at growing ages after publication (``limits.revisit``, e.g. 1 h, 3 h, 12 h,
1 d, ... 30 d) and never after the last one. The article is *due* when a schedule age ``s``
lies between the age of our last visit and its age now (``last_visit_age < s <= age_now``);
its due time is ``born + s`` for the smallest such ``s``. A 304 costs one small request, so
the cost is bounded by the schedule's length per article plus ``max_revisits_per_run`` per
run; when more are due, the most overdue go first and the rest wait for the next run.

The candidates come from the database snapshot (:func:`crawlers.state.load_known`: every
stored article of the source), not from what today's surfaces list, so an article that
dropped off the feed is still revisited.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from crawlers.state import Known


def next_due(
    known: Known, schedule: Sequence[timedelta], published_hint: datetime | None = None
) -> datetime | None:
    """When ``known`` is next due: ``born + s`` for the first age ``s`` past our last visit.

    ``None`` when the schedule is exhausted (the article is older than its last age at our
    last visit), so an old article costs nothing.
    """
    born = schedule_origin(known.published or published_hint, known.first_seen, known.first_modified)
    visited_age = known.schedule_visit - born
    for age in schedule:
        if age > visited_age:
            return born + age
    return None


#: A date without a time (``/2026/09/30/`` in the URL, a date-only meta) is often the outlet's
#: local date: the story went live anywhere from 14 h before that midnight (UTC+14) to the end
#: of the day at UTC-12, 38 h after it.
DATE_EARLIEST = timedelta(hours=14)
DATE_ONLY_SPAN = timedelta(hours=38)


def schedule_origin(
    published: datetime | None, first_seen: datetime, first_modified: datetime | None = None
) -> datetime:
    """When the story went live, as well as we know: the age origin of the schedule.

    A publication time is trusted unless it is later than our first sighting (a future-dated
    page). A bare date (midnight UTC) can be a day and a half off, which would shift every
    revisit past the edits it is meant to catch (an edit at 5 d checked at 4 d 1 h and then at
    10 d). Then the best witness inside the span the date allows wins: the page's own modified
    time when we first stored it (never before publication, often equal to it), else our first
    sighting (at most one run interval after publication for a story seen while new).
    """
    if published is None:
        return first_seen
    if _date_only(published):
        earliest, latest = published - DATE_EARLIEST, published + DATE_ONLY_SPAN
        witnesses = [t for t in (first_modified, first_seen) if t is not None and earliest <= t <= latest]
        if witnesses:
            return min(witnesses)
        return published
    return min(published, first_seen)


def _date_only(value: datetime) -> bool:
    return value.hour == value.minute == value.second == value.microsecond == 0


@dataclass(frozen=True)
class DueRevisit:
    """One stored article picked for a revisit this run."""

    url: str
    url_hash: str
    due_at: datetime
    known: Known


@dataclass(frozen=True)
class RevisitPlan:
    """The run's revisits (most overdue first, at most the cap) and what had to wait."""

    selected: list[DueRevisit]
    deferred: list[DueRevisit]

    @cached_property
    def selected_hashes(self) -> set[str]:
        return {d.url_hash for d in self.selected}


def plan_revisits(
    known: dict[str, Known],
    schedule: Sequence[timedelta],
    *,
    now: datetime,
    cap: int,
    purged: Iterable[str] = (),
) -> RevisitPlan:
    """The stored articles due at ``now``, oldest due time first, at most ``cap`` of them.

    One request per article: when several URLs gave the same article (a redirect source,
    an AMP twin), the one visited last is asked again.
    Purged URLs are never planned.
    """
    tombstones = set(purged)
    by_article: dict[int | str, tuple[str, Known]] = {}
    for key, entry in known.items():
        if not entry.stored or entry.purged or key in tombstones or not entry.url:
            continue
        group: int | str = entry.article_id if entry.article_id is not None else key
        current = by_article.get(group)
        if current is None or entry.last_visit > current[1].last_visit:
            by_article[group] = (key, entry)
    due: list[DueRevisit] = []
    for key, entry in by_article.values():
        at = next_due(entry, schedule)
        if at is not None and at <= now:
            assert entry.url is not None
            due.append(DueRevisit(entry.url, key, at, entry))
    due.sort(key=lambda d: (d.due_at, d.url))
    return RevisitPlan(due[:cap], due[cap:])
