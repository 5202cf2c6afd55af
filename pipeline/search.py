"""Full-text search over the consumer interface, one API for both backends (export: :mod:`pipeline.export`).

PostgreSQL ranks with ``ts_rank_cd`` over ``search_vector`` (title weighted above description
above text, GIN-indexed, kept current by a trigger, in the article's own language); SQLite ranks
with FTS5's ``bm25`` over ``articles_fts`` (porter stemming plus a column of Snowball stems and
CJK bigrams, :mod:`pipeline.textsearch`) with the same column weights. Queries use web-search
syntax on both: words (all must match), ``"exact phrase"``, ``or``, ``-excluded``.

PostgreSQL search reads only the ``news_articles`` view, so the ``newsflow_reader`` role can
run it.

Near-duplicates are collapsed by default — a consumer never sees the same syndicated story
twice — keeping the best-ranked copy of each cluster. Removed stories (``removed_at`` set: gone
from the web, or purged) are left out unless asked for; the export shows every row with its
``removed_at``/``removal_reason``, so an incremental consumer sees removals too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, text

from pipeline import clock
from pipeline.db.engine import get_engine
from pipeline.db.types import UTCDateTime
from pipeline.errors import UsageError
from pipeline.jsonout import iso_z
from pipeline.limits import MAX_QUERY_CHARS, MAX_QUERY_TERMS, MAX_SEARCH_LIMIT, MAX_SINCE_HOURS
from pipeline.textsearch import PG_CONFIGS, SNOWBALL, has_cjk, pg_query_text, split_query_words, stem_words

SNIPPET_MARK = "**"
_RELATIVE = re.compile(r"^(\d+)\s*([hdw])$")


@dataclass(frozen=True)
class SearchHit:
    """One search result (one per near-duplicate cluster unless all copies were asked for)."""

    article_id: int
    source_key: str
    title: str | None
    url: str
    published_at: datetime | None
    rank: float
    cluster_id: int
    snippet: str
    removed_at: datetime | None = None
    removal_reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["published_at"] = iso_z(self.published_at)
        data["removed_at"] = iso_z(self.removed_at)
        return data


_TOKENS = re.compile(r'-?"[^"]*"?|\S+')


def check_query(query: str) -> None:
    """:class:`UsageError` for a query beyond the bounds above (checked before any SQL)."""
    if len(query) > MAX_QUERY_CHARS:
        raise UsageError(f"search query is {len(query):,} characters; at most {MAX_QUERY_CHARS:,}")
    terms = len(_TOKENS.findall(query))
    if terms > MAX_QUERY_TERMS:
        raise UsageError(f"search query has {terms} terms; at most {MAX_QUERY_TERMS}")


def parse_since(value: str | None, now: datetime | None = None) -> datetime | None:
    """``2026-05-01``, an ISO timestamp (naive = UTC) or a relative ``24h`` / ``7d`` / ``2w``."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    match = _RELATIVE.match(value.lower())
    if match:
        amount, unit = int(match.group(1)), match.group(2)
        hours = {"h": 1, "d": 24, "w": 24 * 7}[unit] * amount
        if hours > MAX_SINCE_HOURS:
            raise UsageError(f"--since {value!r} reaches back more than {MAX_SINCE_HOURS // 8766} years")
        return (now or clock.now()) - timedelta(hours=hours)
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"--since {value!r}: use a date (2026-05-01), an ISO time or 24h/7d/2w") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def to_fts5(query: str, words_of: Callable[[str], list[str]] | None = None) -> str | None:
    """Web-search syntax as a safe FTS5 expression (every term quoted: no syntax errors).

    ``words_of`` maps a term's text to the words to look for (stems, CJK bigrams); by default
    the term is left to FTS5's tokenizer. Returns None when nothing positive is left to match
    (e.g. only ``-excluded`` terms).
    """
    positives: list[str] = []
    negatives: list[str] = []
    for token in _TOKENS.findall(query):
        negate = token.startswith("-") and len(token) > 1
        body = token[1:] if negate else token
        if not negate and body.lower() == "or":
            if positives and positives[-1] != "OR":
                positives.append("OR")
            continue
        words = body.strip('"').replace('"', " ").strip()
        if not words or not re.search(r"\w", words):
            continue
        if words_of is not None:
            words = " ".join(words_of(words))
            if not words:
                continue
        term = f'"{words}"'
        (negatives if negate else positives).append(term)
    while positives and positives[-1] == "OR":
        positives.pop()
    if not positives:
        return None
    expression = " ".join(positives)
    for term in negatives:
        expression = f"({expression}) NOT {term}"
    return expression


