"""Apply Alembic migrations of the news database from code (CLI, DAGs, tests)."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config

from alembic import command
from pipeline.db.engine import normalise_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]


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
