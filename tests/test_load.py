"""The load stage on both backends: upserts, versions, rejections, counters, links, clusters."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from sqlalchemy import Engine, func, select

from pipeline.db.engine import make_engine
from pipeline.db.models import Article, ArticleLink, ArticleVersion
from pipeline.load.validate import MAX_TEXT_CHARS
from pipeline.stages.load import load
from tests.loadkit import (
    POISON,
    T0,
    add_record,
    article,
    bulk_records,
    counters,
    make_run,
    make_source,
    refuse_poison,
    story,
)

BASE = "http://127.0.0.1:8701/2026/05/01"


def snapshot(engine: Engine) -> dict[str, list[tuple[object, ...]]]:
    """Every row the load writes, in a stable order, for exact before/after comparisons."""
    with engine.connect() as conn:
        return {
            "articles": [
                tuple(r) for r in conn.execute(select(Article.__table__).order_by(Article.url_hash)).all()
            ],
            "versions": [
                tuple(r)
                for r in conn.execute(
                    select(ArticleVersion.__table__).order_by(
                        ArticleVersion.article_id, ArticleVersion.version
                    )
                ).all()
            ],
            "links": [
                tuple(r)
                for r in conn.execute(
                    select(ArticleLink.__table__).order_by(ArticleLink.from_article_id, ArticleLink.to_url)
                ).all()
            ],
        }


def test_load_twice_gives_identical_rows_and_counters(db_url: str) -> None:
    engine = make_engine(db_url)
    src = make_source(engine)
    run = make_run(engine, src)
    bulk_records(engine, run, src, 30)
    first = load("r1", database_url=db_url, batch_size=7)
    assert (first.new, first.updated, first.unchanged, first.rejected) == (30, 0, 0, 0)
    assert first.batches == 5
    before = snapshot(engine)
    assert len(before["articles"]) == 30 and len(before["versions"]) == 30
    again = load("r1", database_url=db_url, batch_size=11)
    assert snapshot(engine) == before
    assert (again.new, again.updated, again.unchanged) == (30, 0, 0)
    assert counters(engine, "r1") == (30, 0, 0, 0, 0)
    engine.dispose()


def test_changed_content_makes_a_version_and_unchanged_only_moves_last_seen(db_url: str) -> None:
    engine = make_engine(db_url)
    src = make_source(engine)
    r1, r2, r3 = (make_run(engine, src, f"r{i}") for i in (1, 2, 3))
    url_a, url_b = f"{BASE}/a", f"{BASE}/b"
    add_record(engine, r1, src, article(url_a, story(1)), fetched_at=T0)
    add_record(engine, r1, src, article(url_b, story(2)), fetched_at=T0)
    load("r1", database_url=db_url)
    changed = story(1) + "\n\nUpdate: the council answered on Tuesday."
    add_record(engine, r2, src, article(url_a, changed), fetched_at=T0 + timedelta(hours=1))
    add_record(engine, r2, src, article(url_b, story(2)), fetched_at=T0 + timedelta(hours=1))
    result = load("r2", database_url=db_url)
    assert (result.new, result.updated, result.unchanged) == (0, 1, 1)
    with engine.connect() as conn:
        a = conn.execute(select(Article.__table__).where(Article.url == url_a)).one()
        b = conn.execute(select(Article.__table__).where(Article.url == url_b)).one()
        assert a.version == 2 and a.text == changed
        assert a.first_seen_at == T0 and a.last_seen_at == T0 + timedelta(hours=1)
        assert b.version == 1 and b.last_seen_at == T0 + timedelta(hours=1)
        assert b.updated_at < a.updated_at
        versions = conn.execute(
            select(ArticleVersion.version, ArticleVersion.text)
            .where(ArticleVersion.article_id == a.id)
            .order_by(ArticleVersion.version)
        ).all()
        assert [v for v, _ in versions] == [1, 2] and versions[1][1] == changed
    # An older sighting with the old content (a backfill) neither reverts nor versions.
    add_record(engine, r3, src, article(url_a, story(1)), fetched_at=T0 - timedelta(hours=5))
    load("r3", database_url=db_url)
    with engine.connect() as conn:
        a = conn.execute(select(Article.__table__).where(Article.url == url_a)).one()
        assert a.version == 2 and a.text == changed and a.first_seen_at == T0 - timedelta(hours=5)
    assert counters(engine, "r3") == (0, 0, 1, 0, 0)
    engine.dispose()


def test_bad_records_are_rejected_with_reasons_and_the_rest_loads(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(db_url)
    src = make_source(engine)
    run = make_run(engine, src)
    good = article(f"{BASE}/good", story(5))
    no_url = dict(good, url="")
    old = article(f"{BASE}/old", story(6), published_at=T0.replace(year=1887))
    future = article(f"{BASE}/future", story(7), published_at=T0.replace(year=2031))
    huge = dict(article(f"{BASE}/huge", "x"), text="word " * (MAX_TEXT_CHARS // 5 + 10))
    # JSONB cannot even hold NUL, so only SQLite staging can hand one to the load.
    nul = article(f"{BASE}/nul", story(8) + ("\x00 trailing" if db_url.startswith("sqlite") else ""))
    for payload in (good, no_url, old, future, huge, nul, {"url": f"{BASE}/broken"}):
        add_record(engine, run, src, payload, url=f"{BASE}/fetched-{len(str(payload))}")
    with caplog.at_level(logging.WARNING, logger="pipeline.load"):
        result = load("r1", database_url=db_url, batch_size=100)
    assert result.rejected == 5 and result.new == 2
    assert result.rejected_reasons == {
        "missing url": 1,
        "absurd published_at": 2,
        "oversized text": 1,
        "invalid record": 1,
    }
    assert counters(engine, "r1") == (2, 0, 0, 0, 5)
    logged = caplog.text
    assert "missing url" in logged and "is before 1990" in logged and "oversized text" in logged
    with engine.connect() as conn:
        texts = conn.execute(select(Article.text)).scalars().all()
    assert len(texts) == 2 and all("\x00" not in t for t in texts)
    engine.dispose()


def test_duplicates_in_a_run_collapse_to_the_newest_fetch(db_url: str) -> None:
    engine = make_engine(db_url)
    src = make_source(engine)
    run = make_run(engine, src)
    url = f"{BASE}/dup"
    add_record(engine, run, src, article(url, story(1)), url=url + "?utm_source=x", fetched_at=T0)
    add_record(engine, run, src, article(url, story(2)), url=url, fetched_at=T0 + timedelta(minutes=5))
    add_record(engine, run, src, article(url + "#c", story(2)), url=url + "#c", fetched_at=T0)
    result = load("r1", database_url=db_url, batch_size=2)  # duplicates across and within batches
    assert (result.new, result.updated, result.unchanged, result.duplicate) == (1, 0, 0, 2)
    with engine.connect() as conn:
        row = conn.execute(select(Article.__table__)).one()
    assert row.text == story(2) and row.first_seen_at == T0 and row.version == 1
    engine.dispose()


def test_provenance_points_at_fetch_run_and_extractor(db_url: str) -> None:
    engine = make_engine(db_url)
    src = make_source(engine)
    run = make_run(engine, src)
    fetch_id = add_record(engine, run, src, article(f"{BASE}/p", story(3), extractor_version="tx-9"))
    load("r1", database_url=db_url)
    with engine.connect() as conn:
        row = conn.execute(select(Article.fetch_id, Article.run_id, Article.extractor_version)).one()
    assert tuple(row) == (fetch_id, run, "tx-9")
    engine.dispose()


def test_links_resolve_now_and_when_the_target_arrives_later(db_url: str) -> None:
    engine = make_engine(db_url)
    src = make_source(engine)
    r1, r2 = make_run(engine, src, "r1"), make_run(engine, src, "r2")
    a, b, c = f"{BASE}/a", f"{BASE}/b", f"{BASE}/c"
    add_record(
        engine, r1, src, article(a, story(1)), links=[(b, "related"), (c + "?utm_medium=x", "related")]
    )
    add_record(engine, r1, src, article(b, story(2), links=[(a, "inline"), (b, "inline")]))
    load("r1", database_url=db_url)
    with engine.connect() as conn:
        ids = dict(conn.execute(select(Article.url, Article.id)).all())
        edges = {
            (f, to_url, t)
            for f, to_url, t in conn.execute(
                select(ArticleLink.from_article_id, ArticleLink.to_url, ArticleLink.to_article_id)
            )
        }
    assert edges == {(ids[a], b, ids[b]), (ids[a], c, None), (ids[b], a, ids[a])}
    add_record(engine, r2, src, article(c, story(3)), fetched_at=T0 + timedelta(hours=1))
    load("r2", database_url=db_url)
    with engine.connect() as conn:
        resolved = conn.execute(select(ArticleLink.to_article_id).where(ArticleLink.to_url == c)).scalar_one()
        c_id = conn.execute(select(Article.id).where(Article.url == c)).scalar_one()
    assert resolved == c_id
    engine.dispose()


def test_near_duplicates_share_a_cluster_and_distinct_stories_do_not(db_url: str) -> None:
    engine = make_engine(db_url)
    one, two = make_source(engine, "one", 8701), make_source(engine, "two", 8702)
    r1, r2 = make_run(engine, one, "r1"), make_run(engine, two, "r2")
    wire = story(42, words=400)
    add_record(engine, r1, one, article("http://127.0.0.1:8701/wire", wire))
    add_record(engine, r1, one, article("http://127.0.0.1:8701/other", story(43, words=400)))
    load("r1", database_url=db_url)
    copy = "By Wire Staff\n\n" + wire.replace("council", "Council") + "\n\nDistributed by Wire."
    add_record(engine, r2, two, article("http://127.0.0.1:8702/copy", copy, title="Another headline"))
    add_record(engine, r2, two, article("http://127.0.0.1:8702/own", story(44, words=400)))
    result = load("r2", database_url=db_url)
    assert result.near_duplicates == 1
    with engine.connect() as conn:
        clusters = dict(
            conn.execute(select(Article.url, func.coalesce(Article.cluster_id, Article.id))).all()
        )
    assert clusters["http://127.0.0.1:8702/copy"] == clusters["http://127.0.0.1:8701/wire"]
    assert len(set(clusters.values())) == 3
    engine.dispose()


def test_a_record_the_database_refuses_is_set_aside_and_the_batch_loads(db_url: str) -> None:
    engine = make_engine(db_url)
    refuse_poison(engine)
    src = make_source(engine)
    run = make_run(engine, src)
    for i in range(6):
        title = POISON if i == 3 else f"fine {i}"
        add_record(engine, run, src, article(f"{BASE}/r{i}", story(i), title=title))
    result = load("r1", database_url=db_url, batch_size=10)
    assert (result.new, result.rejected) == (5, 1)
    assert list(result.rejected_reasons) == ["database refused"]
    assert counters(engine, "r1") == (5, 0, 0, 0, 1)
    rows = snapshot(engine)
    assert len(rows["articles"]) == len(rows["versions"]) == 5
    engine.dispose()
