"""The raw store: WARC/1.1 files of every response, one file per run, local or fsspec.

Raw first: bodies are archived before anything else happens, so extraction can be rerun
later (better extractor, fixed rule) without crawling again. Each record pair is written and
flushed as one gzip member, so a crash mid-run leaves every earlier record readable.

A ``304 Not Modified`` is archived as a WARC/1.1 ``revisit`` record (profile
``server-not-modified``) that names the earlier full capture it confirms (its target URI,
date and record id, when known), not as an empty ``response``: a WARC reader then sees that
the server vouched for the earlier copy instead of sending an empty page.

Any fsspec URL works as the store (``NEWSFLOW_RAW_STORE``); ``s3://bucket/prefix`` is the one
for workers on several machines (s3fs, configured by the standard ``AWS_*`` variables, e.g.
``AWS_ENDPOINT_URL`` for an S3-compatible server). Two differences there: a run's file is a
multipart upload that becomes visible when the crawl closes it (a crawl killed mid-run leaves
no file; its retry crawls the run again), and a record read fetches exactly the record's
bytes (one ranged GET) when its length is known.

Longer than ~400 lines on purpose: the writer's hand-made record serialiser (kept byte for
byte to warcio's, for the crawler's CPU) and the reader that parses those records back sit
together, so a change to one is made beside the other.
"""

from __future__ import annotations

import base64
import hashlib
import io
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any
from urllib.parse import quote

import fsspec
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter
from zlib_ng import zlib_ng

from pipeline import clock


@dataclass(frozen=True)
class WarcLocation:
    """Where one response record sits: file path/URL, byte offset and length of the gzip member."""

    path: str
    offset: int
    length: int


SERVER_NOT_MODIFIED = "http://netpreserve.org/warc/1.1/revisit/server-not-modified"

#: Read-ahead of a record read whose length is unknown (object stores fetch in blocks).
READ_BLOCK_BYTES = 1 << 20


@dataclass(frozen=True)
class WarcRef:
    """The identity of a stored record, as a ``revisit`` record refers to it."""

    record_id: str
    target_uri: str
    date: str  # the record's WARC-Date, verbatim


