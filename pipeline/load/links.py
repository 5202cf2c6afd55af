"""The related-article graph: ``crawl_links`` + ``ExtractedArticle.links`` -> ``article_links``.

An edge is keyed on (from article, target URL hash). The target's article id is filled when the
target is already stored, and later — by :func:`resolve_incoming` — when the target arrives in
a later batch or run, so consumers can always join ``to_article_id`` without URL matching.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, or_, select, update

from pipeline.db.dialect import Insert
from pipeline.db.models import Article, ArticleLink, CrawlLink
from pipeline.load.bulk import chunk_size, insert_rows, member_of
from pipeline.load.prepare import cached_canonicalize
from pipeline.urls import url_hash


@dataclass(frozen=True)
class Edge:
    from_article_id: int
    to_url: str
    kind: str
    seen_at: datetime


def _chunks(values: Sequence[str], size: int = 2000) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def crawl_edges(conn: Connection, run_pk: int, aliases: Mapping[str, tuple[int, datetime]]) -> list[Edge]:
    """The run's crawler edges leaving the batch's articles (matched on any URL alias)."""
    keys = sorted(aliases)
    edges: list[Edge] = []
    for chunk in _chunks(keys, chunk_size(conn)):
        for from_hash, to_url, kind in conn.execute(
            select(CrawlLink.from_url_hash, CrawlLink.to_url, CrawlLink.kind).where(
                CrawlLink.run_id == run_pk, member_of(conn, CrawlLink.from_url_hash, chunk)
            )
        ):
            article_id, seen_at = aliases[from_hash]
            edges.append(Edge(article_id, to_url, kind, seen_at))
    return edges


def store_links(conn: Connection, edges: Sequence[Edge]) -> int:
    """Upsert edges, resolving targets already stored; returns how many edges were given."""
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for edge in edges:
        try:
            target = cached_canonicalize(edge.to_url)  # targets are often the run's articles
        except ValueError:
            continue  # unparseable link text from a page; not an edge
        if not target.startswith(("http://", "https://")):
            continue
        key = url_hash(target)
        rows.setdefault(
            (edge.from_article_id, key),
            {
                "from_article_id": edge.from_article_id,
                "to_url": target,
                "to_url_hash": key,
                "to_article_id": None,
                "kind": edge.kind[:20],
                "first_seen_at": edge.seen_at,
                "last_seen_at": edge.seen_at,
            },
        )
    if not rows:
        return 0
    targets: dict[str, int] = {}
    for chunk in _chunks(sorted({row["to_url_hash"] for row in rows.values()}), chunk_size(conn)):
        targets.update(
            (key, article_id)
            for article_id, key in conn.execute(
                select(Article.id, Article.url_hash).where(member_of(conn, Article.url_hash, chunk))
            )
        )
    values = []
    for (from_id, key), row in sorted(rows.items()):
        target_id = targets.get(key)
        if target_id == from_id:
            continue  # a page linking to itself is not a relation
        row["to_article_id"] = target_id
        values.append(row)
    if not values:
        return 0

    def on_conflict(stmt: Insert) -> Any:
        ex, cur = stmt.excluded, stmt.table.c
        newer = ex.last_seen_at > cur.last_seen_at
        resolved = and_(cur.to_article_id.is_(None), ex.to_article_id.is_not(None))
        return stmt.on_conflict_do_update(
            index_elements=[cur.from_article_id, cur.to_url_hash],
            set_={
                "last_seen_at": case((newer, ex.last_seen_at), else_=cur.last_seen_at),
                "to_article_id": case((resolved, ex.to_article_id), else_=cur.to_article_id),
            },
            where=or_(newer, resolved),
        )

    insert_rows(conn, ArticleLink.__table__, values, on_conflict)  # type: ignore[arg-type]
    return len(values)


def resolve_incoming(conn: Connection, url_hashes: Sequence[str]) -> None:
    """Point dangling edges at articles that have just been stored."""
    target = select(Article.id).where(Article.url_hash == ArticleLink.to_url_hash).scalar_subquery()
    for chunk in _chunks(sorted(url_hashes), chunk_size(conn)):
        conn.execute(
            update(ArticleLink)
            .where(ArticleLink.to_article_id.is_(None), member_of(conn, ArticleLink.to_url_hash, chunk))
            .values(to_article_id=target)
        )
