"""Bulk statements that cost one round trip and one short SQL text per batch on PostgreSQL.

psycopg parses every distinct statement text in Python; a 500-row multi-VALUES upsert has
13,000 placeholders and no cache hit, which made query *conversion* the load's hottest spot.
On PostgreSQL the batch is therefore sent as ONE JSON parameter and expanded server-side with
``jsonb_to_recordset`` (``INSERT … SELECT … ON CONFLICT``), and big ``IN`` lists become
``= ANY(array)``. SQLite keeps ``executemany``, which its C driver already does fast. The
statement built on top (``on_conflict_do_update``/``do_nothing``, ``RETURNING``) is the same
SQLAlchemy code for both.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    Connection,
    CursorResult,
    DateTime,
    LargeBinary,
    Table,
    Text,
    any_,
    bindparam,
    column,
    func,
    select,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.types import TypeEngine

from pipeline.db.types import UTCDateTime
from pipeline.errors import NewsflowError

Insert = postgresql.Insert | sqlite.Insert


def dialect_insert(conn: Connection, table: Table) -> Insert:
    """The dialect's INSERT construct (both offer ``on_conflict_do_update`` and ``excluded``)."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise NewsflowError(f"unsupported database {conn.dialect.name!r} (SQLite or PostgreSQL)")


def _record_type(sql_type: TypeEngine[Any]) -> TypeEngine[Any]:
    if isinstance(sql_type, UTCDateTime | DateTime):
        return DateTime(timezone=True)
    if isinstance(sql_type, LargeBinary):
        return Text()  # carried as base64 in JSON, decoded in SQL
    return sql_type


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    finish: Callable[[Insert], Any] = lambda stmt: stmt,
) -> CursorResult[Any]:
    """INSERT ``rows`` (dicts with the same keys); ``finish`` adds ON CONFLICT / RETURNING."""
    stmt = dialect_insert(conn, table)
    if conn.dialect.name != "postgresql":
        return conn.execute(finish(stmt), list(rows))
    names = list(rows[0])
    recordset = (
        func.jsonb_to_recordset(bindparam("rows", type_=postgresql.JSONB))
        .table_valued(*(column(name, _record_type(table.c[name].type)) for name in names))
        .render_derived(name="r", with_types=True)
    )
    values: list[ColumnElement[Any]] = [
        func.decode(recordset.c[name], "base64")
        if isinstance(table.c[name].type, LargeBinary)
        else recordset.c[name]
        for name in names
    ]
    payload = [{name: _json_value(row[name]) for name in names} for row in rows]
    return conn.execute(finish(stmt.from_select(names, select(*values))), {"rows": payload})


def member_of(conn: Connection, col: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``col IN values``: one array parameter on PostgreSQL, a plain IN list on SQLite."""
    if conn.dialect.name == "postgresql":
        item = BigInteger() if isinstance(col.type, BigInteger) else col.type
        return col == any_(bindparam(None, list(values), type_=ARRAY(item)))  # type: ignore[no-any-return]
    return col.in_(list(values))  # type: ignore[no-any-return]


def chunk_size(conn: Connection) -> int:
    """How many values one membership test takes (SQLite caps bound variables)."""
    return 100_000 if conn.dialect.name == "postgresql" else 2_000


def insert_integers(
    conn: Connection, table: Table, names: Sequence[str], rows: Sequence[tuple[int, ...]]
) -> None:
    """Append rows of plain integers at driver speed (no per-row SQLAlchemy processing).

    Used for the LSH buckets, a dozen rows per article: PostgreSQL gets one ``unnest`` of
    bigint arrays, SQLite the C ``executemany``.
    """
    if not rows:
        return
    columns = ", ".join(names)
    if conn.dialect.name == "postgresql":
        arrays = ", ".join(["%s::bigint[]"] * len(names))
        conn.exec_driver_sql(
            f"INSERT INTO {table.name} ({columns}) SELECT * FROM unnest({arrays})",
            tuple(list(column) for column in zip(*rows, strict=True)),
        )
    else:
        marks = ", ".join(["?"] * len(names))
        conn.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", list(rows))