@dataclass(frozen=True)
class RawResponse:
    """A response (or a revisit: ``kind == "revisit"``, empty body) read back from the store."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    kind: str = "response"
    record_id: str | None = None
    date: str | None = None
    refers_to: WarcRef | None = None  # revisits: the earlier capture, when it was known

    @property
    def ref(self) -> WarcRef | None:
        """This record as a revisit would refer to it."""
        if self.record_id is None or self.date is None:
            return None
        return WarcRef(self.record_id, self.url, self.date)

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for key, value in self.headers:
            if key.lower() == lname:
                return value
        return None


def run_warc_path(raw_store: str, source_key: str, run_id: str) -> str:
    """The WARC file of one run: ``<store>/<source>/<safe run id>.warc.gz``."""
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in run_id)
    return f"{raw_store.rstrip('/')}/{source_key}/{safe}.warc.gz"


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def _warc_date(when: datetime | None) -> str:
    """``when`` (default: now) as a WARC-Date, ``%Y-%m-%dT%H:%M:%S.%fZ`` in UTC.

    The part up to the second is formatted once per second (``strftime`` was most of the
    cost, paid for every record pair); the microseconds are appended as ``%f`` writes them.
    """
    moment = (when or clock.now()).astimezone(UTC)
    second = moment.replace(microsecond=0)
    cached = _DATE_CACHE
    if cached[0] != second:
        cached[:] = [second, second.strftime("%Y-%m-%dT%H:%M:%S")]
    return f"{cached[1]}.{moment.microsecond:06d}Z"


#: The last second :func:`_warc_date` formatted, and its text (one entry: records come in time order).
_DATE_CACHE: list[Any] = [None, ""]


#: zlib level of the WARC's gzip members, compressed by zlib-ng (``zlib-ng``: zlib's format
#: and levels, faster matching). At level 6 (zlib's default) it took about half of zlib's CPU
#: for members under 1 % larger: 64 against 106 µs per demo page record (+0.1 %), 1.9 against
#: 3.9 ms per real page of ~260 kB (+0.9 %). ISA-L (``isal``, level 3) was faster still but
#: wrote members 12 % larger on real pages, and the raw store is the pipeline's long-term
#: cost (issue 17, docs/architecture.md). warcio's own writer uses zlib at 9: ~10-40 % more
#: CPU than 6 for well under 1 % smaller files.
GZIP_LEVEL = 6


def gzip_member(data: bytes) -> bytes:
    """``data`` as one complete gzip member (one record = one member, readable on its own).

    One compression call per record instead of one per warcio write (header block, HTTP
    headers, each body chunk). Plain gzip: any reader (warcio, zlib, gzip) reads it.
    """
    return zlib_ng.compress(data, GZIP_LEVEL, wbits=GZIP_WBITS)


#: A gzip wrapper (16) around a full 32 kB window (15), as ``zlib`` and ``gzip`` write. zlib
#: needed a window sized to a small record to set it up cheaply; zlib-ng is as fast either way.
GZIP_WBITS = zlib.MAX_WBITS | 16


#: warcio's ``Content-Type`` of each record type (revisits keep the response's, as warcio does).
_CONTENT_TYPES = {
    "response": "application/http; msgtype=response",
    "revisit": "application/http; msgtype=response",
    "request": "application/http; msgtype=request",
}


def _digest(*parts: bytes) -> str:
    """A WARC digest header value: ``sha1:`` + base32 of the SHA-1 of ``parts``."""
    sha1 = hashlib.sha1()
    for part in parts:
        sha1.update(part)
    return "sha1:" + base64.b32encode(sha1.digest()).decode("ascii")


#: The payload digest of every request record (a GET has no body): computed once.
_EMPTY_DIGEST = _digest(b"")


def warc_record(
    rec_type: str,
    warc_headers: list[tuple[str, str]],
    url: str,
    http_block: bytes,
    payload: bytes | None,
) -> bytes:
    """One WARC/1.1 record, uncompressed, exactly as warcio's ``WARCWriter`` serialises it.

    Byte for byte what ``create_warc_record`` + ``write_record`` produce for the same
    headers (same header order, ``WARC-Payload-Digest`` over the payload except for
    revisits, ``WARC-Block-Digest`` over HTTP headers + payload, warcio's HTTP header
    encoding), without warcio's per-record stream, header-list and digest machinery, which
    cost more CPU than compressing the page (pinned by ``tests/test_rawstore.py``).
    ``http_block`` is the HTTP status line and headers (:func:`http_block`);
    ``payload`` is ``None`` for a revisit (no payload, no payload digest).
    """
    headers = [*warc_headers, ("WARC-Target-URI", url)]
    if payload is not None:
        headers.append(("WARC-Payload-Digest", _digest(payload) if payload else _EMPTY_DIGEST))
    headers.append(("WARC-Block-Digest", _digest(http_block, payload or b"")))
    headers.append(("Content-Type", _CONTENT_TYPES[rec_type]))
    headers.append(("Content-Length", str(len(http_block) + len(payload or b""))))
    head = "WARC/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return b"".join((head.encode("utf-8"), http_block, payload or b"", b"\r\n\r\n"))


def _record_id() -> str:
    return f"<urn:uuid:{uuid.uuid4()}>"


def http_block(protocol: str, statusline: str, headers: list[tuple[str, str]]) -> bytes:
    """warcio's ``StatusAndHeaders(statusline, headers, protocol).to_ascii_bytes()``, directly.

    The same text (first line, ``name: value`` lines, blank line) built in one join instead
    of warcio's header-list copy and string concatenation, a few µs per record; headers
    that are not ASCII go through warcio itself (its percent-encoding of them).
    """
    first = f"{protocol} {statusline}" if protocol and statusline else protocol or statusline
    text = (first + "\r\n" if first else "") + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        pass
    block = StatusAndHeaders(statusline, headers, protocol=protocol)
    block.percent_encode_non_ascii_headers()
    # warcio's RFC 8187 encoding of a value with ";" encodes its name="value" parameters
    # only, and its own to_ascii_bytes then raised on what was left (raw bytes in a Link
    # target), which stopped the crawl: such a value is %-encoded whole, as warcio does
    # for a value without ";" (tests/faults/test_bad_input.py). Names likewise.
    block.headers = [
        (k if k.isascii() else quote(k), v if v.isascii() else quote(original))
        for (k, v), (_, original) in zip(block.headers, headers, strict=True)
    ]
    encoded: bytes = block.to_ascii_bytes()
    return encoded


def _status_block(status: int, reason: str, headers: list[tuple[str, str]]) -> bytes:
    return http_block("HTTP/1.1", f"{status} {reason}".strip(), headers)


class RunWarcWriter:
    """Appends request+response record pairs to one run's WARC file.

    Writes are buffered: a record is in the file once :meth:`flush` (or ``close``) ran.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        fs, fs_path = fsspec.core.url_to_fs(path)
        parent = fs_path.rsplit("/", 1)[0]
        fs.makedirs(parent, exist_ok=True)
        # Truncate: re-running a run id replaces its raw data instead of duplicating it.
        self._file: IO[bytes] = fs.open(fs_path, "wb")
        self._writer = WARCWriter(self._file, gzip=True, warc_version="WARC/1.1")
        self._offset = 0
        info = self._writer.create_warcinfo_record(
            "newsflow.warc.gz", {"software": "newsflow", "format": "WARC File Format 1.1"}
        )
        self._write(info)

    def _write(self, record: Any) -> tuple[int, int]:
        """Serialise a warcio record (the warcinfo) as one gzip member."""
        buffer = io.BytesIO()
        WARCWriter(buffer, gzip=False, warc_version="WARC/1.1").write_record(record)
        return self._write_bytes(buffer.getvalue())

    def _write_bytes(self, record: bytes, *more: bytes) -> tuple[int, int]:
        """Append serialised records, each as its own gzip member, in one write (buffered: see
        :meth:`flush`); the offset and length of the first (a record pair is written together)."""
        start = self._offset
        first = gzip_member(record)
        data = first + b"".join(gzip_member(other) for other in more) if more else first
        self._file.write(data)
        self._offset += len(data)
        return start, len(first)

    def flush(self) -> None:
        """Push the records written so far to the file (or object store).

        Raw first: the crawl's recorder calls this before it commits the rows that point at
        the records, so every committed ``(warc_path, warc_offset)`` is readable after a
        crash. Flushing after every record instead cost two ``write`` calls per page and
        bought nothing, since no reader looks at a run's file before its rows exist.
        """
        self._file.flush()

    def write_exchange(
        self,
        url: str,
        method: str,
        request_headers: list[tuple[str, str]],
        status: int,
        reason: str,
        response_headers: list[tuple[str, str]],
        body: bytes,
        fetched_at: datetime | None = None,
    ) -> WarcLocation:
        """Write the request and the response; return the response record's location."""
        warc_date, response_id = _warc_date(fetched_at), _record_id()
        response = warc_record(
            "response",
            [("WARC-Date", warc_date), ("WARC-Record-ID", response_id), ("WARC-Type", "response")],
            url,
            _status_block(status, reason, response_headers),
            body,
        )
        return self._write_pair(response, url, method, request_headers, warc_date, response_id)

    def write_revisit(
        self,
        url: str,
        method: str,
        request_headers: list[tuple[str, str]],
        status: int,
        reason: str,
        response_headers: list[tuple[str, str]],
        refers_to: WarcRef | None,
        fetched_at: datetime | None = None,
    ) -> WarcLocation:
        """Write the request and a ``server-not-modified`` revisit of ``refers_to``.

        The revisit keeps the 304's status line and headers (validators, dates) and no body.
        ``refers_to`` is the earlier full capture when the crawler knows it (omitted when the
        earlier record was pruned or never stored).
        """
        warc_date, revisit_id = _warc_date(fetched_at), _record_id()
        headers = [
            ("WARC-Date", warc_date),
            ("WARC-Record-ID", revisit_id),
            ("WARC-Profile", SERVER_NOT_MODIFIED),
        ]
        if refers_to is not None:
            headers += [
                ("WARC-Refers-To", refers_to.record_id),
                ("WARC-Refers-To-Target-URI", refers_to.target_uri),
                ("WARC-Refers-To-Date", refers_to.date),
            ]
        headers.append(("WARC-Type", "revisit"))
        revisit = warc_record("revisit", headers, url, _status_block(status, reason, response_headers), None)
        return self._write_pair(revisit, url, method, request_headers, warc_date, revisit_id)

    def _write_pair(
        self,
        record: bytes,
        url: str,
        method: str,
        request_headers: list[tuple[str, str]],
        warc_date: str,
        record_id: str,
    ) -> WarcLocation:
        """Write ``record`` then its request (``WARC-Concurrent-To`` it); the record's location."""
        path = url.split("://", 1)[-1].split("/", 1)[1] if "/" in url.split("://", 1)[-1] else ""
        # warcio's is_http_request reading of the request line: protocol = up to the first space.
        protocol, _, statusline = f"{method} /{path} HTTP/1.1".partition(" ")
        request = warc_record(
            "request",
            [
                ("WARC-Date", warc_date),
                ("WARC-Concurrent-To", record_id),
                ("WARC-Type", "request"),
                ("WARC-Record-ID", _record_id()),
            ],
            url,
            http_block(protocol, statusline, request_headers),
            b"",
        )
        offset, length = self._write_bytes(record, request)
        return WarcLocation(self.path, offset, length)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RunWarcWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_response(location: WarcLocation | tuple[str, int]) -> RawResponse:
    """Read the response (or revisit) record at ``(path, offset)``: one seek, one gzip member.

    With a :class:`WarcLocation` (length known) exactly the member's bytes are read: one
    ranged GET on an object store (``s3://``).

    A revisit reads back with ``kind="revisit"``, its own status (304) and headers, an empty
    body and ``refers_to`` (the earlier capture); readers that need a payload skip it.
    """
    return _read(location, with_body=True)


