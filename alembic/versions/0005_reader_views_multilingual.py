"""reader views (versions, links, clusters, removals) and multilingual full-text search

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 03:00:00

- ``news_article_versions``, ``news_article_links``, ``news_clusters``, ``news_removals``: the
  reader's views beside ``news_articles`` (:mod:`pipeline.db.reader_views`); on PostgreSQL
  granted to ``newsflow_reader`` and every view and column documented with ``COMMENT ON``
  (``news_articles`` too).
- PostgreSQL: ``articles.search_vector`` is built in the article's language
  (``newsflow_ts_config(language)``: russian, german, spanish …, ``simple`` otherwise) over text
  whose CJK runs are split into bigrams (``newsflow_cjk_terms``); the trigger also fires when
  the language changes; every row is re-indexed.
- SQLite: ``articles_fts`` gains a ``terms`` column (Snowball stems of the article's language
  and CJK bigrams, computed by ``newsflow_terms`` which :mod:`pipeline.db.engine` registers on
  every connection); its content is the view ``articles_fts_source``; rebuilt.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_READER_VIEWS = ("news_article_versions", "news_article_links", "news_clusters", "news_removals")


def _vector(config: str, cjk: bool) -> str:
    def part(column: str, weight: str) -> str:
        body = f"coalesce(NEW.{column}, '')"
        if cjk:
            body = f"newsflow_cjk_terms({body})"
        return f"setweight(to_tsvector({config}, {body}), '{weight}')"

    return " || ".join([part("title", "A"), part("description", "B"), part("text", "C")])


def _pg_refresh_function(multilingual: bool) -> str:
    config = "newsflow_ts_config(NEW.language)" if multilingual else "'english'"
    changed = "OR NEW.language IS DISTINCT FROM OLD.language" if multilingual else ""
    return f"""
    CREATE OR REPLACE FUNCTION articles_search_vector_refresh() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT'
           OR NEW.title IS DISTINCT FROM OLD.title
           OR NEW.description IS DISTINCT FROM OLD.description
           OR NEW.text IS DISTINCT FROM OLD.text {changed} THEN
            NEW.search_vector := {_vector(config, multilingual)};
        END IF;
        RETURN NEW;
    END
    $$
    """


def _pg_trigger(columns: str) -> list[str]:
    return [
        "DROP TRIGGER IF EXISTS articles_search_vector_trg ON articles",
        f"""
        CREATE TRIGGER articles_search_vector_trg
        BEFORE INSERT OR UPDATE OF {columns} ON articles
        FOR EACH ROW EXECUTE FUNCTION articles_search_vector_refresh()
        """,
    ]


def _pg_reindex(multilingual: bool) -> str:
    config = "newsflow_ts_config(language)" if multilingual else "'english'"
    return f"UPDATE articles SET search_vector = {_vector(config, multilingual).replace('NEW.', '')}"


def _pg_upgrade() -> None:
    from pipeline.db.reader_views import comment_statements, reader_views
    from pipeline.textsearch import pg_cjk_function_sql, pg_config_function_sql

    op.execute(pg_config_function_sql())
    op.execute(pg_cjk_function_sql())
    op.execute(_pg_refresh_function(multilingual=True))
    for statement in _pg_trigger("title, description, text, language"):
        op.execute(statement)
    op.execute(_pg_reindex(multilingual=True))
    for name, select in reader_views("postgresql").items():
        op.execute(f"CREATE VIEW {name} AS {select}")
        op.execute(f"GRANT SELECT ON {name} TO newsflow_reader")
    for name in ("news_articles", *_READER_VIEWS):
        for statement in comment_statements(name):
            op.execute(statement)
    op.execute("GRANT EXECUTE ON FUNCTION newsflow_ts_config(text) TO newsflow_reader")
    op.execute("GRANT EXECUTE ON FUNCTION newsflow_cjk_terms(text) TO newsflow_reader")


def _pg_downgrade() -> None:
    for name in _READER_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    op.execute(_pg_refresh_function(multilingual=False))
    for statement in _pg_trigger("title, description, text"):
        op.execute(statement)
    op.execute(_pg_reindex(multilingual=False))
    op.execute("DROP FUNCTION IF EXISTS newsflow_cjk_terms(text)")
    op.execute("DROP FUNCTION IF EXISTS newsflow_ts_config(text)")


_SQLITE_DROP_FTS = [
    "DROP TRIGGER IF EXISTS articles_fts_au",
    "DROP TRIGGER IF EXISTS articles_fts_ad",
    "DROP TRIGGER IF EXISTS articles_fts_ai",
    "DROP TABLE IF EXISTS articles_fts",
    "DROP VIEW IF EXISTS articles_fts_source",
]

_TERMS = "newsflow_terms({row}.language, {row}.title, {row}.description, {row}.text)"
_CHANGED = (
    "old.title IS NOT new.title OR old.description IS NOT new.description OR old.text IS NOT new.text"
    " OR old.language IS NOT new.language"
)

_SQLITE_FTS = [
    """
    CREATE VIEW articles_fts_source AS
    SELECT id, title, description, text, newsflow_terms(language, title, description, text) AS terms
    FROM articles
    """,
    """
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, description, text, terms,
        content='articles_fts_source', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    f"""
    CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, description, text, terms)
        VALUES (new.id, new.title, new.description, new.text, {_TERMS.format(row="new")});
    END
    """,
    f"""
    CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, description, text, terms)
        VALUES ('delete', old.id, old.title, old.description, old.text, {_TERMS.format(row="old")});
    END
    """,
    f"""
    CREATE TRIGGER articles_fts_au AFTER UPDATE ON articles WHEN {_CHANGED} BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, description, text, terms)
        VALUES ('delete', old.id, old.title, old.description, old.text, {_TERMS.format(row="old")});
        INSERT INTO articles_fts(rowid, title, description, text, terms)
        VALUES (new.id, new.title, new.description, new.text, {_TERMS.format(row="new")});
    END
    """,
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
]

# The 0002 layout, for the downgrade.
_SQLITE_OLD_FTS = [
    """
    CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, description, text,
        content='articles', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
    )
    """,
    """
    CREATE TRIGGER articles_fts_ai AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, description, text)
        VALUES (new.id, new.title, new.description, new.text);
    END
    """,
    """
    CREATE TRIGGER articles_fts_ad AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, description, text)
        VALUES ('delete', old.id, old.title, old.description, old.text);
    END
    """,
    """
    CREATE TRIGGER articles_fts_au AFTER UPDATE ON articles
    WHEN old.title IS NOT new.title OR old.description IS NOT new.description OR old.text IS NOT new.text
    BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, description, text)
        VALUES ('delete', old.id, old.title, old.description, old.text);
        INSERT INTO articles_fts(rowid, title, description, text)
        VALUES (new.id, new.title, new.description, new.text);
    END
    """,
    "INSERT INTO articles_fts(articles_fts) VALUES ('rebuild')",
]


def _sqlite_upgrade() -> None:
    from pipeline.db.reader_views import reader_views

    for statement in [*_SQLITE_DROP_FTS, *_SQLITE_FTS]:
        op.execute(statement)
    for name, select in reader_views("sqlite").items():
        op.execute(f"CREATE VIEW {name} AS {select}")


def _sqlite_downgrade() -> None:
    for name in _READER_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for statement in [*_SQLITE_DROP_FTS, *_SQLITE_OLD_FTS]:
        op.execute(statement)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_upgrade()
    else:
        _sqlite_upgrade()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _pg_downgrade()
    else:
        _sqlite_downgrade()
