"""The raw store: WARC/1.1 files of every response, one file per run, local or fsspec.

Raw first: bodies are archived before anything else happens, so extraction can be rerun
later (better extractor, fixed rule) without crawling again. Each record pair is written and
flushed as one gzip member, so a crash mid-run leaves every earlier record readable.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

import fsspec
from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter


@dataclass(frozen=True)
class WarcLocation:
    """Where one response record sits: file path/URL, byte offset and length of the gzip member."""

    path: str
    offset: int
    length: int


@dataclass(frozen=True)
class RawResponse:
    """A response read back from the store."""

    url: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes

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


class RunWarcWriter:
    """Appends request+response record pairs to one run's WARC file."""

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
        start = self._offset
        buffer = io.BytesIO()
        WARCWriter(buffer, gzip=True, warc_version="WARC/1.1").write_record(record)
        data = buffer.getvalue()
        self._file.write(data)
        self._file.flush()
        self._offset += len(data)
        return start, len(data)

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
        when = (fetched_at or datetime.now(UTC)).astimezone(UTC)
        warc_date = when.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        response_id = f"<urn:uuid:{uuid.uuid4()}>"
        http_headers = StatusAndHeaders(f"{status} {reason}".strip(), response_headers, protocol="HTTP/1.1")
        response = self._writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            http_headers=http_headers,
            warc_headers_dict={"WARC-Date": warc_date, "WARC-Record-ID": response_id},
        )
        path = url.split("://", 1)[-1].split("/", 1)[1] if "/" in url.split("://", 1)[-1] else ""
        req_headers = StatusAndHeaders(f"{method} /{path} HTTP/1.1", request_headers, is_http_request=True)
        request = self._writer.create_warc_record(
            url,
            "request",
            http_headers=req_headers,
            warc_headers_dict={"WARC-Date": warc_date, "WARC-Concurrent-To": response_id},
        )
        offset, length = self._write(response)
        self._write(request)
        return WarcLocation(self.path, offset, length)

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> RunWarcWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_response(location: WarcLocation | tuple[str, int]) -> RawResponse:
    """Read the response record at ``(path, offset)``: one seek, one gzip member."""
    path, offset = (location.path, location.offset) if isinstance(location, WarcLocation) else location
    with fsspec.open(path, "rb") as handle:
        handle.seek(offset)
        for record in ArchiveIterator(handle):
            if record.rec_type != "response":
                raise ValueError(f"record at {path}@{offset} is {record.rec_type}, not a response")
            http = record.http_headers
            status = int(http.get_statuscode() or 0)
            return RawResponse(
                url=str(record.rec_headers.get_header("WARC-Target-URI")),
                status=status,
                headers=list(http.headers),
                body=record.content_stream().read(),
            )
    raise ValueError(f"no WARC record at {path}@{offset}")
