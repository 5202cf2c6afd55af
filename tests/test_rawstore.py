"""WARC raw store: records read back by offset, and a crash mid-file keeps earlier records."""

from __future__ import annotations

import gzip
import random
import zlib
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from warcio.archiveiterator import ArchiveIterator

from pipeline.rawstore import (
    RunWarcWriter,
    _warc_date,
    body_hash,
    gzip_member,
    read_ref,
    read_response,
    run_warc_path,
)


def test_records_read_back_by_offset(tmp_path: Path) -> None:
    path = run_warc_path(str(tmp_path), "src", "run/1:x")
    assert path.endswith("src/run_1_x.warc.gz")
    bodies = [f"<html><p>page {i} ünïcode</p></html>".encode() for i in range(5)]
    with RunWarcWriter(path) as writer:
        locations = [
            writer.write_exchange(
                f"http://127.0.0.1/a/{i}?q=1",
                "GET",
                [("User-Agent", "t")],
                200,
                "OK",
                [("Content-Type", "text/html; charset=utf-8"), ("ETag", f'"e{i}"')],
                body,
            )
            for i, body in enumerate(bodies)
        ]
    for i, location in enumerate(locations):
        response = read_response(location)
        assert response.url == f"http://127.0.0.1/a/{i}?q=1"
        assert response.status == 200
        assert response.header("etag") == f'"e{i}"'
        assert response.body == bodies[i]
        assert body_hash(response.body) == body_hash(bodies[i])
    with open(path, "rb") as handle:
        kinds = [record.rec_type for record in ArchiveIterator(handle)]
    assert kinds == ["warcinfo"] + ["response", "request"] * 5


