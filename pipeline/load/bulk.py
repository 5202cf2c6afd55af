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

import numpy as np
import numpy.typing as npt
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


def prefer_lz4(conn: Connection) -> None:
    """Compress this transaction's large values with lz4 instead of pglz, when the server can.

    Called at the start of each batch transaction (PostgreSQL; nothing on SQLite). Every
    article's text is compressed when staged (the stored row and its version row reuse that
    compressed value) and decompressed again to compute its search vector, and the search
    vector itself is compressed: lz4 does both several times faster than the default pglz.
    Readers do not care (each value records its method); servers built without lz4 (or
    before PostgreSQL 14) keep pglz. Checked once per pooled connection.
    """
    if conn.dialect.name != "postgresql":
        return
    info = conn.connection.info
    if "lz4" not in info:
        info["lz4"] = bool(
            conn.exec_driver_sql(
                "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
            ).scalar()
        )
    if info["lz4"]:
        conn.exec_driver_sql("SET LOCAL default_toast_compression = lz4")


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


def _binary_copy_payload(table: Table, names: Sequence[str], rows: npt.NDArray[np.int64]) -> bytes:
    """A PostgreSQL binary ``COPY`` stream of integer rows, built by numpy in one pass.

    Binary COPY wants each field as (length, big-endian value) with the column's exact width,
    so a structured array with one (length, value) pair per column *is* the row format.
    """
    fields: list[tuple[str, str]] = [("count", ">i2")]
    widths = []
    for i, name in enumerate(names):
        width = 8 if isinstance(table.c[name].type, BigInteger) else 4
        widths.append(width)
        fields += [(f"len{i}", ">i4"), (f"val{i}", f">i{width}")]
    packed = np.empty(len(rows), dtype=fields)
    packed["count"] = len(names)
    for i, width in enumerate(widths):
        packed[f"len{i}"] = width
        packed[f"val{i}"] = rows[:, i]
    return _COPY_HEADER + packed.tobytes() + _COPY_TRAILER


_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
_COPY_TRAILER = b"\xff\xff"


def insert_integers(
    conn: Connection, table: Table, names: Sequence[str], rows: npt.NDArray[np.int64]
) -> None:
    """Append rows of plain integers (shape ``(n, len(names))``) at driver speed.

    Used for the LSH buckets, a dozen rows per article: PostgreSQL gets one binary ``COPY``
    built by numpy (no per-value Python work at all), SQLite the C ``executemany``.
    """
    if not len(rows):
        return
    columns = ", ".join(names)
    if conn.dialect.name == "postgresql":
        raw = cast(Any, conn.connection.driver_connection)
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table.name} ({columns}) FROM STDIN (FORMAT binary)") as copy,
        ):
            copy.write(_binary_copy_payload(table, names, rows))
    else:
        marks = ", ".join(["?"] * len(names))
        conn.exec_driver_sql(
            f"INSERT INTO {table.name} ({columns}) VALUES ({marks})", [tuple(row) for row in rows.tolist()]
        )
