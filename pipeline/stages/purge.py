"""``newsflow purge``: take a story down for good (a takedown request, a legal order).

What a purge removes, and what it keeps:

- the article row stays (so the consumer view can say what happened) with its title, URL,
  dates, authors, section, tags and language; its text, description and image become empty,
  its fingerprint and cluster are dropped, ``removed_at`` is set (kept if the story was
  already gone from the web) and ``removal_reason`` is ``purged: <reason>``. Search entries
  follow the text (triggers); ``newsflow search`` leaves removed stories out anyway;
- every ``article_versions`` row of the article is deleted, and its outgoing links;
- every fetch of the URL (all runs, aliases included): the extraction record's JSON is
  dropped, the body hash cleared, ``hints["purged"]`` says when and why, and the WARC
  response record is overwritten in place by a same-length notice (:mod:`pipeline.warcpurge`):
  the fetch's WARC location stays valid and now holds the notice;
- one ``article_purges`` row: the audit record and the tombstone. The crawler never requests
  a tombstoned URL, the load never stores it again (its records are rejected as ``purged``).

Order and crash safety: the WARC records are rewritten first (each write is idempotent), then
one database transaction does everything else and writes the tombstone last. A purge that
dies half-way has no tombstone, so running it again finishes the job; a purge of a URL that
has a tombstone is a no-op that says "already purged".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select, update

from pipeline.db.dialect import dialect_insert
from pipeline.db.engine import get_engine
from pipeline.db.models import (
    Article,
    ArticleLink,
    ArticlePurge,
    ArticleVersion,
    ExtractedRecord,
    Fetch,
    NearDupBucket,
)
from pipeline.errors import UsageError
from pipeline.load.prepare import content_hash
from pipeline.load.upsert import PURGED_PREFIX
from pipeline.runs import utcnow
from pipeline.urls import canonicalize, url_hash
from pipeline.warcpurge import RecordPurge, purge_record


@dataclass(frozen=True)
class PurgeResult:
    """What a purge did (``already_purged``: nothing now, the audit row of the first purge)."""

    url: str
    url_hash: str
    article_id: int | None
    reason: str
    purged_at: str
    already_purged: bool
    versions_deleted: int = 0
    warc_records_purged: int = 0
    warc_records_zeroed: int = 0
    fetches: int = 0
    records_cleared: int = 0
    warc_notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Target:
    url: str
    url_hash: str
    article_id: int | None
    title: str | None
    hashes: frozenset[str]
    urls: frozenset[str]


def _hash_of(url: str) -> str | None:
    try:
        return url_hash(canonicalize(url))
    except ValueError:
        return None


def _target(conn: Connection, url: str | None, article_id: int | None) -> _Target:
    a = Article
    if article_id is not None:
        row = conn.execute(
            select(a.id, a.url_hash, a.url, a.canonical_url, a.title).where(a.id == article_id)
        ).first()
        if row is None:
            raise UsageError(f"no article {article_id} in the database")
    else:
        assert url is not None
        key = _hash_of(url)
        if key is None:
            raise UsageError(f"--url {url!r} is not a URL")
        row = conn.execute(
            select(a.id, a.url_hash, a.url, a.canonical_url, a.title).where(
                or_(a.url_hash == key, a.canonical_url == url, a.url == url)
            )
        ).first()
        if row is None:  # never stored: still purge its captures and keep it out for good
            return _Target(url, key, None, None, frozenset({key}), frozenset({url, canonicalize(url)}))
    urls = {row.url, row.canonical_url} | ({url} if url else set())
    hashes = {row.url_hash} | {h for h in map(_hash_of, urls) if h}
    return _Target(row.canonical_url, row.url_hash, row.id, row.title, frozenset(hashes), frozenset(urls))


def _fetches(conn: Connection, target: _Target) -> list[Any]:
    """Every fetch of the story: by URL hash, plus the fetches its rows name (and their aliases)."""
    named: set[int] = set()
    if target.article_id is not None:
        named.update(
            i
            for i in conn.execute(select(Article.fetch_id).where(Article.id == target.article_id)).scalars()
            if i
        )
        named.update(
            i
            for i in conn.execute(
                select(ArticleVersion.fetch_id).where(ArticleVersion.article_id == target.article_id)
            ).scalars()
            if i
        )
    hashes = set(target.hashes)
    if named:
        hashes.update(conn.execute(select(Fetch.url_hash).where(Fetch.id.in_(sorted(named)))).scalars())
    f = Fetch
    return list(
        conn.execute(
            select(f.id, f.url, f.final_url, f.status, f.warc_path, f.warc_offset, f.warc_length, f.hints)
            .where(or_(f.url_hash.in_(sorted(hashes)), f.id.in_(sorted(named) or [0])))
            .order_by(f.warc_path, f.warc_offset)
        ).all()
    )


def _already(conn: Connection, hashes: list[str]) -> PurgeResult | None:
    """The result of the first purge of the story, when it has a tombstone."""
    row = conn.execute(
        select(ArticlePurge.__table__).where(ArticlePurge.url_hash.in_(hashes)).order_by(ArticlePurge.id)
    ).first()
    if row is None:
        return None
    return PurgeResult(
        url=row.url,
        url_hash=row.url_hash,
        article_id=row.article_id,
        reason=row.reason,
        purged_at=row.purged_at.isoformat(),
        already_purged=True,
        versions_deleted=row.versions_deleted,
        warc_records_purged=row.warc_records_purged,
    )


def purge(
    *,
    url: str | None = None,
    article_id: int | None = None,
    reason: str,
    database_url: str | None = None,
) -> PurgeResult:
    """Purge one story (by URL or article id); idempotent. See the module docstring."""
    if (url is None) == (article_id is None):
        raise UsageError("name the story with exactly one of --url or --article")
    reason = " ".join((reason or "").split())
    if not reason:
        raise UsageError("--reason is required: the audit row records why the story was purged")
    engine = get_engine(database_url)
    now = utcnow()
    with engine.connect() as conn:
        target = _target(conn, url, article_id)
        earlier = _already(conn, sorted(target.hashes))
        if earlier is not None:
            return earlier
        fetches = _fetches(conn, target)
        conn.rollback()

    done: list[RecordPurge] = []
    for fetch in fetches:
        if fetch.warc_path and fetch.warc_offset is not None and fetch.warc_length:
            urls = {u for u in (fetch.url, fetch.final_url) if u}
            done.append(
                purge_record(fetch.warc_path, fetch.warc_offset, fetch.warc_length, urls, reason, now)
            )
    purged = sum(1 for d in done if d.outcome in ("purged", "already"))
    zeroed = sum(1 for d in done if d.outcome == "zeroed" or d.note == "zeroed")
    notes = [f"{d.path}@{d.offset}: {d.outcome} ({d.note})" for d in done if d.note]

    try:
        with engine.begin() as conn:
            versions, cleared = _write(conn, target, fetches, reason, now, purged)
    except _LostRace:  # a concurrent purge of the same story committed first
        with engine.connect() as conn:
            first = _already(conn, [target.url_hash])
        assert first is not None
        return first
    return PurgeResult(
        url=target.url,
        url_hash=target.url_hash,
        article_id=target.article_id,
        reason=reason,
        purged_at=now.isoformat(),
        already_purged=False,
        versions_deleted=versions,
        warc_records_purged=purged,
        warc_records_zeroed=zeroed,
        fetches=len(fetches),
        records_cleared=cleared,
        warc_notes=notes,
    )


class _LostRace(Exception):
    """Another purge of the same story inserted its tombstone first."""


def _write(
    conn: Connection, target: _Target, fetches: list[Any], reason: str, now: datetime, purged: int
) -> tuple[int, int]:
    """The database part, one transaction (the tombstone's insert first: SQLite writers write first)."""
    inserted = conn.execute(
        dialect_insert(conn, ArticlePurge.__table__)
        .values(
            article_id=target.article_id,
            url=target.url,
            url_hash=target.url_hash,
            reason=reason,
            purged_at=now,
            versions_deleted=0,
            warc_records_purged=purged,
        )
        .on_conflict_do_nothing(index_elements=["url_hash"])
        .returning(ArticlePurge.id)
    ).first()
    if inserted is None:
        raise _LostRace
    fetch_ids = [f.id for f in fetches]
    versions = _purge_rows(conn, target, fetch_ids, reason, now)
    conn.execute(update(ArticlePurge).where(ArticlePurge.id == inserted[0]).values(versions_deleted=versions))
    cleared = conn.execute(
        select(func.count()).where(ExtractedRecord.fetch_id.in_(fetch_ids or [0]))
    ).scalar_one()
    _mark_fetches(conn, fetches, reason, now)
    return versions, int(cleared)


def _purge_rows(conn: Connection, target: _Target, fetch_ids: list[int], reason: str, now: datetime) -> int:
    """Empty the article, drop its versions, links, fingerprint and extraction JSON; versions deleted."""
    if fetch_ids:
        conn.execute(
            update(ExtractedRecord).where(ExtractedRecord.fetch_id.in_(fetch_ids)).values(record=None)
        )
    if target.article_id is None:
        return 0
    a = Article
    conn.execute(
        update(a)
        .where(a.id == target.article_id)
        .values(
            text="",
            description=None,
            image_url=None,
            word_count=0,
            content_hash=content_hash(target.title, ""),
            minhash=None,
            cluster_id=None,
            removed_at=func.coalesce(a.removed_at, now),
            removal_reason=f"{PURGED_PREFIX} {reason}",
            updated_at=now,
        )
    )
    conn.execute(delete(NearDupBucket).where(NearDupBucket.article_id == target.article_id))
    conn.execute(delete(ArticleLink).where(ArticleLink.from_article_id == target.article_id))
    deleted = conn.execute(delete(ArticleVersion).where(ArticleVersion.article_id == target.article_id))
    return int(getattr(deleted, "rowcount", 0) or 0)


def _mark_fetches(conn: Connection, fetches: list[Any], reason: str, now: datetime) -> None:
    """Say on each fetch row that its payload was purged (its WARC location now holds the notice)."""
    note = f"{now.isoformat()}: {reason}"
    for fetch in fetches:
        hints = dict(fetch.hints or {})
        hints["purged"] = note
        conn.execute(update(Fetch).where(Fetch.id == fetch.id).values(hints=hints, body_hash=None))
