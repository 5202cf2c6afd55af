"""The README's consumer examples, one place: ``tests/test_readme_examples.py`` runs every one.

Why here: README examples that returned nothing on the demo data ("tidal barrier", "published
today", ``article_id = 42``) taught consumers that the interface was broken. Each example
below must return at least one row on the demo network's stories (both editions, plus the
one purge the README shows); the README copies them verbatim.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class SqlExample:
    title: str
    sql: str
    backends: tuple[Literal["sqlite", "postgresql"], ...] = ("sqlite", "postgresql")


@dataclass(frozen=True)
class CliExample:
    title: str
    args: tuple[str, ...]  # after ``newsflow``; every one prints --json (one document)


#: The one purge the README shows before the removals example (a story of the demo network).
PURGE_PATH = "/story/20230516/high-school-robotics-team-heads-to-world-finals.html"

SQL_EXAMPLES: tuple[SqlExample, ...] = (
    SqlExample(
        "Newest live stories",
        "SELECT article_id, source_key, published_at, title\n"
        "FROM news_articles WHERE removed_at IS NULL\n"
        "ORDER BY published_at DESC LIMIT 10",
    ),
    SqlExample(
        "Stories per source and language",
        "SELECT source_key, language, count(*) AS stories\nFROM news_articles GROUP BY source_key, language ORDER BY 1, 2",
    ),
    SqlExample(
        "Published on or after a day (UTC)",
        "SELECT source_key, published_at, title FROM news_articles\n"
        "WHERE published_at >= '2023-05-22' ORDER BY published_at",
    ),
    SqlExample(
        "Every version of the stories that changed",
        "SELECT article_id, version, event, recorded_at, title\n"
        "FROM news_article_versions\n"
        "WHERE article_id IN (SELECT article_id FROM news_article_versions WHERE version > 1)\n"
        "ORDER BY article_id, version",
    ),
    SqlExample(
        "Related-story links that point at stored articles",
        "SELECT l.from_article_id, l.kind, t.source_key, t.title AS links_to\n"
        "FROM news_article_links l JOIN news_articles t ON t.article_id = l.to_article_id\n"
        "ORDER BY l.from_article_id",
    ),
    SqlExample(
        "Near-duplicate clusters (the same wire story on two outlets)",
        "SELECT cluster_id, cluster_size, source_key, title FROM news_clusters ORDER BY cluster_id, article_id",
    ),
    SqlExample(
        "Removed and purged stories",
        "SELECT article_id, source_key, removed_at, removal_reason, purged_at FROM news_removals",
    ),
    SqlExample(
        "Where did this row come from? (the WARC record holds the exact HTTP response)",
        "SELECT url, run_id, fetch_id, warc_path, warc_offset, extractor_version, version\n"
        "FROM news_articles WHERE source_key = 'northern-ledger' ORDER BY article_id LIMIT 1",
    ),
    SqlExample(
        "Each story once: the first copy of every cluster (PostgreSQL)",
        "SELECT DISTINCT ON (cluster_id) cluster_id, article_id, source_key, title\n"
        "FROM news_articles WHERE published_at >= '2023-05-20'\n"
        "ORDER BY cluster_id, first_seen_at",
        backends=("postgresql",),
    ),
    SqlExample(
        "Full-text search in the article's language (PostgreSQL, as newsflow_reader)",
        "SELECT article_id, source_key, title FROM news_articles\n"
        "WHERE search_vector @@ websearch_to_tsquery(newsflow_ts_config(language), 'губернатором')",
        backends=("postgresql",),
    ),
    SqlExample(
        "Full-text search (SQLite FTS5; join on rowid)",
        "SELECT a.article_id, a.source_key, a.title\n"
        "FROM articles_fts JOIN news_articles a ON a.article_id = articles_fts.rowid\n"
        "WHERE articles_fts MATCH 'container terminal' ORDER BY bm25(articles_fts)",
        backends=("sqlite",),
    ),
)

CLI_EXAMPLES: tuple[CliExample, ...] = (
    CliExample(
        'Search (web syntax: words, "phrase", or, -excluded)', ("search", "container terminal", "--json")
    ),
    CliExample("A Russian inflection the text does not contain", ("search", "губернатором", "--json")),
    CliExample("Another inflection of the same word", ("search", "губернатору", "--json")),
    CliExample("Chinese (CJK bigrams)", ("search", "灯笼节", "--json")),
    CliExample(
        "One source, since a day",
        ("articles", "--source", "harbour-times", "--since", "2023-05-20", "--json"),
    ),
)
