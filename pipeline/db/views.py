"""The consumer view ``news_articles``, as SQL per backend.

Migrations create it (``0002`` its first shape, frozen there; ``0003`` onwards from here), so
a later migration that changes the view recreates it from one definition instead of a
third copy of the SELECT. The shapes past migrations ask for are pinned by digest
(``tests/test_migration_sql_pinned.py``): a new shape needs a new parameter and a new migration.
"""

from __future__ import annotations

_VIEW_SELECT = """
SELECT
    a.id AS article_id,
    s.key AS source_key,
    s.name AS source_name,
    a.url,
    a.canonical_url,
    a.title,
    {authors} AS authors,
    {ts_published} AS published_at,
    a.published_from,
    {ts_modified} AS modified_at,
    a.language,
    a.description,
    a.section,
    {tags} AS tags,
    a.image_url,
    a.text,
    a.word_count,
    COALESCE(a.cluster_id, a.id) AS cluster_id,
    a.version,
    a.content_hash,
    {ts_first} AS first_seen_at,
    {ts_last} AS last_seen_at,
    {ts_updated} AS updated_at,
    a.extractor_version,
    a.fetch_id,
    r.run_id AS run_id,
    f.warc_path,
    f.warc_offset,
    f.warc_length{removal}{v2}{extra}
FROM articles a
JOIN sources s ON s.id = a.source_id
LEFT JOIN crawl_runs r ON r.id = a.run_id
LEFT JOIN fetches f ON f.id = a.fetch_id
"""


def _sqlite_ts(column: str) -> str:
    # Stored as naive UTC text; present ISO 8601 with an explicit Z so no consumer guesses the zone.
    return f"strftime('%Y-%m-%dT%H:%M:%fZ', a.{column})"


#: Extraction v2 (migration 0004): where the modified date came from, and the paywall flags.
_V2_COLUMNS = ",\n    a.modified_from,\n    a.is_paywalled,\n    a.is_complete"


def news_articles_view(dialect: str, *, with_removal: bool = True, with_v2: bool = True) -> str:
    """The view's SELECT for ``postgresql`` or ``sqlite``.

    ``with_removal`` adds the removal columns (0003), ``with_v2`` the extraction v2 columns (0004):
    a migration asks for the shape its own schema has.
    """
    v2 = _V2_COLUMNS if with_v2 else ""
    if dialect == "postgresql":
        removal = ",\n    a.removed_at,\n    a.removal_reason" if with_removal else ""
        return _VIEW_SELECT.format(
            authors="ARRAY(SELECT jsonb_array_elements_text(a.authors))",
            tags="ARRAY(SELECT jsonb_array_elements_text(a.tags))",
            ts_published="a.published_at",
            ts_modified="a.modified_at",
            ts_first="a.first_seen_at",
            ts_last="a.last_seen_at",
            ts_updated="a.updated_at",
            removal=removal,
            v2=v2,
            extra=",\n    a.search_vector",
        )
    removal = (
        f",\n    {_sqlite_ts('removed_at')} AS removed_at,\n    a.removal_reason" if with_removal else ""
    )
    return _VIEW_SELECT.format(
        authors="a.authors",
        tags="a.tags",
        ts_published=_sqlite_ts("published_at"),
        ts_modified=_sqlite_ts("modified_at"),
        ts_first=_sqlite_ts("first_seen_at"),
        ts_last=_sqlite_ts("last_seen_at"),
        ts_updated=_sqlite_ts("updated_at"),
        removal=removal,
        v2=v2,
        extra="",
    )
