"""Engines and sessions for the news database (SQLite embedded default, PostgreSQL in production)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from pipeline.textsearch import register_sqlite_functions

_ENGINES: dict[str, Engine] = {}


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (psycopg2 is not our driver)."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers (consumers, status) work while a load writes; busy_timeout makes
    # concurrent writers wait instead of failing; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@event.listens_for(Engine, "connect")
def _sqlite_functions(dbapi_connection: Any, _record: Any) -> None:
    """Every SQLite connection of this process gets newsflow's SQL functions.

    The full-text triggers call ``newsflow_terms`` to index each article in its own language
    (migration 0005), so a write to ``articles`` through any engine — ours, Alembic's, a
    test's or a script's plain ``create_engine`` — must have it; a class-level listener covers
    them all, not only engines made by :func:`make_engine`.
    """
    if isinstance(dbapi_connection, sqlite3.Connection):
        register_sqlite_functions(dbapi_connection)


def _sqlite_begin(conn: Any) -> None:
    read_only = conn.get_execution_options().get("read_only", False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """A new engine for ``url`` (default: ``NEWSFLOW_DATABASE_URL``)."""
    if url is None:
        from pipeline.settings import get_settings

        url = get_settings().database_url
    url = normalise_url(url)
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN, so let SQLAlchemy emit it. It is
        # BEGIN IMMEDIATE: a deferred transaction that reads and then writes can't wait for a
        # concurrent writer (SQLite answers "database is locked" at once to avoid a deadlock),
        # while an immediate one takes the write lock up front and waits up to busy_timeout.
        # Parallel sources, the crawler subprocess and loads all write to the same file.
        event.listen(engine, "connect", lambda conn, _rec: setattr(conn, "isolation_level", None))
        # Read-only work (search, status) opts out with execution_options(read_only=True).
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def get_engine(url: str | None = None) -> Engine:
    """A cached engine per URL for this process."""
    if url is None:
        from pipeline.settings import get_settings

        url = get_settings().database_url
    key = normalise_url(url)
    if key not in _ENGINES:
        _ENGINES[key] = make_engine(key)
    return _ENGINES[key]


def dispose_engines() -> None:
    """Close every cached engine (tests, forked workers)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """A session that commits on success and rolls back on any error: all or nothing."""
    factory = sessionmaker(bind=engine or get_engine(), expire_on_commit=False)
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
