"""The soak scorecard: the news database against the living network's ground truth.

The living network (:mod:`pipeline.demo_site.living`) knows what every story said, and
whether it was live, at every instant; the runs left rows in the database. This module
compares the two after a simulated period and turns the difference into the numbers ops and
consumers care about: is every live story stored, were corrections and retractions captured
and how late, did the quality gate alarm exactly when something was broken, can every row be
traced to its WARC record, are there duplicates, and what did the revisits cost in requests.

It is pure bookkeeping over rows and the timeline (no HTTP), shared by ``benchmarks/soak.py``,
the short soak in the test suite and the Airflow soak, so all three are judged the same way.
"""

from __future__ import annotations

import re
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Engine, select

from pipeline.db.models import Article, ArticlePurge, ArticleVersion, CrawlRun, Fetch, Source
from pipeline.demo_site.living import LiveStory, Timeline, Version

_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class RunRecord:
    """One source run the harness made: when, which run, and what the pipeline concluded."""

    source: str
    at: datetime
    run_id: str
    status: str  # success | failed
    error: str | None = None


@dataclass
class Scorecard:
    """The figures of one soak; ``as_dict()`` is the ``--json`` object."""

    days: float
    runs: int
    stories_published: int
    completeness: float | None
    live_published: int
    live_stored: int
    current: float | None
    correction_capture: float | None
    corrections: int
    corrections_captured: int
    corrections_pending: int
    correction_latency_h: dict[str, float | None]
    correction_bound_violations: int
    retraction_capture: float | None
    retractions: int
    retractions_captured: int
    retractions_pending: int
    retraction_latency_h: dict[str, float | None]
    false_alarms: int
    missed_alarms: int
    broken_runs: int
    provenance_missing: int
    duplicates: int
    junk_articles: int
    requests_per_article: float | None
    surface_requests_per_run: float | None
    wall_seconds: float | None = None
    failures: list[str] = field(default_factory=list)  # one line per false/missed alarm (first 20)
    misses: list[str] = field(
        default_factory=list
    )  # stories not stored / corrections not captured (first 20)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def table(self) -> str:
        """A two-column text table for humans (the JSON has everything)."""
        rows: list[tuple[str, str]] = [
            ("simulated days / runs", f"{self.days:g} / {self.runs}"),
            ("stories published", str(self.stories_published)),
            ("completeness", f"{_fmt(self.completeness)} ({self.live_stored}/{self.live_published} live)"),
            ("current text", _fmt(self.current)),
            (
                "correction_capture",
                f"{_fmt(self.correction_capture)} ({self.corrections_captured}/{self.corrections},"
                f" {self.corrections_pending} not yet due)",
            ),
            ("correction_latency_h", _latency(self.correction_latency_h)),
            ("corrections beyond max(2h, age/4)", str(self.correction_bound_violations)),
            (
                "retraction_capture",
                f"{_fmt(self.retraction_capture)} ({self.retractions_captured}/{self.retractions},"
                f" {self.retractions_pending} not yet due)",
            ),
            ("retraction_latency_h", _latency(self.retraction_latency_h)),
            ("false_alarms", str(self.false_alarms)),
            ("missed_alarms", f"{self.missed_alarms} (of {self.broken_runs} broken runs)"),
            ("provenance_missing", str(self.provenance_missing)),
            ("duplicates", str(self.duplicates)),
            ("junk_articles", str(self.junk_articles)),
            ("requests_per_article", _fmt(self.requests_per_article)),
            ("surface_requests_per_run", _fmt(self.surface_requests_per_run)),
        ]
        if self.wall_seconds is not None:
            rows.append(("wall time", f"{self.wall_seconds:.0f} s"))
        width = max(len(name) for name, _ in rows)
        lines = [f"{name.ljust(width)}  {value}" for name, value in rows]
        for title, items in (("alarms", self.failures), ("misses", self.misses)):
            if items:
                lines.append(f"{title}:")
                lines.extend(f"  {item}" for item in items)
        return "\n".join(lines)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _latency(values: dict[str, float | None]) -> str:
    return f"median {_fmt(values.get('median'))} h, max {_fmt(values.get('max'))} h"


def _words(text: str) -> Counter[str]:
    return Counter(w.lower() for w in _WORD.findall(text))


def best_version(text: str, versions: Sequence[Version]) -> int:
    """Index of the version whose text the stored text resembles most (word-multiset Jaccard).

    Counts, not sets: a correction often repeats the words of the one before ("Correction: …
    cost about 2 percent less" then "… 6 percent less"), which a set cannot tell apart.
    """
    stored = _words(text)
    best, best_score = 0, -1.0
    for i, version in enumerate(versions):
        truth = _words("\n".join(version.paragraphs))
        union = sum((stored | truth).values())
        score = sum((stored & truth).values()) / union if union else 0.0
        if score > best_score:  # ties go to the earlier version: a capture must differ to count
            best, best_score = i, score
    return best


