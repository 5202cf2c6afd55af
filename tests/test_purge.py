"""``newsflow purge`` on both backends: text, versions, extraction JSON and WARC payloads go,
the audit row stays, other records keep their offsets, a second purge is a no-op, the load never
stores the URL again, and a purge that died half-way is finished by the next one."""

from __future__ import annotations

import gzip
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner
from warcio.archiveiterator import ArchiveIterator

from pipeline.cli import app
from pipeline.db.engine import make_engine, session_scope
from pipeline.db.models import Article, ArticlePurge, ArticleVersion, ExtractedRecord, Fetch
from pipeline.rawstore import RunWarcWriter, WarcLocation, read_response
from pipeline.search import search
from pipeline.stages import purge as purge_stage
from pipeline.stages.load import load
from pipeline.stages.purge import purge
from pipeline.urls import canonicalize, url_hash
from pipeline.warcpurge import metadata_record, padded_member, purge_record
from tests.loadkit import T0, article, make_run, make_source, story
from tests.test_load import snapshot

BASE = "http://127.0.0.1:8701/2026/05/01"
TARGET = f"{BASE}/the-story"
SECRET = "Zanzibarquux testified about the harbour contract"
NOW = "2026-05-03T09:30:00Z"


def capture(
    engine: Engine,
    writer: RunWarcWriter,
    run_pk: int,
    source_id: int,
    url: str,
    text: str,
    fetched_at: datetime,
) -> WarcLocation:
    """Archive a page like the crawler does and add its fetch + extraction rows."""
    body = f"<html><body><h1>Story</h1><p>{text}</p></body></html>".encode()
    location = writer.write_exchange(
        url, "GET", [("User-Agent", "t")], 200, "OK", [("Content-Type", "text/html")], body, fetched_at
    )
    with session_scope(engine) as s:
        fetch = Fetch(
            run_id=run_pk,
            source_id=source_id,
            url=url,
            url_hash=url_hash(canonicalize(url)),
            canonical_url=canonicalize(url),
            status=200,
            fetched_at=fetched_at,
            discovery="feed",
            outcome="fetched",
            is_article_candidate=True,
            warc_path=location.path,
            warc_offset=location.offset,
            warc_length=location.length,
            body_hash="b" * 64,
        )
        s.add(fetch)
        s.flush()
        s.add(
            ExtractedRecord(
                run_id=run_pk,
                fetch_id=fetch.id,
                status="ok",
                record=article(url, text, title="The story"),
                extractor_version="test-1",
                created_at=fetched_at,
            )
        )
    return location


def build(engine: Engine, db_url: str, raw: Path) -> dict[str, Any]:
    """Two runs: the story in both (changed in the second), one other story in each."""
    src = make_source(engine)
    r1, r2 = make_run(engine, src, "r1"), make_run(engine, src, "r2")
    first = story(1) + " " + SECRET + "."
    second = first + "\n\nUpdate: " + SECRET + " again."
    with RunWarcWriter(str(raw / "r1.warc.gz")) as w1:
        other1 = capture(engine, w1, r1, src, f"{BASE}/other-1", story(2), T0)
        target1 = capture(engine, w1, r1, src, TARGET, first, T0)
    with RunWarcWriter(str(raw / "r2.warc.gz")) as w2:
        target2 = capture(engine, w2, r2, src, TARGET, second, T0 + timedelta(hours=2))
        other2 = capture(engine, w2, r2, src, f"{BASE}/other-2", story(3), T0 + timedelta(hours=2))
    load("r1", database_url=db_url)
    load("r2", database_url=db_url)
    return {"src": src, "targets": [target1, target2], "others": [other1, other2]}