def sqlite_match(query: str) -> tuple[str | None, str | None]:
    """The FTS5 expressions for the porter columns and for the ``terms`` column.

    The porter one is meant for articles without a Snowball language (English, undeclared,
    CJK); the ``terms`` one ORs the query stemmed in each Snowball language (stems are tagged
    with their language, so each variant only meets articles of its language) with CJK runs
    as bigram phrases. None where nothing can match.
    """
    porter = None if has_cjk(query) else to_fts5(query)  # unicode61 keeps a CJK run as one token
    variants: list[str] = []
    for code in sorted(SNOWBALL):

        def words_of(words: str, code: str = code) -> list[str]:
            out: list[str] = []
            for word in split_query_words(words):
                out.extend([word] if has_cjk(word) else stem_words(word, code))
            return out

        expression = to_fts5(query, words_of)
        if expression and expression not in variants:
            variants.append(expression)
    terms = " OR ".join(f"({v})" for v in variants) or None
    return (
        f"{{title description text}} : ({porter})" if porter else None,
        f"terms : ({terms})" if terms else None,
    )


def pg_tsquery(conn: Connection, query: str) -> tuple[str, str] | None:
    """The query per text-search configuration, and the OR of them all (for the GIN index).

    Each article is matched and ranked with the query analysed in its own language (the
    ``byconf`` JSON keyed by configuration): an OR across languages alone would let ``-word``
    in one language's stemming excuse a match in another's. CJK runs become the phrase of
    their bigrams first (the index holds bigrams).
    """
    rows = conn.execute(
        text(
            "SELECT cfg, websearch_to_tsquery(cfg::regconfig, :q)::text FROM unnest(CAST(:cfgs AS text[])) cfg"
        ),
        {"q": pg_query_text(query), "cfgs": sorted({"simple", *PG_CONFIGS.values()})},
    ).all()
    by_config = {cfg: tsq for cfg, tsq in rows if tsq}
    if not by_config:
        return None
    any_language = " | ".join(sorted({f"({tsq})" for tsq in by_config.values()}))
    return any_language, json.dumps(by_config)


def _filters(
    source: str | None, since: datetime | None, include_removed: bool = False, key_column: str = "s.key"
) -> str:
    clauses = [] if include_removed else ["a.removed_at IS NULL"]
    if source:
        clauses.append(f"{key_column} = :source")
    if since:
        clauses.append("COALESCE(a.published_at, a.first_seen_at) >= :since")
    return "".join(f" AND {clause}" for clause in clauses)


_RANKED = """
WITH hits AS (
    {hits}
), ranked AS (
    SELECT id, rank, cluster,
           ROW_NUMBER() OVER (PARTITION BY cluster ORDER BY rank DESC, id) AS nth
    FROM hits
)
SELECT id, rank, cluster FROM ranked {collapse}
ORDER BY rank DESC, id
LIMIT :limit
"""

_PG_OWN_QUERY = "CAST(CAST(:byconf AS jsonb) ->> newsflow_ts_config(a.language)::text AS tsquery)"

_PG_HITS = f"""
    SELECT a.article_id AS id, ts_rank_cd(a.search_vector, {_PG_OWN_QUERY}) AS rank, a.cluster_id AS cluster
    FROM news_articles a
    WHERE a.search_vector @@ CAST(:q AS tsquery) AND a.search_vector @@ {_PG_OWN_QUERY}{{filters}}
"""

_SQLITE_MATCH = """
    SELECT a.id, -bm25(articles_fts, 10.0, 4.0, 1.0, 1.0) AS rank, COALESCE(a.cluster_id, a.id) AS cluster
    FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid JOIN sources s ON s.id = a.source_id
    WHERE articles_fts MATCH {param}{where}{{filters}}
"""


def _sqlite_hits(porter: bool, terms: bool) -> str:
    """Porter matches for articles without a Snowball language, ``terms`` matches for all."""
    stemmed = ", ".join(f"'{code}'" for code in sorted(SNOWBALL))
    parts = []
    if porter:
        # The code the ``terms`` column was stemmed with (textsearch.language_code): an article
        # is matched through exactly one of the two, never neither (a 2-letter prefix took
        # 'fin' or 'fil' for Finnish, which has stems, while the terms column had none).
        where = f" AND newsflow_language_code(a.language) NOT IN ({stemmed})"
        parts.append(_SQLITE_MATCH.format(param=":match_porter", where=where))
    if terms:
        parts.append(_SQLITE_MATCH.format(param=":match_terms", where=""))
    union = "\n    UNION ALL\n".join(parts)
    # LIMIT -1 keeps SQLite from flattening the subquery into the aggregate (bm25 needs the MATCH).
    return f"SELECT id, MAX(rank) AS rank, cluster FROM ({union}\n    LIMIT -1) GROUP BY id, cluster"


