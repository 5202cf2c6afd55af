"""What earlier runs know about each URL of a source: validators, dates, last body.

Loaded once per run (a few grouped queries) so the crawl decides per discovered URL, without
a database round trip, whether to skip it, refetch it conditionally, or fetch it fresh; the
revisit schedule (:mod:`crawlers.revisits`) reads the same snapshot to pick the stored
articles due for a refetch, and the tombstones of purged stories come with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, or_, select
from sqlalchemy.orm import Session, aliased

from crawlers.dates import parse_date
from crawlers.revisits import next_due
from pipeline.db.models import Article, ArticlePurge, ArticleVersion, ExtractedRecord, Fetch

OK_OUTCOMES = ("fetched", "not_modified")
#: Outcomes of a request that really went out: the revisit schedule counts a 410 or a
#: timeout as a visit, so a removed story is not asked again every run until its next slot.
ATTEMPT_OUTCOMES = ("fetched", "not_modified", "error")
#: Extraction verdicts of a page that did not show the story (a broken CMS, a JS shell with no
#: body): such a revisit is asked again at the next run, for ``LOST_RETRY`` at most.
LOST_STATUSES = ("empty", "not_article", "error")
LOST_RETRY = timedelta(hours=12)
REVISIT_DUE = "revisit due"


@dataclass(frozen=True, slots=True)
class Known:
    """The latest successful fetch of one URL (by canonical-URL hash) in earlier runs."""

    etag: str | None
    last_modified: str | None
    fetched_at: datetime
    first_seen: datetime
    published: datetime | None
    body_hash: str | None
    was_article: bool
    body_location: tuple[str, int] | None = None  # WARC record of the last 200 response
    updated: datetime | None = None  # last known modification (feed/sitemap hint, stored article)
    stored: bool = False  # an ``articles`` row exists (the load stage has it)
    url: str | None = None  # the URL requested (what a scheduled revisit asks for again)
    article_id: int | None = None  # the stored article this URL gave
    last_attempt: datetime | None = None  # latest request of any outcome (a 410 counts)
    removed: bool = False  # the stored article is marked removed (410/404/notice page)
    purged: bool = False  # a takedown tombstone exists: never request it again
    first_modified: datetime | None = None  # the page's modified time when first stored
    last_counted_visit: datetime | None = None  # latest request that did not give a lost page
    first_lost_visit: datetime | None = None  # earliest lost request after ``last_counted_visit``

    @property
    def last_visit(self) -> datetime:
        """When the URL was last asked for (successful or not): the schedule's reference."""
        return max(self.fetched_at, self.last_attempt) if self.last_attempt else self.fetched_at

    @property
    def schedule_visit(self) -> datetime:
        """The visit the revisit schedule counts from.

        A revisit that fetched a page without the story (extraction empty / not an article)
        saw nothing: the story stays due and is asked again at the next runs, until
        ``LOST_RETRY`` after the first lost visit; then the lost visits count too, so a page
        broken for good costs a bounded number of requests per schedule age. The window runs
        from the first lost visit, not from the last visit that counted: a 20 d revisit comes
        ten days after the 10 d one, and measured from that the window was always over.
        """
        counted = self.last_counted_visit
        if counted is None or not self.last_visit_lost:
            return self.last_visit
        lost_since = self.first_lost_visit or self.last_visit
        if self.last_visit - lost_since > LOST_RETRY:
            return self.last_visit
        return counted

    @property
    def last_visit_lost(self) -> bool:
        """The latest request gave a page without the story (see :attr:`schedule_visit`)."""
        return self.last_counted_visit is not None and self.last_visit > self.last_counted_visit


@dataclass(frozen=True)
class Decision:
    """What to do with a discovered URL: ``fetch`` fresh, ``refetch`` conditionally, or ``skip``."""

    action: str
    reason: str
    known: Known | None = None

    def request_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if (
            self.action == "refetch"
            and self.known is not None
            and not self.known.removed
            and not self.known.last_visit_lost
        ):
            # A removed story is asked unconditionally: if it comes back unchanged, only a full
            # 200 lets the load restore it (a 304 carries no text to restore). So is a story
            # whose last page did not show it: a 304 against that page would count as seen.
            if self.known.etag:
                headers["If-None-Match"] = self.known.etag
            if self.known.last_modified:
                headers["If-Modified-Since"] = self.known.last_modified
        return headers


