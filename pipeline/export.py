"""Write exported ``news_articles`` rows as JSON Lines, CSV or Parquet.

Why three: JSON Lines streams into anything, CSV opens in a spreadsheet, Parquet keeps types
(timestamps, lists) for DuckDB, pandas and Spark. Rows come from
:func:`export_articles` below (JSON-safe dicts: ISO ``Z`` timestamps, lists for
authors/tags); Parquet turns the timestamps back into ``timestamp[us, UTC]``.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, TextIO

from sqlalchemy import text

from pipeline.db.engine import get_engine
from pipeline.errors import UsageError
from pipeline.jsonout import iso_z

FORMATS = ("jsonl", "csv", "parquet")
_TIMESTAMPS = {"published_at", "modified_at", "first_seen_at", "last_seen_at", "updated_at", "removed_at"}
_LISTS = {"authors", "tags"}
_PARQUET_BATCH = 2_000


def write_jsonl(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


def write_csv(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """One header row; lists as JSON arrays in their cell (the only lossless flat spelling)."""
    writer: csv.DictWriter[str] | None = None
    count = 0
    for row in rows:
        flat = {k: json.dumps(v, ensure_ascii=False) if isinstance(v, list) else v for k, v in row.items()}
        if writer is None:
            writer = csv.DictWriter(out, fieldnames=list(flat), lineterminator="\n")
            writer.writeheader()
        writer.writerow(flat)
        count += 1
    return count


def _parquet_batches(rows: Iterable[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        typed = dict(row)
        for key in _TIMESTAMPS & typed.keys():
            if typed[key]:
                typed[key] = datetime.fromisoformat(typed[key].replace("Z", "+00:00"))
        batch.append(typed)
        if len(batch) >= _PARQUET_BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


_INTS = {"article_id", "word_count", "cluster_id", "version", "fetch_id", "warc_offset", "warc_length"}
_BOOLS = {"is_paywalled", "is_complete"}


def parquet_schema(columns: Iterable[str]) -> Any:
    """Arrow types per export column: UTC timestamps, string lists, ints and bools kept."""
    import pyarrow as pa

    def arrow_type(column: str) -> Any:
        if column in _TIMESTAMPS:
            return pa.timestamp("us", tz="UTC")
        if column in _LISTS:
            return pa.list_(pa.string())
        if column in _INTS:
            return pa.int64()
        if column in _BOOLS:
            return pa.bool_()
        return pa.string()

    return pa.schema([pa.field(column, arrow_type(column)) for column in columns])


def write_parquet(rows: Iterable[dict[str, Any]], out: BinaryIO | str | Path) -> int:
    """Typed Parquet (pyarrow), written batch by batch so a large export never sits in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = parquet_schema(EXPORT_COLUMNS)
    count = 0
    with pq.ParquetWriter(out, schema) as writer:
        for batch in _parquet_batches(rows):
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count


def write_rows(rows: Iterable[dict[str, Any]], fmt: str, output: str | None) -> int:
    """Write ``rows`` in ``fmt`` to ``output`` (a path; ``-`` or None = stdout). Returns the count."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    if fmt == "parquet":
        if output in (None, "-"):
            buffer = io.BytesIO()
            count = write_parquet(rows, buffer)
            sys.stdout.buffer.write(buffer.getvalue())
            sys.stdout.buffer.flush()
            return count
        return write_parquet(rows, str(output))
    writer = write_jsonl if fmt == "jsonl" else write_csv
    if output in (None, "-"):
        return writer(rows, sys.stdout)
    with open(str(output), "w", encoding="utf-8", newline="") as handle:
        return writer(rows, handle)


#: The exported columns of ``news_articles`` (all but the PostgreSQL-only ``search_vector``).
EXPORT_COLUMNS = [
    "article_id",
    "source_key",
    "source_name",
    "url",
    "canonical_url",
    "title",
    "authors",
    "published_at",
    "published_from",
    "modified_at",
    "modified_from",
    "language",
    "description",
    "section",
    "tags",
    "image_url",
    "text",
    "word_count",
    "cluster_id",
    "version",
    "content_hash",
    "first_seen_at",
    "last_seen_at",
    "updated_at",
    "extractor_version",
    "fetch_id",
    "run_id",
    "warc_path",
    "warc_offset",
    "warc_length",
    "removed_at",
    "removal_reason",
    "is_paywalled",
    "is_complete",
]
_EXPORT_COLUMNS = ", ".join(EXPORT_COLUMNS)


def _json_safe(row: dict[str, Any], sqlite: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, datetime):
            value = iso_z(value)
        elif sqlite and key in _LISTS and isinstance(value, str):
            value = json.loads(value)
        elif sqlite and key in _BOOLS and value is not None:
            value = bool(value)
        out[key] = value
    return out


def _view_time(value: datetime, sqlite: bool) -> Any:
    # The SQLite view shows timestamps as ISO text with milliseconds and a Z; compare like with like.
    if not sqlite:
        return value
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


def export_articles(
    *,
    since: datetime | None = None,
    updated_since: datetime | None = None,
    source: str | None = None,
    limit: int | None = None,
    database_url: str | None = None,
    page_size: int = 500,
) -> Iterator[dict[str, Any]]:
    """Rows of the ``news_articles`` view as JSON-safe dicts, oldest id first, streamed by pages.

    ``since`` filters on the publication time (first sighting when undated), ``updated_since`` on
    the last content change — the one an incremental consumer wants.
    """
    engine = get_engine(database_url)
    sqlite = engine.dialect.name == "sqlite"
    where = ["article_id > :last"]
    params: dict[str, Any] = {}
    if since:
        where.append("COALESCE(published_at, first_seen_at) >= :since")
        params["since"] = _view_time(since, sqlite)
    if updated_since:
        where.append("updated_at >= :updated_since")
        params["updated_since"] = _view_time(updated_since, sqlite)
    if source:
        where.append("source_key = :source")
        params["source"] = source
    sql = text(
        f"SELECT {_EXPORT_COLUMNS} FROM news_articles WHERE {' AND '.join(where)} "
        "ORDER BY article_id LIMIT :page"
    )
    last, emitted = 0, 0
    while True:
        with engine.connect().execution_options(read_only=True) as conn:
            rows = [
                dict(r) for r in conn.execute(sql, {**params, "last": last, "page": page_size}).mappings()
            ]
        for row in rows:
            if limit is not None and emitted >= limit:
                return
            yield _json_safe(row, sqlite)
            emitted += 1
        if len(rows) < page_size:
            return
        last = rows[-1]["article_id"]