def test_truncated_file_keeps_earlier_records(tmp_path: Path) -> None:
    path = str(tmp_path / "crash.warc.gz")
    writer = RunWarcWriter(path)
    first = writer.write_exchange("http://x/1", "GET", [], 200, "OK", [], b"one")
    # The recorder flushes before it commits the rows that point at the records (raw first).
    writer.flush()
    second = writer.write_exchange("http://x/2", "GET", [], 200, "OK", [], b"two" * 1000)
    writer.flush()
    # Simulate a crash: the process dies mid-write of the second record (no close()).
    data = Path(path).read_bytes()
    Path(path).write_bytes(data[: second.offset + second.length // 2])
    assert read_response(first).body == b"one"


def test_rerun_truncates_the_run_file(tmp_path: Path) -> None:
    path = str(tmp_path / "r.warc.gz")
    with RunWarcWriter(path) as writer:
        writer.write_exchange("http://x/1", "GET", [], 200, "OK", [], b"a" * 5000)
    with RunWarcWriter(path) as writer:
        writer.write_exchange("http://x/2", "GET", [], 200, "OK", [], b"b" * 5000)
    with open(path, "rb") as handle:
        uris = [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(handle)]
    assert uris == [None, "http://x/2", "http://x/2"]


def test_not_modified_is_a_revisit_of_the_earlier_capture(tmp_path: Path) -> None:
    from pipeline.rawstore import SERVER_NOT_MODIFIED

    path = str(tmp_path / "r.warc.gz")
    with RunWarcWriter(path) as writer:
        full = writer.write_exchange("http://x/a", "GET", [], 200, "OK", [("ETag", '"v1"')], b"<p>page</p>")
        writer.flush()  # records are readable once flushed (the recorder flushes before its rows)
        earlier = read_ref(full)
        assert earlier is not None and earlier.target_uri == "http://x/a"
        revisit = writer.write_revisit(
            "http://x/a", "GET", [("If-None-Match", '"v1"')], 304, "Not Modified", [("ETag", '"v1"')], earlier
        )
        orphan = writer.write_revisit("http://x/b", "GET", [], 304, "Not Modified", [], None)
    with open(path, "rb") as handle:
        records = [(r.rec_type, r.rec_headers) for r in ArchiveIterator(handle)]
    assert [kind for kind, _ in records] == [
        "warcinfo",
        "response",
        "request",
        "revisit",
        "request",
        "revisit",
        "request",
    ]
    headers = records[3][1]
    assert headers.get_header("WARC-Profile") == SERVER_NOT_MODIFIED
    assert headers.get_header("WARC-Refers-To") == records[1][1].get_header("WARC-Record-ID")
    assert headers.get_header("WARC-Refers-To-Target-URI") == "http://x/a"
    assert headers.get_header("WARC-Refers-To-Date") == records[1][1].get_header("WARC-Date")
    assert records[4][1].get_header("WARC-Concurrent-To") == headers.get_header("WARC-Record-ID")
    assert records[5][1].get_header("WARC-Refers-To-Target-URI") is None  # earlier capture unknown

    back = read_response(revisit)
    assert back.kind == "revisit" and back.status == 304 and back.body == b""
    assert back.header("etag") == '"v1"' and back.refers_to == earlier
    assert read_response(orphan).refers_to is None
    assert read_response(full).kind == "response" and read_response(full).body == b"<p>page</p>"


def test_a_wrong_offset_is_an_error_not_an_empty_page(tmp_path: Path) -> None:
    path = str(tmp_path / "r.warc.gz")
    with RunWarcWriter(path) as writer:
        locations = [
            writer.write_exchange(
                f"http://x/{i}", "GET", [], 200, "OK", [], b"<p>" + b"x" * 3000 * i + b"</p>"
            )
            for i in range(1, 4)
        ]
    # ValueError, whatever warcio or zlib tripped on: the crawler's readers of an earlier
    # capture catch (OSError, ValueError) as "unreadable" and carry on without it.
    for location in locations:
        for delta in (1, 7):
            with pytest.raises(ValueError, match="record at "):
                read_response((location.path, location.offset + delta))
            with pytest.raises(ValueError, match="record at "):
                read_ref((location.path, location.offset + delta))
    damaged = bytearray(Path(path).read_bytes())
    damaged[locations[1].offset + 40] ^= 0xFF  # a flipped bit inside the gzip member
    Path(path).write_bytes(bytes(damaged))
    assert read_response(locations[0]).url == "http://x/1"
    with pytest.raises(ValueError, match="record at "):
        read_response(locations[1])


def _warcio_bytes(
    rec_type: str, url: str, warc_headers: dict[str, str], http: Any, payload: bytes | None
) -> bytes:
    """The record as warcio's own writer serialises it (uncompressed)."""
    import io

    from warcio.warcwriter import WARCWriter

    buffer = io.BytesIO()
    writer = WARCWriter(buffer, gzip=False, warc_version="WARC/1.1")
    record = writer.create_warc_record(
        url,
        rec_type,
        payload=io.BytesIO(payload) if payload else None,
        length=len(payload) if payload else None,
        http_headers=http,
        warc_headers_dict=warc_headers,
    )
    writer.write_record(record)
    return buffer.getvalue()


def test_records_are_byte_identical_to_warcios_writer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The lean serialiser writes exactly what warcio would (headers, order, digests, lengths)."""
    from warcio.recordbuilder import RecordBuilder
    from warcio.statusandheaders import StatusAndHeaders

    from pipeline.rawstore import SERVER_NOT_MODIFIED, http_block, warc_record

    monkeypatch.setattr(RecordBuilder, "_make_warc_id", classmethod(lambda cls: "<urn:uuid:req>"))
    url = "http://127.0.0.1:8701/news/caf\u00e9-story?id=1"
    date, rid = "2026-05-01T12:00:00.123456Z", "<urn:uuid:resp>"
    headers = [("Content-Type", "text/html; charset=utf-8"), ("X-Title", "Caf\u00e9 \u2013 news")]
    body = "<html><p>Caf\u00e9</p></html>".encode() * 50

    def http() -> StatusAndHeaders:
        return StatusAndHeaders("200 OK", list(headers), protocol="HTTP/1.1")

    ours = warc_record(
        "response",
        [("WARC-Date", date), ("WARC-Record-ID", rid), ("WARC-Type", "response")],
        url,
        http_block("HTTP/1.1", "200 OK", list(headers)),
        body,
    )
    assert ours == _warcio_bytes("response", url, {"WARC-Date": date, "WARC-Record-ID": rid}, http(), body)

    refs = {
        "WARC-Profile": SERVER_NOT_MODIFIED,
        "WARC-Refers-To": "<urn:uuid:old>",
        "WARC-Refers-To-Target-URI": url,
        "WARC-Refers-To-Date": "2026-04-30T12:00:00Z",
    }
    revisit_headers = {"WARC-Date": date, "WARC-Record-ID": rid, **refs}
    ours = warc_record(
        "revisit",
        [*revisit_headers.items(), ("WARC-Type", "revisit")],
        url,
        http_block("HTTP/1.1", "200 OK", list(headers)),
        None,
    )
    assert ours == _warcio_bytes("revisit", url, revisit_headers, http(), None)

    def request() -> StatusAndHeaders:
        return StatusAndHeaders(
            "GET /news/caf%C3%A9-story?id=1 HTTP/1.1", [("Accept", "*/*")], is_http_request=True
        )

    ours = warc_record(
        "request",
        [
            ("WARC-Date", date),
            ("WARC-Concurrent-To", rid),
            ("WARC-Type", "request"),
            ("WARC-Record-ID", "<urn:uuid:req>"),
        ],
        url,
        http_block("GET", "/news/caf%C3%A9-story?id=1 HTTP/1.1", [("Accept", "*/*")]),
        b"",
    )
    assert ours == _warcio_bytes(
        "request", url, {"WARC-Date": date, "WARC-Concurrent-To": rid}, request(), None
    )


@pytest.mark.parametrize(
    ("protocol", "statusline", "headers"),
    [
        ("HTTP/1.1", "200 OK", [("Content-Type", "text/html"), ("ETag", '"x"'), ("Empty", "")]),
        ("HTTP/1.1", "404", []),
        ("GET", "/a?b=1 HTTP/1.1", [("User-Agent", "t"), ("Referer", "http://x/ y")]),
        ("", "/a HTTP/1.1", [("A", "b")]),  # a request line without a method
        ("HTTP/1.1", "", [("A", "b")]),
        ("", "", []),
        ("HTTP/1.1", "200 OK", [("X-Title", "Caf\u00e9 \u2013 news"), ("Location", "/caf\u00e9")]),
        ("HTTP/1.1", "200 OK", [("Link", "</\u00fc>; rel=x"), ("X-\u00fc", "v")]),  # warcio raised
    ],
)
def test_http_block_is_warcios(protocol: str, statusline: str, headers: list[tuple[str, str]]) -> None:
    """The HTTP header block built directly is warcio's, non-ASCII headers (its fallback) included."""
    from warcio.statusandheaders import StatusAndHeaders

    from pipeline.rawstore import http_block

    try:
        expected = StatusAndHeaders(statusline, list(headers), protocol=protocol).to_ascii_bytes()
    except UnicodeEncodeError:  # warcio raised (a fault: tests/faults/test_bad_input.py)
        block = http_block(protocol, statusline, list(headers))
        assert block.isascii() and b"%" in block  # what warcio left non-ASCII, %-encoded whole
        return
    assert http_block(protocol, statusline, list(headers)) == expected
    if protocol and statusline:  # the request record's reading of its request line
        line = f"{protocol} {statusline}"
        request = StatusAndHeaders(line, list(headers), is_http_request=True).to_ascii_bytes()
        assert http_block(*line.split(" ", 1), list(headers)) == request


@pytest.mark.parametrize("size", [0, 1, 300, 2_000, 7_000, 40_000, 300_000])
def test_gzip_members_are_single_complete_members(size: int) -> None:
    """A record is one whole gzip member (zlib-ng's) that zlib and gzip read back exactly."""
    words = b" ".join(b"%d-%x" % (i * i % 997, i) for i in range(size))
    data = (b"<p>newsflow</p> " + words)[:size]
    member = gzip_member(data)
    reader = zlib.decompressobj(zlib.MAX_WBITS | 16)
    assert reader.decompress(member) == data
    assert reader.eof and reader.unused_data == b""  # nothing after the member's trailer
    assert gzip.decompress(member + gzip_member(b"next")) == data + b"next"


def test_warc_date_cached_per_second_is_strftime() -> None:
    """The per-second cache gives what one ``strftime`` per record gave, whatever the order.

    Times jump back and forth across seconds (and days, and zones), repeat a second with
    other microseconds, and hit microsecond 0, so a stale cached second would show.
    """
    rng = random.Random(7)
    start = datetime(2026, 12, 31, 23, 59, 58, tzinfo=UTC)
    zones = [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-8))]
    moments = [start + timedelta(microseconds=rng.randrange(0, 4_000_000)) for _ in range(3000)]
    moments += [start.replace(microsecond=0), start + timedelta(seconds=1), start]
    for moment in moments:
        when = moment.astimezone(rng.choice(zones))
        assert _warc_date(when) == when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"), when
    before = datetime.now(UTC).replace(microsecond=0)
    assert _warc_date(None)[:19] >= before.strftime("%Y-%m-%dT%H:%M:%S")  # default: now