def load_purged(engine: Engine) -> frozenset[str]:
    """URL hashes of purged stories (``article_purges``): tombstones the crawl never requests."""
    with Session(engine) as session:
        return frozenset(session.scalars(select(ArticlePurge.url_hash)))


def load_known(engine: Engine, source_id: int, exclude_run_id: int | None = None) -> dict[str, Known]:
    """Latest successful fetch per URL hash of the source, with the article's stored date.

    Every stored article of the source is in the answer: one whose own URL has no usable
    fetch row (rows pruned, fetched under another URL) gets an entry from the article row,
    so the revisit schedule sees the whole database, not only URLs some surface lists.
    Entries of purged URLs are marked ``purged``.
    """
    latest = (
        select(
            Fetch.url_hash.label("url_hash"),
            func.max(Fetch.id).label("last_id"),
            func.min(Fetch.fetched_at).label("first_seen"),
        )
        .where(Fetch.source_id == source_id, Fetch.outcome.in_(OK_OUTCOMES), Fetch.status.in_((200, 304)))
        .group_by(Fetch.url_hash)
    )
    if exclude_run_id is not None:
        latest = latest.where(Fetch.run_id != exclude_run_id)
    sub = latest.subquery()
    bodies = (
        select(Fetch.url_hash.label("url_hash"), func.max(Fetch.id).label("body_id"))
        .where(Fetch.source_id == source_id, Fetch.status == 200, Fetch.warc_path.is_not(None))
        .group_by(Fetch.url_hash)
    )
    if exclude_run_id is not None:
        bodies = bodies.where(Fetch.run_id != exclude_run_id)
    body_sub = bodies.subquery()
    attempts = (
        select(Fetch.url_hash.label("url_hash"), func.max(Fetch.fetched_at).label("last_attempt"))
        .where(Fetch.source_id == source_id, Fetch.outcome.in_(ATTEMPT_OUTCOMES))
        .group_by(Fetch.url_hash)
    )
    if exclude_run_id is not None:
        attempts = attempts.where(Fetch.run_id != exclude_run_id)
    attempt_sub = attempts.subquery()
    counted = (
        select(Fetch.url_hash.label("url_hash"), func.max(Fetch.fetched_at).label("last_counted"))
        .outerjoin(ExtractedRecord, ExtractedRecord.fetch_id == Fetch.id)
        .where(
            Fetch.source_id == source_id,
            Fetch.outcome.in_(ATTEMPT_OUTCOMES),
            or_(ExtractedRecord.status.is_(None), ExtractedRecord.status.not_in(LOST_STATUSES)),
        )
        .group_by(Fetch.url_hash)
    )
    if exclude_run_id is not None:
        counted = counted.where(Fetch.run_id != exclude_run_id)
    counted_sub = counted.subquery()
    lost = (
        select(Fetch.url_hash.label("url_hash"), func.min(Fetch.fetched_at).label("first_lost"))
        .join(ExtractedRecord, ExtractedRecord.fetch_id == Fetch.id)
        .join(counted_sub, counted_sub.c.url_hash == Fetch.url_hash)
        .where(
            Fetch.source_id == source_id,
            Fetch.outcome.in_(ATTEMPT_OUTCOMES),
            ExtractedRecord.status.in_(LOST_STATUSES),
            Fetch.fetched_at > counted_sub.c.last_counted,
        )
        .group_by(Fetch.url_hash)
    )
    if exclude_run_id is not None:
        lost = lost.where(Fetch.run_id != exclude_run_id)
    lost_sub = lost.subquery()
    body_fetch = aliased(Fetch)
    first_version = (
        select(ArticleVersion.article_id, ArticleVersion.modified_at.label("first_modified"))
        .where(ArticleVersion.version == 1)
        .subquery()
    )
    query = (
        select(
            Fetch.url_hash,
            Fetch.url,
            Fetch.etag,
            Fetch.last_modified,
            Fetch.fetched_at,
            sub.c.first_seen,
            Fetch.hints,
            Fetch.body_hash,
            Fetch.is_article_candidate,
            Article.id.label("article_id"),
            Article.published_at,
            Article.modified_at,
            Article.removed_at,
            body_fetch.warc_path.label("body_path"),
            body_fetch.warc_offset.label("body_offset"),
            attempt_sub.c.last_attempt,
            first_version.c.first_modified,
            counted_sub.c.last_counted,
            lost_sub.c.first_lost,
        )
        .join(sub, sub.c.last_id == Fetch.id)
        .outerjoin(Article, Article.canonical_url == Fetch.canonical_url)
        .outerjoin(body_sub, body_sub.c.url_hash == Fetch.url_hash)
        .outerjoin(body_fetch, body_fetch.id == body_sub.c.body_id)
        .outerjoin(attempt_sub, attempt_sub.c.url_hash == Fetch.url_hash)
        .outerjoin(first_version, first_version.c.article_id == Article.id)
        .outerjoin(counted_sub, counted_sub.c.url_hash == Fetch.url_hash)
        .outerjoin(lost_sub, lost_sub.c.url_hash == Fetch.url_hash)
    )
    known: dict[str, Known] = {}
    with Session(engine) as session:
        purged = set(session.scalars(select(ArticlePurge.url_hash)))
        for row in session.execute(query):
            hints: dict[str, Any] = row.hints or {}
            published = row.published_at or parse_date(hints.get("published"))
            updates = [d for d in (row.modified_at, parse_date(hints.get("updated"))) if d is not None]
            known[row.url_hash] = Known(
                etag=row.etag,
                last_modified=row.last_modified,
                fetched_at=row.fetched_at,
                first_seen=row.first_seen,
                published=published,
                body_hash=row.body_hash,
                was_article=bool(row.is_article_candidate),
                body_location=(row.body_path, row.body_offset or 0) if row.body_path else None,
                updated=max(updates) if updates else None,
                stored=row.article_id is not None,
                url=row.url,
                article_id=row.article_id,
                last_attempt=row.last_attempt,
                removed=row.removed_at is not None,
                purged=row.url_hash in purged,
                first_modified=row.first_modified,
                last_counted_visit=row.last_counted,
                first_lost_visit=row.first_lost,
            )
        covered = {k.article_id for k in known.values() if k.article_id is not None}
        articles = session.execute(
            select(
                Article.id,
                Article.url_hash,
                Article.canonical_url,
                Article.published_at,
                Article.modified_at,
                Article.first_seen_at,
                Article.last_seen_at,
                Article.removed_at,
                first_version.c.first_modified,
            )
            .outerjoin(first_version, first_version.c.article_id == Article.id)
            .where(Article.source_id == source_id)
        )
        for art in articles:
            if art.id in covered or art.url_hash in known:
                continue
            known[art.url_hash] = Known(
                etag=None,
                last_modified=None,
                fetched_at=art.last_seen_at,
                first_seen=art.first_seen_at,
                published=art.published_at,
                body_hash=None,
                was_article=True,
                updated=art.modified_at,
                stored=True,
                url=art.canonical_url,
                article_id=art.id,
                removed=art.removed_at is not None,
                purged=art.url_hash in purged,
                first_modified=art.first_modified,
            )
    return known