_PG_DETAILS = f"""
SELECT a.article_id, a.source_key, a.title, a.url, a.published_at, a.removed_at, a.removal_reason,
       ts_headline(newsflow_ts_config(a.language), a.text, {_PG_OWN_QUERY},
                   'MaxFragments=1, MinWords=8, MaxWords=24, StartSel=**, StopSel=**') AS snippet
FROM news_articles a
WHERE a.article_id IN :ids
"""

_SQLITE_DETAILS = """
SELECT a.id, s.key, a.title, a.url, a.published_at, a.removed_at, a.removal_reason,
       snippet(articles_fts, 2, '**', '**', '…', 20) AS snippet
FROM articles_fts JOIN articles a ON a.id = articles_fts.rowid JOIN sources s ON s.id = a.source_id
WHERE articles_fts MATCH :q AND a.id IN :ids
"""


def _search(
    conn: Connection,
    query: str,
    source: str | None,
    since: datetime | None,
    limit: int,
    all_copies: bool,
    include_removed: bool = False,
) -> list[SearchHit]:
    postgres = conn.dialect.name == "postgresql"
    if not query.strip():
        return []
    params: dict[str, Any] = {"limit": limit}
    if postgres:
        analysed = pg_tsquery(conn, query)
        if analysed is None:
            return []
        params["q"], params["byconf"] = analysed
    else:
        porter, terms = sqlite_match(query)
        if porter is None and terms is None:
            return []
        # Only the expressions that exist are bound (the hits SQL names only those).
        params.update({"match_porter": porter} if porter else {})
        params.update({"match_terms": terms} if terms else {})
        params["q"] = " OR ".join(f"({m})" for m in (porter, terms) if m)  # the snippet's MATCH
    key_column = "a.source_key" if postgres else "s.key"
    hits_sql = _PG_HITS if postgres else _sqlite_hits("match_porter" in params, "match_terms" in params)
    hits = hits_sql.format(filters=_filters(source, since, include_removed, key_column))
    ranked_sql = text(_RANKED.format(hits=hits, collapse="" if all_copies else "WHERE nth = 1"))
    if source:
        params["source"] = source
    if since:
        ranked_sql = ranked_sql.bindparams(bindparam("since", type_=UTCDateTime()))
        params["since"] = since
    ranked = conn.execute(ranked_sql, params).all()
    if not ranked:
        return []
    details_sql = (
        text(_PG_DETAILS if postgres else _SQLITE_DETAILS)
        .bindparams(bindparam("ids", expanding=True))
        .columns(published_at=UTCDateTime(), removed_at=UTCDateTime())
    )
    detail_params: dict[str, Any] = {key: params[key] for key in ("q", "byconf") if key in params}
    details = {
        row[0]: row for row in conn.execute(details_sql, {**detail_params, "ids": [r.id for r in ranked]})
    }
    result = []
    for article_id, rank, cluster in ranked:
        row = details[article_id]
        result.append(
            SearchHit(
                article_id=article_id,
                source_key=row[1],
                title=row[2],
                url=row[3],
                published_at=row[4],
                rank=round(float(rank), 6),
                cluster_id=int(cluster),
                snippet=" ".join((row[7] or "").split()),
                removed_at=row[5],
                removal_reason=row[6],
            )
        )
    return result


def search(
    query: str,
    *,
    source: str | None = None,
    since: datetime | None = None,
    limit: int = 20,
    all_copies: bool = False,
    include_removed: bool = False,
    database_url: str | None = None,
) -> list[SearchHit]:
    """Best matches first; one hit per near-duplicate cluster unless ``all_copies``.

    Removed (and purged) stories are left out unless ``include_removed``.
    """
    if not 1 <= limit <= MAX_SEARCH_LIMIT:
        raise UsageError(f"--limit must be between 1 and {MAX_SEARCH_LIMIT:,}")
    check_query(query)
    with get_engine(database_url).connect().execution_options(read_only=True) as conn:
        return _search(conn, query, source, since, limit, all_copies, include_removed)
