"""The article upsert: one ``INSERT … ON CONFLICT (url_hash) DO UPDATE`` per batch, both backends.

The statement itself decides, row by row and under the row lock the conflict takes, what a
record means for the stored article — which is what makes concurrent loads safe:

- *changed*: the content hash differs and the record is at least as recent as the newest
  sighting (or re-extracts the very fetch the stored content came from) → content columns are
  replaced and ``version`` goes up by exactly one, computed from the locked row;
- *newer*: a later sighting → ``last_seen_at`` moves forward (and nothing else);
- *older*: an earlier sighting (a backfill) → ``first_seen_at`` moves back;
- *restored*: the stored article is marked removed (``removed_at``) and the record was fetched
  after the removal → the removal is cleared, the record's content (changed or not) is stored
  and ``version`` goes up by one (its version row says ``restored`` when the text came back
  unchanged, ``content`` when it changed); a record fetched before the removal only moves the
  sightings;
- *purged* articles (``removal_reason`` starting ``purged:``, see :mod:`pipeline.stages.purge`)
  are never touched, whatever the record: a takedown stays taken down even when a load that
  read its records before the purge writes them after it;
- otherwise the row is not touched at all (``WHERE`` of the DO UPDATE), so a rerun writes nothing.

Rows come back (``RETURNING``) only when inserted or updated; a returned row whose ``fetch_id``
is the record's own fetch got its content from this statement: version 1 = new, else updated.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection, Table, and_, case, func, literal, not_, null, or_, select

from pipeline.db.dialect import Insert, dialect_insert
from pipeline.db.models import Article, ArticleVersion
from pipeline.load import events
from pipeline.load.bulk import insert_rows, member_of, staged_twin
from pipeline.load.prepare import PreparedArticle

# Replaced together when the content changes; provenance moves with the content it describes.
CONTENT_COLUMNS = (
    "url",
    "title",
    "authors",
    "published_at",
    "published_from",
    "modified_at",
    "modified_from",
    "language",
    "description",
    "section",
    "tags",
    "image_url",
    "is_paywalled",
    "is_complete",
    "text",
    "word_count",
    "content_hash",
    "minhash",
    "fetch_id",
    "run_id",
    "extractor_version",
)

# Copied from the article row into its version row; the version adds its ids and recording
# time. VERSION_COLUMNS is the column order of the PostgreSQL ``INSERT … SELECT``.
VERSION_COPIES = ("content_hash", "title", "text", "modified_at", "fetch_id", "extractor_version")
VERSION_COLUMNS = [
    "article_id",
    "version",
    *VERSION_COPIES,
    "recorded_at",
    "run_id",
    "event",
]

#: ``articles.removal_reason`` of a purged article starts with this (the upsert's guard).
PURGED_PREFIX = "purged:"

Outcome = Literal["new", "updated", "unchanged"]


@dataclass(frozen=True)
class Stored:
    """What the upsert did for one article of the batch."""

    article_id: int
    version: int
    outcome: Outcome


def _on_conflict(stmt: Insert) -> Any:
    table = stmt.table
    ex, cur = stmt.excluded, table.c
    newer = ex.last_seen_at > cur.last_seen_at
    older = ex.first_seen_at < cur.first_seen_at
    live = cur.removed_at.is_(None)
    restore = and_(cur.removed_at.is_not(None), ex.last_seen_at > cur.removed_at)
    purged = func.coalesce(cur.removal_reason, "").like(f"{PURGED_PREFIX}%")
    changed = and_(
        live,
        ex.content_hash != cur.content_hash,
        or_(ex.last_seen_at >= cur.last_seen_at, ex.fetch_id == cur.fetch_id),
    )
    stores = or_(changed, restore)
    set_: dict[str, Any] = {name: case((stores, ex[name]), else_=cur[name]) for name in CONTENT_COLUMNS}
    set_["version"] = cur.version + case((stores, 1), else_=0)
    set_["updated_at"] = case((stores, ex.updated_at), else_=cur.updated_at)
    set_["last_seen_at"] = case((newer, ex.last_seen_at), else_=cur.last_seen_at)
    set_["first_seen_at"] = case((older, ex.first_seen_at), else_=cur.first_seen_at)
    set_["removed_at"] = case((restore, null()), else_=cur.removed_at)
    set_["removal_reason"] = case((restore, null()), else_=cur.removal_reason)
    return stmt.on_conflict_do_update(
        index_elements=[cur.url_hash], set_=set_, where=and_(not_(purged), or_(newer, older, stores))
    ).returning(cur.id, cur.url_hash, cur.version, cur.fetch_id)


@dataclass
class Upserted:
    """The upsert's answer: what it stored, and the ids of every row it returned."""

    stored: dict[str, Stored]  # url hash -> articles whose content this batch stored
    ids: dict[str, int]  # url hash -> id of every row inserted or updated (sightings too)


