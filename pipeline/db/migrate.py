"""Apply Alembic migrations of the news database from code (CLI, DAGs, tests)."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic.config import Config

from alembic import command
from pipeline.db.engine import normalise_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]

#: PostgreSQL advisory lock key of the news database's migrations (any constant bigint; this
#: one is "newsflow" in ASCII, to be recognisable in ``pg_locks``).
ADVISORY_LOCK_KEY = 0x6E657773_666C6F77


@contextmanager
def migration_lock(connection: Any) -> Iterator[None]:
    """Serialise migrations of one database across processes; used by ``alembic/env.py``.

    Every command upgrades the database first, so two first runs on a fresh database used to
    race to create ``alembic_version`` (one failed with a unique violation). PostgreSQL: a
    session-level advisory lock — the loser waits, then sees the winner's committed tables and
    does nothing.
    SQLite: an exclusive ``flock`` on the database file (SQLite's own locks are ``fcntl``
    locks, which ``flock`` does not touch). Both are held around the migration transaction,
    so the next process reads only after the commit; a crashed holder releases them (the
    session or the file descriptor ends with it).
    """
    from sqlalchemy import text

    dialect = connection.dialect.name
    if dialect == "postgresql" and connection.in_transaction():
        # A caller's connection (``config.attributes["connection"]``): lock inside its transaction.
        connection.execute(text("select pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        yield
        return
    if dialect == "postgresql":
        connection.execute(text("select pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.commit()  # SQLAlchemy began a transaction for the select; the lock is the session's
        try:
            yield
        finally:
            connection.rollback()  # a no-op after alembic's commit; clears a failed transaction
            connection.execute(text("select pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            connection.commit()
        return
    database = connection.engine.url.database if dialect == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    with open(database, "ab") as handle:  # creates the file SQLite would create anyway
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def alembic_config(database_url: str | None = None) -> Config:
    """Alembic config pointing at the project's ``alembic/`` folder and the given database."""
    if database_url is None:
        from pipeline.settings import get_settings

        database_url = get_settings().database_url
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    cfg.attributes["database_url"] = normalise_url(database_url)
    return cfg


def upgrade(database_url: str | None = None, revision: str = "head") -> None:
    """Bring the database to ``revision``; a no-op when it is already there."""
    command.upgrade(alembic_config(database_url), revision)


def downgrade(database_url: str | None = None, revision: str = "base") -> None:
    command.downgrade(alembic_config(database_url), revision)


def check(database_url: str | None = None) -> None:
    """Raise if the models and the migrations disagree (``alembic check``)."""
    command.check(alembic_config(database_url))


def current_revision(database_url: str | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from pipeline.db.engine import make_engine

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