def test_purge_takes_the_story_down_and_keeps_everything_else(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSFLOW_NOW", NOW)
    engine = make_engine(db_url)
    built = build(engine, db_url, tmp_path)
    with engine.connect() as conn:
        article_id = conn.execute(select(Article.id).where(Article.url == TARGET)).scalar_one()
    assert search("Zanzibarquux", database_url=db_url)

    result = purge(url=TARGET, reason="court order 7", database_url=db_url)
    assert not result.already_purged and result.article_id == article_id
    assert (result.versions_deleted, result.warc_records_purged, result.warc_records_zeroed) == (2, 2, 0)
    assert (result.fetches, result.records_cleared) == (2, 2)

    with engine.connect() as conn:
        row = conn.execute(select(Article.__table__).where(Article.id == article_id)).one()
        assert (row.text, row.description, row.word_count, row.title) == ("", None, 0, "The story")
        assert row.removal_reason == "purged: court order 7"
        assert row.removed_at == datetime(2026, 5, 3, 9, 30, tzinfo=UTC)
        assert conn.execute(select(func.count()).where(ArticleVersion.article_id == article_id)).scalar() == 0
        fetches = conn.execute(select(Fetch.__table__).where(Fetch.url == TARGET)).all()
        assert all(f.hints["purged"].endswith("court order 7") and f.body_hash is None for f in fetches)
        records = conn.execute(
            select(ExtractedRecord.record).where(ExtractedRecord.fetch_id.in_([f.id for f in fetches]))
        ).all()
        assert records and all(r.record is None for r in records)
        audit = conn.execute(select(ArticlePurge.__table__)).one()
        assert (audit.url, audit.reason, audit.versions_deleted, audit.warc_records_purged) == (
            TARGET,
            "court order 7",
            2,
            2,
        )
    assert not search("Zanzibarquux", database_url=db_url, include_removed=True)
    assert all(hit.article_id != article_id for hit in search("story", database_url=db_url, all_copies=True))

    # The WARC files: the story's payload is gone, every other record is where it was.
    for location in built["targets"]:
        with pytest.raises(ValueError, match="metadata, not a response"):
            read_response(location)
    for location, seed in zip(built["others"], (2, 3), strict=True):
        assert story(seed).split("\n\n")[0][:40].encode() in read_response(location).body
    for name in ("r1.warc.gz", "r2.warc.gz"):
        data = (tmp_path / name).read_bytes()
        assert b"Zanzibarquux" not in gzip.decompress(data)
        kinds = [r.rec_type for r in ArchiveIterator(io.BytesIO(data))]
        assert kinds.count("metadata") == 1 and kinds.count("response") == 1 and kinds[0] == "warcinfo"

    # Idempotent: a second purge (by id, or through the CLI) says so and changes nothing.
    before = snapshot(engine)
    again = purge(article_id=article_id, reason="another request", database_url=db_url)
    assert again.already_purged and again.reason == "court order 7"
    cli = CliRunner().invoke(app, ["purge", "--url", TARGET, "--reason", "x", "--database-url", db_url])
    assert cli.exit_code == 0 and "already purged" in cli.output
    assert snapshot(engine) == before

    # The load never stores it again: old runs reloaded, or a new capture of the URL.
    assert load("r2", database_url=db_url).rejected_reasons == {"purged": 1}
    r3 = make_run(engine, built["src"], "r3")
    with RunWarcWriter(str(tmp_path / "r3.warc.gz")) as w3:
        capture(engine, w3, r3, built["src"], TARGET, story(9), T0 + timedelta(hours=9))
    fresh = load("r3", database_url=db_url)
    assert (fresh.new, fresh.updated, fresh.rejected, fresh.rejected_reasons) == (0, 0, 1, {"purged": 1})
    assert snapshot(engine)["articles"] == before["articles"]
    engine.dispose()


def test_a_purge_that_died_half_way_is_finished_by_the_next(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(db_url)
    built = build(engine, db_url, tmp_path)
    # A torn write from an earlier attempt: the first bytes of a purge member over record 1.
    torn = built["targets"][0]
    member = padded_member(metadata_record(TARGET, None, "x", datetime.now(UTC)), torn.length)
    assert member is not None
    with open(torn.path, "r+b") as handle:
        handle.seek(torn.offset)
        handle.write(member[:40])

    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("killed between the WARC rewrite and the database transaction")

    monkeypatch.setattr(purge_stage, "_write", crash)
    with pytest.raises(RuntimeError):
        purge(url=TARGET, reason="takedown", database_url=db_url)
    for location in built["targets"]:  # both notices are in place, the other records intact
        with pytest.raises(ValueError, match="metadata"):
            read_response(location)
    assert all(read_response(location).status == 200 for location in built["others"])
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(ArticlePurge)).scalar() == 0
    monkeypatch.undo()

    result = purge(url=TARGET, reason="takedown", database_url=db_url)
    assert not result.already_purged and result.warc_records_purged == 2 and result.versions_deleted == 2
    assert purge(url=TARGET, reason="takedown", database_url=db_url).already_purged
    engine.dispose()


def test_records_and_places_that_are_not_the_story_are_left_alone(tmp_path: Path) -> None:
    path = str(tmp_path / "w.warc.gz")
    with RunWarcWriter(path) as writer:
        big = writer.write_exchange("http://a.test/y", "GET", [], 200, "OK", [], b"y" * 5000, None)
    # A hand-made record smaller than any notice could be.
    small = b"WARC/1.1\r\nWARC-Type: response\r\nWARC-Target-URI: http://a.test/x\r\nContent-Length: 0\r\n\r\n\r\n\r\n"
    member = gzip.compress(small, mtime=0)
    with open(path, "ab") as handle:
        offset = handle.tell()
        handle.write(member)
    tiny = WarcLocation(path, offset, len(member))
    when = datetime(2026, 5, 3, tzinfo=UTC)
    # Not the URL the database names: never overwritten.
    assert purge_record(path, big.offset, big.length, {"http://a.test/other"}, "r", when).outcome == "skipped"
    assert read_response(big).body == b"y" * 5000
    # Too small for a notice: zeroed, and reported; the records around it still read.
    assert purge_record(path, tiny.offset, tiny.length, {"http://a.test/x"}, "r", when).outcome == "zeroed"
    with pytest.raises(ValueError):
        read_response(tiny)
    assert read_response(big).body == b"y" * 5000
    assert purge_record(path, tiny.offset, tiny.length, {"http://a.test/x"}, "r", when).outcome == "already"