def upsert_articles(
    conn: Connection, batch: Sequence[PreparedArticle], now: datetime, run_pk: int
) -> Upserted:
    """Upsert ``batch`` (unique url hashes) and append the versions it created.

    Rows are sent in url-hash order so concurrent batches lock shared rows in the same order.
    Rows the statement did not touch (nothing new about them) are absent from the answer.
    """
    if not batch:
        return Upserted({}, {})
    ordered = sorted(batch, key=lambda p: p.url_hash)
    table: Table = Article.__table__  # type: ignore[assignment]
    returned = insert_rows(conn, table, [p.row for p in ordered], _on_conflict, order_by="url_hash").all()
    by_hash = {p.url_hash: p for p in ordered}
    stored: dict[str, Stored] = {}
    ids: dict[str, int] = {}
    for article_id, key, version, fetch_id in returned:
        ids[key] = article_id
        if fetch_id != by_hash[key].fetch_id:
            continue  # only a sighting moved; the stored content is another fetch's
        stored[key] = Stored(article_id, version, "new" if version == 1 else "updated")
    if stored:
        restored = events.restored_versions(
            conn,
            {
                done.article_id: (done.version, by_hash[key].row["content_hash"])
                for key, done in stored.items()
            },
        )
        _append_versions(conn, [by_hash[key] for key in stored], stored, now, run_pk, restored)
    return Upserted(stored, ids)


def _append_versions(
    conn: Connection,
    changed: Sequence[PreparedArticle],
    stored: dict[str, Stored],
    now: datetime,
    run_pk: int,
    restored: set[int],
) -> None:
    """One ``article_versions`` row per article whose content this batch stored.

    ``restored``: articles whose new version brings back, unchanged, a story that had been
    removed (event ``restored``; every other version is ``content``).

    On PostgreSQL the content is still in the batch's staging table, so the text crosses the
    wire once: the versions are an ``INSERT … SELECT`` joining it with the rows just written.
    """
    versions_table: Table = ArticleVersion.__table__  # type: ignore[assignment]
    if conn.dialect.name == "postgresql":
        twin = staged_twin(Article.__table__, list(changed[0].row))  # type: ignore[arg-type]
        a = Article.__table__.c  # type: ignore[attr-defined]
        source = (
            select(
                a.id,
                a.version,
                *(twin.c[name] for name in VERSION_COPIES),
                literal(now, ArticleVersion.recorded_at.type),
                literal(run_pk),
                case((member_of(conn, a.id, sorted(restored) or [0]), "restored"), else_="content"),
            )
            .join_from(twin, Article.__table__, a.url_hash == twin.c.url_hash)
            .where(member_of(conn, a.id, [done.article_id for done in stored.values()]))
            .where(a.fetch_id == twin.c.fetch_id)
        )
        conn.execute(_keep_first(dialect_insert(conn, versions_table).from_select(VERSION_COLUMNS, source)))
        return
    rows = [
        {
            "article_id": stored[p.url_hash].article_id,
            "version": stored[p.url_hash].version,
            **{name: p.row[name] for name in VERSION_COPIES},
            "recorded_at": now,
            "run_id": run_pk,
            "event": "restored" if stored[p.url_hash].article_id in restored else "content",
        }
        for p in changed
    ]
    insert_rows(conn, versions_table, rows, _keep_first)


def _keep_first(stmt: Insert) -> Any:
    """A version number is written once (a retried or concurrent batch adds nothing)."""
    return stmt.on_conflict_do_nothing(index_elements=["article_id", "version"])
