"""Bulk statements that cost one COPY and one short SQL text per batch on PostgreSQL.

On PostgreSQL a batch is streamed with ``COPY`` (psycopg's C writer, no SQL parsing, no
per-value placeholders) into a session-private staging table and then written with ONE
set-based ``INSERT … SELECT … ON CONFLICT`` built by SQLAlchemy. The staging table is
``TEMP … ON COMMIT DELETE ROWS``: it lives as long as the pooled connection, holds rows only
inside the batch's transaction (a rollback or kill empties it with everything else), and later
statements of the same transaction — the article versions — read their text from it instead of
sending it again. Big ``IN`` lists become ``= ANY(array)``. SQLite keeps ``executemany``, which
its C driver already does fast. The conflict clause (``on_conflict_do_update``/``do_nothing``,
``RETURNING``) is the same SQLAlchemy code for both.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Column,
    ColumnElement,
    Connection,
    CursorResult,
    MetaData,
    Table,
    any_,
    bindparam,
    select,
)

from pipeline.db.dialect import Insert, dialect_insert

_STAGING = MetaData()  # never created by metadata; not part of the schema alembic checks


def _staging_name(table: Table, names: Sequence[str]) -> str:
    # A short, stable name per (table, column set): identifiers are capped at 63 bytes.
    digest = hashlib.blake2s("\0".join(names).encode(), digest_size=4).hexdigest()
    return f"_load_{table.name}_{digest}"


def staged_twin(table: Table, names: Sequence[str]) -> Table:
    """The staging twin of ``table`` holding columns ``names`` (to read staged rows again)."""
    name = _staging_name(table, names)
    twin = _STAGING.tables.get(name)
    if twin is None:
        twin = Table(name, _STAGING, *(Column(n, table.c[n].type) for n in names))
    return twin


def stage(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> Table:
    """COPY ``rows`` (PostgreSQL only) into a TEMP twin of ``table``; returns the twin.

    The twin holds only this transaction's rows: it is emptied first (a savepoint retry may
    stage again in the same transaction) and on commit.
    """
    names = list(rows[0])
    twin = staged_twin(table, names)
    name = twin.name
    columns = ", ".join(names)
    conn.exec_driver_sql(
        f"CREATE TEMP TABLE IF NOT EXISTS {name} ON COMMIT DELETE ROWS AS "
        f"SELECT {columns} FROM {table.name} WITH NO DATA"
    )
    conn.exec_driver_sql(f"DELETE FROM {name}")
    as_json = [isinstance(table.c[n].type, JSON) for n in names]
    raw = cast(Any, conn.connection.driver_connection)
    with raw.cursor() as cursor, cursor.copy(f"COPY {name} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [
                    json.dumps(row[n]) if flag and row[n] is not None else row[n]
                    for n, flag in zip(names, as_json, strict=True)
                ]
            )
    return twin


def insert_rows(
    conn: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    finish: Callable[[Insert], Any] = lambda stmt: stmt,
    order_by: str | None = None,
) -> CursorResult[Any]:
    """INSERT ``rows`` (dicts with the same keys); ``finish`` adds ON CONFLICT / RETURNING.

    ``order_by`` names the column the rows are written in on PostgreSQL (lock order).
    """
    stmt = dialect_insert(conn, table)
    if conn.dialect.name != "postgresql":
        return conn.execute(finish(stmt), list(rows))
    names = list(rows[0])
    twin = stage(conn, table, rows)
    source = select(*(twin.c[n] for n in names))
    if order_by is not None:
        source = source.order_by(twin.c[order_by])
    return conn.execute(finish(stmt.from_select(names, source)))


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
