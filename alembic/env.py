"""Alembic environment for the news database."""

from __future__ import annotations

from typing import Any

from sqlalchemy import pool

from alembic import context
from pipeline.db.engine import make_engine, normalise_url
from pipeline.db.migrate import migration_lock
from pipeline.db.models import Base

config = context.config
target_metadata = Base.metadata

# Objects created by hand-written migrations (full-text search) that the models do not describe.
UNMODELLED = {"articles_fts", "search_vector", "news_articles"}


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
    if name is None:
        return True
    if name in UNMODELLED or name.startswith(("articles_fts", "news_")):
        return False
    if type_ == "index" and name.startswith("ix_articles_search"):
        return False
    return True


def _url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return str(url)
    from pipeline.settings import get_settings

    return normalise_url(get_settings().database_url)


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url(), poolclass=pool.NullPool)
    try:
        with engine.connect() as conn:
            _run(conn)
    finally:
        engine.dispose()


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_object=include_object,
        compare_type=True,
    )
    with migration_lock(connection), context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