def decide(
    known: Known | None,
    *,
    now: datetime,
    schedule: Sequence[timedelta],
    force: bool,
    published_hint: datetime | None = None,
    updated_hint: datetime | None = None,
) -> Decision:
    """Fetch new URLs; conditionally refetch changed or due ones; skip the rest.

    "Changed" is a discovery hint (sitemap ``lastmod``, Atom ``updated``) newer than the
    modification time known from earlier runs (else than our last fetch); "due" is the
    revisit schedule (:func:`crawlers.revisits.next_due`) at ``now``, the run's reference
    time (its window end, else :func:`pipeline.clock.now`). The spider keeps due *stored*
    articles to the run's revisit plan (capped), so a surface cannot exceed the cap.
    """
    if known is None:
        return Decision("fetch", "new")
    if known.was_article and not known.stored:
        # Fetched before but never loaded (a failed or dry run): a 304 would leave it unloaded.
        return Decision("fetch", "fetched before, not stored")
    if force:
        return Decision("refetch", "recrawl requested", known)
    if updated_hint is not None and updated_hint > (known.updated or known.fetched_at):
        return Decision("refetch", "updated since last fetch", known)
    due = next_due(known, schedule, published_hint)
    if due is not None and due <= now:
        return Decision("refetch", REVISIT_DUE, known)
    return Decision("skip", "stored and not due", known)
