"""Rerunning a run id without losing provenance: superseded fetches and their WARC records.

Clearing a crawl task in Airflow re-runs its run id, and the crawl starts that run's raw
data afresh (its WARC file is rewritten from the first byte). Before that happens,
:func:`supersede_referenced_fetches` keeps every fetch row that something stored points at —
an article's content (``articles.fetch_id``), a version (``article_versions.fetch_id``) or
another run's extraction — with ``outcome = 'superseded'`` (no stage processes such rows:
extraction, the quality metrics, the revisit state and the load all select by other
outcomes), and copies their WARC records (the exact gzip members) into a sibling file
``<run>.superseded-<time>.warc.gz`` whose path and offsets the rows then carry. Every other
fetch row of the run is deleted, as before.

Crash safety: the copy is written and fsynced before the rows are changed, in the caller's
transaction; a crash leaves at worst an orphan copy (retention prunes it by age), never a row
pointing at a record that is not there.
"""

from __future__ import annotations

import io
import os
from collections import defaultdict
from collections.abc import Sequence
from typing import IO

import fsspec
from fsspec.implementations.local import LocalFileSystem
from sqlalchemy import ColumnElement, delete, exists, or_, select, update
from sqlalchemy.orm import Session
from warcio.warcwriter import WARCWriter

from pipeline import clock
from pipeline.db.models import Article, ArticleVersion, CrawlRun, ExtractedRecord, Fetch
from pipeline.rawstore import run_warc_path

SUPERSEDED = "superseded"
GZIP_MAGIC = b"\x1f\x8b"


def _referenced() -> ColumnElement[bool]:
    return or_(
        exists().where(Article.fetch_id == Fetch.id),
        exists().where(ArticleVersion.fetch_id == Fetch.id),
        exists().where(ExtractedRecord.fetch_id == Fetch.id),
    )


def supersede_referenced_fetches(session: Session, run: CrawlRun, source_key: str) -> int:
    """Delete the run's unreferenced fetch rows, keep the rest as ``superseded``; kept count.

    Call after the run's own ``extracted_records`` are deleted (they do not count as
    references: the rerun extracts again).
    """
    referenced = _referenced()
    session.execute(
        delete(Fetch).where(Fetch.run_id == run.id, ~referenced).execution_options(synchronize_session=False)
    )
    result = session.execute(
        update(Fetch)
        .where(Fetch.run_id == run.id)
        .values(outcome=SUPERSEDED)
        .execution_options(synchronize_session=False)
    )
    kept = getattr(result, "rowcount", 0)
    if kept:
        _move_records(session, run, source_key)
    return int(kept or 0)


def _move_records(session: Session, run: CrawlRun, source_key: str) -> None:
    """Copy the kept rows' records out of the run's WARC file, which the rerun rewrites."""
    run_file = run_warc_path("", source_key, run.run_id).rsplit("/", 1)[-1]
    rows = session.execute(
        select(Fetch.id, Fetch.warc_path, Fetch.warc_offset, Fetch.warc_length)
        .where(
            Fetch.run_id == run.id,
            Fetch.outcome == SUPERSEDED,
            Fetch.warc_path.is_not(None),
            Fetch.warc_offset.is_not(None),
            Fetch.warc_length.is_not(None),
        )
        .order_by(Fetch.warc_path, Fetch.warc_offset)
    ).all()
    by_path: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for fetch_id, path, offset, length in rows:
        if path.rsplit("/", 1)[-1] == run_file:  # earlier copies are not rewritten: leave them
            by_path[path].append((fetch_id, offset, length))
    stamp = clock.now().strftime("%Y%m%dT%H%M%S%fZ")
    for path, members in by_path.items():
        target = f"{path.removesuffix('.warc.gz')}.superseded-{stamp}.warc.gz"
        moved = copy_members(path, target, [(offset, length) for _, offset, length in members])
        changes = [
            {"id": fetch_id, "warc_path": target, "warc_offset": moved[(offset, length)]}
            for fetch_id, offset, length in members
            if (offset, length) in moved
        ]
        if changes:
            session.execute(update(Fetch), changes)


def _local_path(path: str) -> str | None:
    fs, stripped = fsspec.core.url_to_fs(path)
    return str(stripped) if isinstance(fs, LocalFileSystem) else None


def _open_write(path: str) -> IO[bytes]:
    local = _local_path(path)
    if local is not None:
        os.makedirs(os.path.dirname(local) or ".", exist_ok=True)
        return open(local, "wb")
    return fsspec.open(path, "wb").open()  # type: ignore[no-any-return]


def copy_members(source: str, target: str, members: Sequence[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Copy whole gzip members ``(offset, length)`` of ``source`` into a new WARC ``target``.

    Returns the new offset of every member copied; a member that is not where the row says
    (no gzip header there) or a missing source file is left out (its row stays as it was).
    """
    try:
        handle = fsspec.open(source, "rb").open()
    except FileNotFoundError:
        return {}
    moved: dict[tuple[int, int], int] = {}
    with handle as reader, _open_write(target) as writer:
        head = io.BytesIO()
        info = WARCWriter(head, gzip=True, warc_version="WARC/1.1")
        info.write_record(
            info.create_warcinfo_record(
                target.rsplit("/", 1)[-1],
                {"software": "newsflow", "description": f"records kept from {source.rsplit('/', 1)[-1]}"},
            )
        )
        position = writer.write(head.getvalue())
        for offset, length in members:
            reader.seek(offset)
            data = reader.read(length)
            if len(data) != length or not data.startswith(GZIP_MAGIC):
                continue
            writer.write(data)
            moved[(offset, length)] = position
            position += length
        writer.flush()
        if _local_path(target) is not None:
            # Object-store files have a ``fileno`` that raises: their upload completes on close.
            os.fsync(writer.fileno())
    return moved