def _path_key(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.netloc.lower()}{parts.path.rstrip('/') or '/'}"


def correction_bound(age: timedelta) -> timedelta:
    """The issue's latency bound for a correction made at ``age``: max(2 h, age / 4)."""
    return max(timedelta(hours=2), age / 4)


def _hours(delta: timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def _summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"median": None, "max": None}
    return {"median": round(statistics.median(values), 2), "max": round(max(values), 2)}


@dataclass
class _Stored:
    article_id: int
    removed_at: datetime | None
    text: str
    versions: list[tuple[datetime, str, str]]  # (recorded_at, event, text), oldest first


def _stored_articles(engine: Engine) -> dict[str, list[_Stored]]:
    """Every article row with its versions, keyed by host+path of its URL and canonical URL."""
    by_key: dict[str, list[_Stored]] = defaultdict(list)
    versions: dict[int, list[tuple[datetime, str, str]]] = defaultdict(list)
    with engine.connect() as conn:
        for vrow in conn.execute(
            select(
                ArticleVersion.article_id,
                ArticleVersion.recorded_at,
                ArticleVersion.event,
                ArticleVersion.text,
            ).order_by(ArticleVersion.article_id, ArticleVersion.version)
        ):
            versions[vrow.article_id].append((vrow.recorded_at, vrow.event, vrow.text))
        for row in conn.execute(
            select(Article.id, Article.url, Article.canonical_url, Article.removed_at, Article.text)
        ):
            stored = _Stored(row.id, row.removed_at, row.text, versions.get(row.id, []))
            for key in {_path_key(row.url), _path_key(row.canonical_url)}:
                by_key[key].append(stored)
    return by_key


