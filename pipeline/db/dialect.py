"""The few SQL constructs that differ between SQLite and PostgreSQL, chosen by the connection.

Upserts are written once against these (``INSERT … ON CONFLICT`` exists on both backends,
under dialect-specific constructs), so callers never branch on the dialect themselves.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import Function

from pipeline.errors import NewsflowError

Insert = postgresql.Insert | sqlite.Insert
Bind = Connection | Engine | Session


def _dialect_name(bind: Bind) -> str:
    return bind.get_bind().dialect.name if isinstance(bind, Session) else bind.dialect.name


def dialect_insert(bind: Bind, table: Any) -> Insert:
    """The dialect's INSERT construct (both offer ``on_conflict_do_update`` and ``excluded``)."""
    name = _dialect_name(bind)
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NewsflowError(f"unsupported database {name!r} (SQLite or PostgreSQL)")


def greatest(bind: Bind, *values: Any) -> Function[Any]:
    """The larger of ``values``: ``greatest()`` on PostgreSQL, scalar ``max()`` on SQLite."""
    return func.greatest(*values) if _dialect_name(bind) == "postgresql" else func.max(*values)


__all__ = ["Insert", "dialect_insert", "greatest"]
