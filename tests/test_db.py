"""Models and migrations on both backends: round trips, no drift, aware UTC timestamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from pipeline.db import migrate
from pipeline.db.engine import make_engine, session_scope
from pipeline.db.models import Article, CrawlRun, Source

EXPECTED_TABLES = {
    "sources",
    "crawl_runs",
    "fetches",
    "crawl_links",
    "extracted_records",
    "articles",
    "article_versions",
    "article_links",
    "near_dup_buckets",
    "boilerplate_lines",
}


def _source(now: datetime) -> Source:
    return Source(key="s1", name="S1", homepage="http://x/", config_hash="h", created_at=now, updated_at=now)


def test_schema_has_every_table_and_no_drift(db_url: str) -> None:
    engine = make_engine(db_url)
    assert set(inspect(engine).get_table_names()) >= EXPECTED_TABLES
    engine.dispose()
    migrate.check(db_url)  # raises on drift
    assert migrate.current_revision(db_url) is not None


def test_upgrade_twice_is_noop_and_downgrade_round_trips(db_url: str) -> None:
    head = migrate.current_revision(db_url)
    migrate.upgrade(db_url)
    assert migrate.current_revision(db_url) == head
    migrate.downgrade(db_url, "base")
    engine = make_engine(db_url)
    assert not EXPECTED_TABLES & set(inspect(engine).get_table_names())
    engine.dispose()
    migrate.upgrade(db_url)
    assert migrate.current_revision(db_url) == head
    migrate.check(db_url)


def test_timestamps_come_back_aware_utc(db_url: str) -> None:
    engine = make_engine(db_url)
    plus2 = timezone(timedelta(hours=2))
    stamp = datetime(2026, 5, 1, 12, 0, tzinfo=plus2)
    with session_scope(engine) as s:
        src = _source(stamp)
        s.add(src)
        s.flush()
        s.add(CrawlRun(run_id="r1", source_id=src.id, started_at=stamp, params={"a": [1, 2]}))
    with session_scope(engine) as s:
        run = s.scalars(select(CrawlRun)).one()
        assert run.started_at == datetime(2026, 5, 1, 10, 0, tzinfo=UTC)
        assert run.started_at.utcoffset() == timedelta(0)
        assert run.params == {"a": [1, 2]}
        assert run.status == "running"
    engine.dispose()


def test_naive_datetimes_are_refused(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    with pytest.raises(Exception, match="naive datetime"), session_scope(engine) as s:
        s.add(_source(datetime(2026, 1, 1)))
    engine.dispose()


def test_canonical_url_is_unique(db_url: str) -> None:
    engine = make_engine(db_url)
    now = datetime.now(UTC)
    with session_scope(engine) as s:
        src = _source(now)
        s.add(src)
        s.flush()
        source_id = src.id

    def article(url_hash: str) -> Article:
        return Article(
            url_hash=url_hash,
            source_id=source_id,
            url="http://x/a",
            canonical_url="http://x/a",
            text="t",
            word_count=1,
            content_hash="c",
            first_seen_at=now,
            last_seen_at=now,
            updated_at=now,
            extractor_version="v",
            authors=["A B"],
            tags=[],
        )

    with session_scope(engine) as s:
        s.add(article("h1"))
    with pytest.raises(IntegrityError), session_scope(engine) as s:
        s.add(article("h2"))
    with session_scope(engine) as s:
        assert s.scalars(select(Article)).one().authors == ["A B"]
    engine.dispose()
