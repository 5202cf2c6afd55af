"""The reader's views beside ``news_articles``: versions, related links, clusters, removals.

Why views: consumers (the ``newsflow_reader`` role on PostgreSQL, DuckDB or pandas on a SQLite
file) get stable names and clean types while the tables stay free to change. Every view and
column is documented here once; migration ``0005`` turns :data:`VIEW_DOCS` into ``COMMENT ON``
statements and the README lists the same text. Timestamps are ``timestamptz`` on PostgreSQL and
ISO 8601 text ending in ``Z`` on SQLite (as in ``news_articles``).
"""

from __future__ import annotations


def _ts(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return column
    return f"strftime('%Y-%m-%dT%H:%M:%fZ', {column})"


def reader_views(dialect: str) -> dict[str, str]:
    """View name -> SELECT for ``postgresql`` or ``sqlite`` (the four reader views of 0005)."""

    def ts(column: str) -> str:
        return _ts(dialect, column)

    return {
        "news_article_versions": f"""
SELECT
    v.article_id,
    s.key AS source_key,
    v.version,
    v.event,
    v.content_hash,
    v.title,
    v.text,
    {ts("v.modified_at")} AS modified_at,
    {ts("v.recorded_at")} AS recorded_at,
    r.run_id AS run_id,
    v.extractor_version
FROM article_versions v
JOIN articles a ON a.id = v.article_id
JOIN sources s ON s.id = a.source_id
LEFT JOIN crawl_runs r ON r.id = v.run_id
""",
        "news_article_links": """
SELECT
    l.from_article_id,
    s.key AS source_key,
    l.to_url,
    l.to_article_id,
    l.kind
FROM article_links l
JOIN articles a ON a.id = l.from_article_id
JOIN sources s ON s.id = a.source_id
""",
        "news_clusters": f"""
SELECT cluster_id, article_id, source_key, url, title, published_at, cluster_size
FROM (
    SELECT
        COALESCE(a.cluster_id, a.id) AS cluster_id,
        a.id AS article_id,
        s.key AS source_key,
        a.url,
        a.title,
        {ts("a.published_at")} AS published_at,
        COUNT(*) OVER (PARTITION BY COALESCE(a.cluster_id, a.id)) AS cluster_size
    FROM articles a
    JOIN sources s ON s.id = a.source_id
) members
WHERE cluster_size > 1
""",
        "news_removals": f"""
SELECT
    a.id AS article_id,
    s.key AS source_key,
    a.url,
    a.title,
    {ts("a.removed_at")} AS removed_at,
    a.removal_reason,
    {ts("p.purged_at")} AS purged_at
FROM articles a
JOIN sources s ON s.id = a.source_id
LEFT JOIN article_purges p ON p.article_id = a.id
WHERE a.removed_at IS NOT NULL
""",
    }


_TIME = "UTC (timestamptz on PostgreSQL; ISO 8601 text ending in Z on SQLite)"

#: View -> (what it is, {column: what it means}). ``COMMENT ON`` on PostgreSQL, README table.
VIEW_DOCS: dict[str, tuple[str, dict[str, str]]] = {
    "news_articles": (
        "One row per stored story per outlet: the current version, its provenance and removal state.",
        {
            "article_id": "Stable id of the article (joins every other news_ view).",
            "source_key": "Key of the source in sources.yaml.",
            "source_name": "Display name of the source.",
            "url": "URL the article was fetched from.",
            "canonical_url": "Canonical URL (unique).",
            "title": "Headline.",
            "authors": "Author names (text[] on PostgreSQL, JSON array text on SQLite).",
            "published_at": f"Publication time, {_TIME}; NULL when the page carries none.",
            "published_from": "Where published_at was read (jsonld, meta, url, feed, …).",
            "modified_at": f"Last modification time stated by the page, {_TIME}.",
            "language": "Language code of the article (ISO 639-1, possibly with region).",
            "description": "Standfirst / meta description.",
            "section": "Section of the outlet.",
            "tags": "Tags (text[] on PostgreSQL, JSON array text on SQLite).",
            "image_url": "Lead image URL.",
            "text": "Clean body text, paragraphs separated by blank lines.",
            "word_count": "Words in text.",
            "cluster_id": "Near-duplicate cluster: the smallest article_id of the cluster (itself when alone).",
            "version": "Current content version (1 = first seen); history in news_article_versions.",
            "content_hash": "SHA-256 of the normalised title and text.",
            "first_seen_at": f"First time the crawler stored it, {_TIME}.",
            "last_seen_at": f"Last time the crawler saw it, {_TIME}.",
            "updated_at": f"Last content change, {_TIME} (incremental exports filter on it).",
            "extractor_version": "Version of the extractor that produced text.",
            "fetch_id": "Fetch that produced the current version.",
            "run_id": "Run id (Airflow run id or CLI run id) that stored the current version.",
            "warc_path": "WARC file holding the raw response.",
            "warc_offset": "Byte offset of the response record in warc_path.",
            "warc_length": "Byte length of the response record.",
            "removed_at": f"When the story left the web or was purged, {_TIME}; NULL while live.",
            "removal_reason": "Why it was removed (http_410, http_404, redirect, notice, purged: …).",
            "modified_from": "Where modified_at was read.",
            "is_paywalled": "The page is behind a paywall.",
            "is_complete": "The body is whole (false for a paywall teaser).",
            "search_vector": "Full-text index in the article's language (PostgreSQL only).",
        },
    ),
    "news_article_versions": (
        "Every distinct content an article has had, plus removed/restored events, oldest first.",
        {
            "article_id": "The article (news_articles.article_id).",
            "source_key": "Key of the article's source.",
            "version": "Version number, 1 = first seen.",
            "event": "content (new text or title) | removed (left the web) | restored (came back).",
            "content_hash": "SHA-256 of the normalised title and text of this version.",
            "title": "Headline of this version.",
            "text": "Body text of this version (empty for a removed event).",
            "modified_at": f"Modification time stated by the page, {_TIME}.",
            "recorded_at": f"When this version was stored, {_TIME}.",
            "run_id": "Run id that stored this version.",
            "extractor_version": "Extractor version that produced this version.",
        },
    ),
    "news_article_links": (
        "Links from an article's body and related-story boxes to other pages.",
        {
            "from_article_id": "The linking article (news_articles.article_id).",
            "source_key": "Key of the linking article's source.",
            "to_url": "Target URL.",
            "to_article_id": "The target's article_id when it is a stored article, else NULL.",
            "kind": "related (related-stories box) | promo | inline (link in the body).",
        },
    ),
    "news_clusters": (
        "Near-duplicate clusters (syndicated or copied stories) of two or more articles.",
        {
            "cluster_id": "The cluster: its smallest article_id (news_articles.cluster_id).",
            "article_id": "A member article.",
            "source_key": "Key of the member's source.",
            "url": "URL of the member.",
            "title": "Headline of the member.",
            "published_at": f"Publication time of the member, {_TIME}.",
            "cluster_size": "Number of articles in the cluster.",
        },
    ),
    "news_removals": (
        "Articles that left the web (410/404, redirect away, removal notice) or were purged.",
        {
            "article_id": "The article (news_articles.article_id).",
            "source_key": "Key of the article's source.",
            "url": "URL of the article.",
            "title": "Headline (empty after a purge).",
            "removed_at": f"When the removal was seen, {_TIME}.",
            "removal_reason": "Why: http_410, http_404, redirect, notice, or purged: <reason>.",
            "purged_at": f"When newsflow purge removed its content, {_TIME}; NULL if only gone from the web.",
        },
    ),
}


def comment_statements(view: str, columns: set[str] | None = None) -> list[str]:
    """``COMMENT ON VIEW`` / ``COMMENT ON COLUMN`` for one view (PostgreSQL)."""

    def quote(value: str) -> str:
        return "'" + value.replace("'", "''") + "'"

    doc, column_docs = VIEW_DOCS[view]
    statements = [f"COMMENT ON VIEW {view} IS {quote(doc)}"]
    for column, text in column_docs.items():
        if columns is None or column in columns:
            statements.append(f"COMMENT ON COLUMN {view}.{column} IS {quote(text)}")
    return statements