def read_ref(location: WarcLocation | tuple[str, int]) -> WarcRef | None:
    """The identity of the record at ``location`` (headers only, the body is not read)."""
    return _read(location, with_body=False).ref


def _read(location: WarcLocation | tuple[str, int], *, with_body: bool) -> RawResponse:
    """The record at ``location``; anything that is not a readable HTTP record is a ``ValueError``.

    Callers treat ``OSError`` (file gone) and ``ValueError`` (no record there: a wrong
    offset, a damaged or overwritten file) as "unreadable", so warcio's and zlib's own
    parse errors are reported as the latter.
    """
    if isinstance(location, WarcLocation):
        path, offset, length = location.path, location.offset, location.length
    else:
        (path, offset), length = location, 0
    try:
        if length > 0:
            # The gzip member's exact bytes: on an object store one ranged GET, nothing more.
            fs, fs_path = fsspec.core.url_to_fs(path)
            member = fs.cat_file(fs_path, start=offset, end=offset + length)
            return _parse(ArchiveIterator(io.BytesIO(member)), with_body, f"{path}@{offset}")
        # Length unknown: read ahead in small blocks (s3fs would fetch 50 MB per record).
        with fsspec.open(path, "rb", block_size=READ_BLOCK_BYTES) as handle:
            handle.seek(offset)
            return _parse(ArchiveIterator(handle), with_body, f"{path}@{offset}")
    except (ArchiveLoadFailed, zlib.error) as exc:
        raise ValueError(f"no readable WARC record at {path}@{offset}: {exc}") from exc


