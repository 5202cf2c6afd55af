"""Faults of the raw store on an object store (issue 17), against moto's S3 server on loopback.

Rows: a rerun's superseded records could not be copied to ``s3://`` (``os.fsync`` of an S3
file: ``io.UnsupportedOperation``); every record read fetched s3fs's 50 MB read-ahead instead
of the record's own bytes; ``newsflow purge`` refused an ``s3://`` store. The whole flow
(crawl, extract, re-extract, rerun, purge, retention in separate processes) is
``tests/test_rawstore_s3.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from pipeline.rawstore import RunWarcWriter, WarcLocation, read_response
from tests.s3server import audit_connects, s3_environment

BUCKET = "newsflow-faults"
STORE = f"s3://{BUCKET}/raw"


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, str]]:
    env = yield from _env(monkeypatch, tmp_path)
    return env


def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, str]]:
    for env in s3_environment(monkeypatch, tmp_path, BUCKET):
        audit_connects(monkeypatch)
        yield env


def _warc(path: str, bodies: list[bytes]) -> list[WarcLocation]:
    with RunWarcWriter(path) as writer:
        return [
            writer.write_exchange(
                f"http://127.0.0.1/story-{i}",
                "GET",
                [("Host", "127.0.0.1")],
                200,
                "OK",
                [("Content-Type", "text/html")],
                body,
            )
            for i, body in enumerate(bodies)
        ]


def test_superseded_records_are_copied_to_an_object_store(s3: dict[str, str]) -> None:
    from pipeline.supersede import copy_members

    source = f"{STORE}/site/run.warc.gz"
    locations = _warc(source, [b"<p>first</p>", b"<p>second</p>"])
    target = f"{STORE}/site/run.superseded-1.warc.gz"
    moved = copy_members(source, target, [(loc.offset, loc.length) for loc in locations[1:]])
    second = locations[1]
    copied = read_response(WarcLocation(target, moved[(second.offset, second.length)], second.length))
    assert copied.body == b"<p>second</p>" and copied.url == "http://127.0.0.1/story-1"


def test_a_record_read_fetches_the_record_not_a_read_ahead_block(
    s3: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from s3fs import S3FileSystem

    # Incompressible bodies: an object of ~6 MB, three records of ~2 MB.
    locations = _warc(f"{STORE}/site/big.warc.gz", [os.urandom(2 << 20) for _ in range(3)])
    fetched: list[str] = []
    call = S3FileSystem._call_s3

    async def observed(self: Any, method: str, *args: Any, **kwargs: Any) -> Any:
        if method == "get_object":
            fetched.append(str(kwargs.get("Range")))
        return await call(self, method, *args, **kwargs)

    monkeypatch.setattr(S3FileSystem, "_call_s3", observed)
    first = locations[0]
    assert len(read_response(first).body) == 2 << 20
    # One GET of exactly the member's bytes (HTTP ranges are inclusive).
    assert fetched == [f"bytes={first.offset}-{first.offset + first.length - 1}"]


def test_purge_rewrites_an_object_keeping_every_offset(s3: dict[str, str]) -> None:
    from s3fs import S3FileSystem

    from pipeline.warcpurge import purge_record

    path = f"{STORE}/site/purge.warc.gz"
    locations = _warc(path, [b"<p>take me down</p>" * 50, b"<p>keep me</p>" * 50])
    fs = S3FileSystem()
    size = fs.size(f"{BUCKET}/raw/site/purge.warc.gz")
    first, second = locations
    when = datetime(2026, 1, 2, tzinfo=UTC)
    done = purge_record(path, first.offset, first.length, {"http://127.0.0.1/story-0"}, "takedown", when)
    assert done.outcome == "purged", done
    fs.invalidate_cache()
    assert fs.size(f"{BUCKET}/raw/site/purge.warc.gz") == size
    with pytest.raises(ValueError, match="metadata"):
        read_response(first)
    assert read_response(second).body == b"<p>keep me</p>" * 50
    again = purge_record(path, first.offset, first.length, {"http://127.0.0.1/story-0"}, "takedown", when)
    assert again.outcome == "already"
