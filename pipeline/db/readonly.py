"""Guards for read commands (status, search, articles): never create, never migrate.

Why: opening a SQLite URL creates the file, and the write commands migrate on start; a read
command run in the wrong directory used to leave an empty ``data/newsflow.db`` behind and
report "no matches". A read command instead says which database it could not read, with its
own exit code (:class:`DatabaseUnavailable`), and an unknown ``--source`` is a usage error.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from pipeline.db.engine import get_engine, normalise_url
from pipeline.errors import NewsflowError, UsageError

#: Exit code of every command when the database is missing or cannot be reached (2 = bad usage).
DATABASE_UNAVAILABLE_EXIT = 3


class DatabaseUnavailable(NewsflowError):
    """The database does not exist, cannot be reached, or has no newsflow schema."""

    exit_code = DATABASE_UNAVAILABLE_EXIT


def resolve_url(database_url: str | None) -> str:
    if database_url is None:
        from pipeline.settings import get_settings

        database_url = get_settings().database_url
    return normalise_url(database_url)


def require_database(database_url: str | None = None) -> str:
    """The URL of an existing newsflow database (raises :class:`DatabaseUnavailable`).

    A SQLite file must exist already; the ``news_articles`` view must be readable (so the
    reader role passes, and an empty server database without the schema fails clearly).
    """
    url = resolve_url(database_url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        on_disk = database and database != ":memory:" and not database.startswith("file:")
        if on_disk and not Path(database).expanduser().is_file():
            raise DatabaseUnavailable(
                f"no database at {database} (set NEWSFLOW_DATABASE_URL, or create it with "
                "`newsflow db upgrade` / `newsflow run`)"
            )
    try:
        with get_engine(url).connect().execution_options(read_only=True) as conn:
            conn.execute(text("SELECT 1 FROM news_articles LIMIT 1")).all()
    except DBAPIError as exc:
        first = (str(exc.orig or exc).strip().splitlines() or [type(exc).__name__])[0]
        shown = parsed.render_as_string(hide_password=True)
        if "news_articles" in first:
            raise DatabaseUnavailable(
                f"{shown} has no newsflow schema (run `newsflow db upgrade`): {first}"
            ) from None
        raise DatabaseUnavailable(f"database unavailable ({shown}): {first}") from None
    return url


def require_source(source: str | None, database_url: str) -> None:
    """A ``--source`` must name a configured source or one with stored articles."""
    if source is None:
        return
    from pipeline.config import load_sources
    from pipeline.config_errors import ConfigError

    try:
        known = {s.key for s in load_sources().sources}
    except ConfigError:  # no (valid) sources.yaml where a consumer runs: the database decides alone
        known = set()
    if source in known:
        return
    with get_engine(database_url).connect().execution_options(read_only=True) as conn:
        stored = conn.execute(
            text("SELECT 1 FROM news_articles WHERE source_key = :key LIMIT 1"), {"key": source}
        ).first()
    if stored is None:
        listed = f" (known: {', '.join(sorted(known))})" if known else ""
        raise UsageError(f"unknown source {source!r}{listed}")
