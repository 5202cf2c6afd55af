"""What earlier runs know about each URL of a source: validators, dates, last body.

Loaded once per run (one grouped query) so the crawl decides per discovered URL, without a
database round trip, whether to skip it, refetch it conditionally, or fetch it fresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, aliased

from crawlers.dates import parse_date
from pipeline.db.models import Article, Fetch

OK_OUTCOMES = ("fetched", "not_modified")


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


@dataclass(frozen=True)
class Decision:
    """What to do with a discovered URL: ``fetch`` fresh, ``refetch`` conditionally, or ``skip``."""

    action: str
    reason: str
    known: Known | None = None

    def request_headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.action == "refetch" and self.known is not None:
            if self.known.etag:
                headers["If-None-Match"] = self.known.etag
            if self.known.last_modified:
                headers["If-Modified-Since"] = self.known.last_modified
        return headers


def load_known(engine: Engine, source_id: int, exclude_run_id: int | None = None) -> dict[str, Known]:
    """Latest successful fetch per URL hash of the source, with the article's stored date."""
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
    body_fetch = aliased(Fetch)
    query = (
        select(
            Fetch.url_hash,
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
            body_fetch.warc_path.label("body_path"),
            body_fetch.warc_offset.label("body_offset"),
        )
        .join(sub, sub.c.last_id == Fetch.id)
        .outerjoin(Article, Article.canonical_url == Fetch.canonical_url)
        .outerjoin(body_sub, body_sub.c.url_hash == Fetch.url_hash)
        .outerjoin(body_fetch, body_fetch.id == body_sub.c.body_id)
    )
    known: dict[str, Known] = {}
    with Session(engine) as session:
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
            )
    return known


def decide(
    known: Known | None,
    *,
    now: datetime,
    recrawl_days: float,
    force: bool,
    published_hint: datetime | None = None,
    updated_hint: datetime | None = None,
) -> Decision:
    """Skip stored, unchanged, old articles; conditionally refetch recent or changed ones.

    "Changed" is a discovery hint (sitemap ``lastmod``, Atom ``updated``) newer than the
    modification time known from earlier runs (else than our last fetch); "recent" is the
    publication date (hint, stored article, else first sighting) within ``recrawl_days`` of
    ``now`` (the run's reference time: its window end, else the wall clock).
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
    published = published_hint or known.published or known.first_seen
    if published >= now - timedelta(days=recrawl_days):
        return Decision("refetch", "recent", known)
    return Decision("skip", "stored and not recent", known)
