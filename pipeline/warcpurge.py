"""Purging one record of a WARC file in place, without moving any other record.

Our WARC files are a sequence of gzip members, one per record, and the database addresses
records by (file, offset, length). To take a payload down, the member of the record is
overwritten by a member of exactly the same length holding a WARC ``metadata`` record that
says the payload was purged (when, why, which record it replaces). The gzip header's comment
field (FCOMMENT, any length) pads the new member to the old length, so:

- every other record keeps its offset, and the file stays a valid WARC for any reader;
- the write is one ``pwrite`` of the same number of bytes at the same offset, then ``fsync``:
  a crash can only leave this one member torn, and running the purge again rewrites it (a torn
  member is recognised by our gzip header in front of it);
- reading the record through :mod:`pipeline.rawstore` gives a clear "is metadata, not a
  response" error, never garbage.

A record too small to hold even the minimal metadata record (rare: a few hundred bytes) is
overwritten with zeros instead and reported as such; the rest of the file is still intact
(readers that address records by offset, like ours, are unaffected).

Local files are rewritten in place. Object stores (``s3://``) have no partial writes: there the
object is rewritten whole, with every byte but the member's unchanged, and replaced in one
atomic step (:func:`_purge_in_object`).
"""

from __future__ import annotations

import os
import struct
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import fsspec
from fsspec.implementations.local import LocalFileSystem

from pipeline.errors import NewsflowError

#: The comment that starts the padding of every purge member (how a torn one is recognised).
PADDING_MARK = b"newsflow-purge-padding"
#: The first line of the metadata record's body.
BODY_MARK = b"purged-by: newsflow"
_HEADER = b"\x1f\x8b\x08\x10" + b"\x00\x00\x00\x00" + b"\x00\xff"  # deflate, FCOMMENT, no mtime

Outcome = Literal["purged", "zeroed", "already", "skipped"]


class PurgeWriteError(NewsflowError):
    """A raw-store path that :func:`local_path` cannot map to a local file."""


@dataclass(frozen=True)
class RecordPurge:
    """What happened to one record: ``purged``/``zeroed`` now, ``already`` done, or ``skipped`` (why)."""

    path: str
    offset: int
    outcome: Outcome
    note: str = ""


def local_path(path: str) -> str:
    """The OS path of a raw-store file; :class:`PurgeWriteError` for non-local stores."""
    fs, stripped = fsspec.core.url_to_fs(path)
    if not isinstance(fs, LocalFileSystem):
        raise PurgeWriteError(
            f"cannot purge {path}: records are rewritten in place, which needs a local file"
        )
    return str(stripped)


def _clean(value: str, limit: int) -> str:
    return " ".join(value.split())[:limit]


def metadata_record(
    url: str, refers_to: str | None, reason: str, when: datetime, *, short: bool = False
) -> bytes:
    """A WARC/1.1 ``metadata`` record saying the payload of ``url`` was purged (``short``: minimal)."""
    stamp = when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    body = BODY_MARK + f"\r\npurged-at: {stamp}\r\n".encode()
    if not short:
        body += f"reason: {_clean(reason, 300)}\r\n".encode()
    headers = [
        "WARC/1.1",
        "WARC-Type: metadata",
        f"WARC-Record-ID: <urn:uuid:{uuid.uuid4()}>",
        f"WARC-Date: {stamp}",
        f"WARC-Target-URI: {url}",
    ]
    if refers_to and not short:
        headers.append(f"WARC-Refers-To: {refers_to}")
    headers += ["Content-Type: application/warc-fields", f"Content-Length: {len(body)}"]
    return ("\r\n".join(headers) + "\r\n\r\n").encode() + body + b"\r\n\r\n"


def padded_member(record: bytes, length: int) -> bytes | None:
    """``record`` as one gzip member of exactly ``length`` bytes, or None when it cannot fit."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = packer.compress(record) + packer.flush()
    trailer = struct.pack("<II", zlib.crc32(record), len(record) & 0xFFFFFFFF)
    room = length - len(_HEADER) - len(deflated) - len(trailer)  # bytes for the comment + its NUL
    if room < 1:
        return None
    comment = (PADDING_MARK + b" " * room)[: room - 1] + b"\x00"
    return _HEADER + comment + deflated + trailer


def _record_head(member: bytes) -> dict[str, str] | None:
    """The WARC headers of a gzip member's record (None when it is not a readable member)."""
    try:
        data = zlib.decompressobj(31).decompress(member, 64 * 1024)
    except zlib.error:
        return None
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep or not head.startswith(b"WARC/"):
        return None
    fields = {}
    for line in head.split(b"\r\n")[1:]:
        name, colon, value = line.partition(b":")
        if colon:
            fields[name.decode("latin-1").strip().lower()] = value.decode("utf-8", "replace").strip()
    if fields.get("warc-type") == "metadata" and body.startswith(BODY_MARK):
        fields["newsflow-purged"] = "yes"
    return fields