def score(
    engine: Engine,
    timeline: Timeline,
    base_urls: dict[str, str],
    runs: Sequence[RunRecord],
    *,
    end: datetime,
    broken: Iterable[tuple[str, datetime]],
    requests: Iterable[tuple[str, str, str, int]],
    wall_seconds: float | None = None,
) -> Scorecard:
    """Compare the database with the timeline at ``end`` (the last run's simulated time).

    ``broken`` holds (outlet, run time) of every run that was served a broken page (the
    network's ``served_broken()`` mapped to the run that fetched it); ``requests`` is the
    network's request log (outlet, method, target, status).
    """
    stored = _stored_articles(engine)
    stories = [s for s in timeline.stories if s.published <= end]
    matched: dict[int, LiveStory] = {}
    live_published = live_stored = current = 0
    corrections = captured = pending = violations = 0
    correction_latency: list[float] = []
    retractions = retracted = retractions_pending = 0
    retraction_latency: list[float] = []
    misses: list[str] = []

    for story in stories:
        url = story.url(base_urls[story.outlet])
        rows = stored.get(_path_key(url), [])
        for row in rows:
            matched.setdefault(row.article_id, story)
        article = rows[0] if rows else None
        if story.live_at(end):
            live_published += 1
            if article is not None and article.removed_at is None and article.text:
                live_stored += 1
                live = story.version_at(end)
                if live is not None and best_version(article.text, story.versions) == story.versions.index(
                    live
                ):
                    current += 1
            elif len(misses) < 20:
                state = "not stored" if article is None else "stored as removed"
                misses.append(f"{url}: live, {state}")
        for index, version in enumerate(story.versions[1:], start=1):
            if story.removal is not None and version.at >= story.removal.at:
                continue
            age = version.at - story.published
            if age > timedelta(days=30):
                continue
            bound = correction_bound(age)
            capture_at = _capture_time(article, story, index, version.at)
            if capture_at is None:
                if version.at + bound > end:
                    pending += 1
                    continue
                corrections += 1
                if len(misses) < 20:
                    misses.append(
                        f"{url}: correction at {version.at:%Y-%m-%d %H:%M} (age {_hours(age)} h) missed"
                    )
                continue
            corrections += 1
            captured += 1
            # While the outlet's CMS serves empty pages the corrected text is not on the web:
            # those hours do not count (the broken runs are scored as alarms instead).
            latency = (
                capture_at - version.at - _broken_overlap(timeline, story.outlet, version.at, capture_at)
            )
            correction_latency.append(_hours(latency))
            if latency > bound:
                violations += 1
                if len(misses) < 20:
                    misses.append(
                        f"{url}: correction at {version.at:%Y-%m-%d %H:%M} (age {_hours(age)} h) captured "
                        f"after {_hours(latency)} h, beyond {_hours(bound)} h"
                    )
        if story.removal is not None and story.removal.at <= end:
            removed_at = article.removed_at if article is not None else None
            if article is None:
                continue  # retracted before any run could store it: nothing to retract
            if removed_at is not None and removed_at >= story.removal.at:
                retractions += 1
                retracted += 1
                retraction_latency.append(_hours(removed_at - story.removal.at))
            elif story.removal.at + timedelta(hours=24) > end:
                retractions_pending += 1
            else:
                retractions += 1
                if len(misses) < 20:
                    misses.append(
                        f"{url}: retracted at {story.removal.at:%Y-%m-%d %H:%M}, still live in the database"
                    )

    with engine.connect() as conn:
        article_ids = set(conn.scalars(select(Article.id)))
        purged = set(conn.scalars(select(ArticlePurge.article_id)))
        provenance_missing = int(
            sum(
                1
                for row in conn.execute(
                    select(Article.id, Fetch.warc_path)
                    .select_from(Article)
                    .outerjoin(Fetch, Fetch.id == Article.fetch_id)
                )
                if row.id not in purged and not row.warc_path
            )
        )
        run_rows = {
            r.run_id: r
            for r in conn.execute(
                select(CrawlRun.run_id, CrawlRun.status, CrawlRun.error, Source.key).join(
                    Source, Source.id == CrawlRun.source_id
                )
            )
        }
    per_story: dict[tuple[str, str], int] = defaultdict(int)
    for story in matched.values():
        per_story[(story.outlet, story.id)] += 1
    article_rows_of_stories = len(matched)
    duplicates = article_rows_of_stories - len(per_story)
    junk = len(article_ids - set(matched))

    broken_runs = set(broken)
    false_alarms = missed_alarms = 0
    failures: list[str] = []
    for run in runs:
        status = run_rows[run.run_id].status if run.run_id in run_rows else run.status
        alarmed = status == "failed" or run.status == "failed"
        is_broken = (run.source, run.at) in broken_runs
        if alarmed and not is_broken:
            false_alarms += 1
            if len(failures) < 20:
                failures.append(f"false alarm {run.run_id}: {(run.error or '')[:300]}")
        elif is_broken and not alarmed:
            missed_alarms += 1
            if len(failures) < 20:
                failures.append(f"missed alarm {run.run_id}: broken pages served, run passed")

    story_paths = {(s.outlet, urlsplit(s.url(base_urls[s.outlet])).path) for s in timeline.stories}
    article_requests = surface_requests = 0
    for outlet, _method, target, _status in requests:
        path = urlsplit(target).path
        if path.startswith("/__"):
            continue
        if (outlet, path) in story_paths or (outlet, path.rstrip("/")) in story_paths:
            article_requests += 1
        else:
            surface_requests += 1
    return Scorecard(
        days=round((end - timeline.start).total_seconds() / 86400, 2),
        runs=len(runs),
        stories_published=len(stories),
        completeness=live_stored / live_published if live_published else None,
        live_published=live_published,
        live_stored=live_stored,
        current=current / live_stored if live_stored else None,
        correction_capture=captured / corrections if corrections else None,
        corrections=corrections,
        corrections_captured=captured,
        corrections_pending=pending,
        correction_latency_h=_summary(correction_latency),
        correction_bound_violations=violations,
        retraction_capture=retracted / retractions if retractions else None,
        retractions=retractions,
        retractions_captured=retracted,
        retractions_pending=retractions_pending,
        retraction_latency_h=_summary(retraction_latency),
        false_alarms=false_alarms,
        missed_alarms=missed_alarms,
        broken_runs=len({(r.source, r.at) for r in runs} & broken_runs),
        provenance_missing=provenance_missing,
        duplicates=duplicates,
        junk_articles=junk,
        requests_per_article=round(article_requests / len(stories), 2) if stories else None,
        surface_requests_per_run=round(surface_requests / len(runs), 2) if runs else None,
        wall_seconds=wall_seconds,
        failures=failures,
        misses=misses,
    )


def _broken_overlap(timeline: Timeline, outlet: str, start: datetime, end: datetime) -> timedelta:
    """How much of ``start``..``end`` the outlet's CMS spent broken (serving empty pages)."""
    total = timedelta(0)
    for incident in timeline.incidents:
        if incident.outlet != outlet or incident.kind != "broken_template":
            continue
        overlap = min(end, incident.end or end) - max(start, incident.start)
        total += max(overlap, timedelta(0))
    return total


def _capture_time(
    article: _Stored | None, story: LiveStory, index: int, made_at: datetime
) -> datetime | None:
    """When the database first held a version that reads like ``story.versions[index]``."""
    if article is None:
        return None
    for recorded_at, event, text in article.versions:
        if event == "removed" or recorded_at < made_at:
            continue
        if best_version(text, story.versions) == index:
            return recorded_at
    return None