def _parse(records: ArchiveIterator, with_body: bool, where: str) -> RawResponse:
    for record in records:
        if record.rec_type not in ("response", "revisit"):
            raise ValueError(f"record at {where} is {record.rec_type}, not a response")
        warc = record.rec_headers
        http = record.http_headers
        if http is None or not warc.get_header("WARC-Target-URI"):  # a wrong offset, garbage
            raise ValueError(f"no HTTP response record at {where}")
        refers_to = None
        if record.rec_type == "revisit" and warc.get_header("WARC-Refers-To-Target-URI"):
            refers_to = WarcRef(
                record_id=str(warc.get_header("WARC-Refers-To") or ""),
                target_uri=str(warc.get_header("WARC-Refers-To-Target-URI")),
                date=str(warc.get_header("WARC-Refers-To-Date") or ""),
            )
        return RawResponse(
            url=str(warc.get_header("WARC-Target-URI")),
            status=int(http.get_statuscode() or 0),
            headers=list(http.headers),
            body=record.content_stream().read() if with_body and record.rec_type == "response" else b"",
            kind=record.rec_type,
            record_id=warc.get_header("WARC-Record-ID"),
            date=warc.get_header("WARC-Date"),
            refers_to=refers_to,
        )
    raise ValueError(f"no WARC record at {where}")