def _is_ours(member: bytes) -> bool:
    """A (possibly torn) purge member: our header and padding mark in front."""
    start = member[: len(_HEADER) + len(PADDING_MARK)]
    return start == _HEADER + PADDING_MARK[: len(start) - len(_HEADER)] and len(start) > len(_HEADER)


def purge_record(
    path: str, offset: int, length: int, urls: set[str], reason: str, when: datetime
) -> RecordPurge:
    """Replace the response record at ``(path, offset, length)`` in place; see the module docstring.

    ``urls`` are the URLs the record may be for: a record at that place for another URL (a
    wrong offset) is never overwritten. Idempotent: a record purged before is ``already``.
    On an object store (``s3://``) the object is rewritten whole with the member replaced
    (:func:`_replace_in_object`); elsewhere the member is overwritten in place.
    """
    fs, stripped = fsspec.core.url_to_fs(path)
    if not isinstance(fs, LocalFileSystem):
        return _purge_in_object(fs, str(stripped), path, offset, length, urls, reason, when)
    local = local_path(path)
    try:
        fd = os.open(local, os.O_RDWR)
    except FileNotFoundError:
        return RecordPurge(path, offset, "skipped", "file not found")
    try:
        decided = _replacement(path, offset, length, os.pread(fd, length, offset), urls, reason, when)
        if isinstance(decided, RecordPurge):
            return decided
        data, done = decided
        os.pwrite(fd, data, offset)
        os.fsync(fd)
        return done
    finally:
        os.close(fd)


def _replacement(
    path: str, offset: int, length: int, current: bytes, urls: set[str], reason: str, when: datetime
) -> RecordPurge | tuple[bytes, RecordPurge]:
    """What to write over ``current`` (the member's bytes now), or why nothing is written."""
    if len(current) != length:
        return RecordPurge(path, offset, "skipped", "the file is shorter than the record")
    if not current.strip(b"\x00"):
        return RecordPurge(path, offset, "already", "zeroed")
    head = _record_head(current)
    if head is not None and head.get("newsflow-purged"):
        return RecordPurge(path, offset, "already")
    if head is None and not _is_ours(current):
        return RecordPurge(path, offset, "skipped", "no readable record there")
    if head is not None:
        if head.get("warc-type") == "revisit":  # a 304: headers only, nothing to take down
            return RecordPurge(path, offset, "skipped")
        if head.get("warc-type") not in ("response", "resource"):
            return RecordPurge(path, offset, "skipped", f"a {head.get('warc-type')} record, not a payload")
        if head.get("warc-target-uri") not in urls:
            return RecordPurge(path, offset, "skipped", f"a record for {head.get('warc-target-uri')}")
    refers_to = head.get("warc-record-id") if head else None
    target = next(iter(sorted(urls)))
    if head is not None:
        target = head.get("warc-target-uri", target)
    member = padded_member(metadata_record(target, refers_to, reason, when), length)
    member = member or padded_member(metadata_record(target, None, reason, when, short=True), length)
    if member is None:
        return b"\x00" * length, RecordPurge(path, offset, "zeroed", "too small for a notice")
    return member, RecordPurge(path, offset, "purged")


#: Bytes copied per read when an object is rewritten (bounded memory for big WARC files).
COPY_CHUNK = 8 << 20


def _purge_in_object(
    fs: Any,
    fs_path: str,
    path: str,
    offset: int,
    length: int,
    urls: set[str],
    reason: str,
    when: datetime,
) -> RecordPurge:
    """:func:`purge_record` on an object store: same checks, then the object replaced whole.

    Objects have no partial writes, so the new object is streamed (the bytes before the
    member, the notice, the bytes after) into a multipart upload of the same key, which
    replaces the object atomically when it completes: a crash leaves the old object intact
    (and an abandoned upload), never a torn one. Every other record keeps its offset.
    """
    try:
        current = fs.cat_file(fs_path, start=offset, end=offset + length)
        size = int(fs.size(fs_path))
    except FileNotFoundError:
        return RecordPurge(path, offset, "skipped", "file not found")
    decided = _replacement(path, offset, length, current, urls, reason, when)
    if isinstance(decided, RecordPurge):
        return decided
    data, done = decided
    _replace_in_object(fs, fs_path, size, offset, data)
    return done


def _replace_in_object(fs: Any, fs_path: str, size: int, offset: int, data: bytes) -> None:
    """Write a copy of the object with ``data`` at ``offset`` over the same key (one atomic replacement)."""

    def copy(out: Any, start: int, end: int) -> None:
        for pos in range(start, end, COPY_CHUNK):
            out.write(fs.cat_file(fs_path, start=pos, end=min(pos + COPY_CHUNK, end)))

    # The reads happen before the upload completes (on close), so they see the old object.
    with fs.open(fs_path, "wb") as out:
        copy(out, 0, offset)
        out.write(data)
        copy(out, offset + len(data), size)
