"""Parallel batch writers store exactly what one writer stores (both backends).

The PostgreSQL load writes two batches at a time by default; this pins the claim that the
outcome does not depend on it: the same articles, content, sightings, versions, clusters,
links (resolved across batches) and run counters, with in-run duplicates, near-duplicates,
forward links and a bad record spread over many batches.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Engine, delete, func, select

from pipeline.db.engine import make_engine
from pipeline.db.models import Article, ArticleLink, ArticleVersion, NearDupBucket
from pipeline.load import neardup
from pipeline.stages.load import load
from tests.loadkit import (
    POISON,
    T0,
    add_record,
    article,
    counters,
    make_run,
    make_source,
    refuse_poison,
    story,
)

BASE = "http://127.0.0.1:8701/2026/05/01"


def _outcome(engine: Engine) -> dict[str, Any]:
    """Everything a load decides, keyed by URL rather than by (order-dependent) ids."""
    with engine.connect() as conn:
        urls = dict(conn.execute(select(Article.id, Article.url)).tuples().all())
        articles = {
            row.url: (row.content_hash, row.version, row.first_seen_at, row.last_seen_at, row.fetch_id)
            for row in conn.execute(select(Article.__table__))
        }
        groups: dict[int, set[str]] = {}
        for article_id, cluster in conn.execute(
            select(Article.id, func.coalesce(Article.cluster_id, Article.id))
        ).tuples():
            groups.setdefault(cluster, set()).add(urls[article_id])
        links = {
            (urls[f], to_url, urls.get(t) if t is not None else None)
            for f, to_url, t in conn.execute(
                select(ArticleLink.from_article_id, ArticleLink.to_url, ArticleLink.to_article_id)
            ).tuples()
        }
        stored = {
            "articles": articles,
            "clusters": sorted(sorted(g) for g in groups.values() if len(g) > 1),
            "links": links,
            "versions": conn.execute(select(func.count()).select_from(ArticleVersion)).scalar_one(),
            "buckets": conn.execute(select(func.count()).select_from(NearDupBucket)).scalar_one(),
        }
    return {**stored, "counters": counters(engine, "r1")}  # its own transaction, after this one


def test_parallel_writers_store_what_one_writer_stores(db_url: str) -> None:
    engine = make_engine(db_url)
    src = make_source(engine)
    run = make_run(engine, src)
    previous = ""
    for i in range(60):
        text = story(i, words=200)
        if i % 10 == 9:  # a wire copy of the story before it: a near-duplicate in the same batch
            text = "By Wire Staff\n\n" + previous + "\n\nDistributed by Wire."
        links = [(f"{BASE}/s{i + 7}", "related"), (f"{BASE}/s{max(0, i - 3)}", "related")]
        add_record(engine, run, src, article(f"{BASE}/s{i}", text, links=links))
        previous = text
    # An in-run duplicate with newer content eight batches later, and a record to reject.
    add_record(engine, run, src, article(f"{BASE}/s2", story(500)), fetched_at=T0 + timedelta(hours=1))
    add_record(engine, run, src, {**article(f"{BASE}/bad", "x"), "text": " "})

    one = load("r1", database_url=db_url, batch_size=5, writers=1)
    serial = _outcome(engine)
    with engine.begin() as conn:
        conn.execute(delete(Article))  # cascades to versions, buckets and links
    four = load("r1", database_url=db_url, batch_size=5, writers=4)
    parallel = _outcome(engine)

    assert parallel == serial
    assert (four.new, four.duplicate, four.rejected, four.near_duplicates) == (
        one.new,
        one.duplicate,
        one.rejected,
        one.near_duplicates,
    )
    assert serial["counters"] == (60, 0, 0, 1, 1)
    assert len(serial["clusters"]) == 6 and serial["versions"] == 61
    assert serial["buckets"] == 60 * neardup.BANDS
    # Links into later batches were resolved when their targets arrived.
    assert (f"{BASE}/s0", f"{BASE}/s7", f"{BASE}/s7") in serial["links"]
    assert (f"{BASE}/s59", f"{BASE}/s66", None) in serial["links"]
    engine.dispose()


def test_an_older_fetch_in_the_next_batch_does_not_make_a_version(db_url: str) -> None:
    """A batch sharing an article with one in flight waits for it: no version from commit order.

    Each article's newer fetch is in one batch and an older fetch with other content in the
    next; if the later batch committed first, the newer content would arrive as version 2.
    """
    engine = make_engine(db_url)
    src = make_source(engine)
    run = make_run(engine, src)
    for i in range(12):
        url = f"{BASE}/v{i}"
        add_record(engine, run, src, article(url, story(i)), fetched_at=T0 + timedelta(hours=1))
        add_record(engine, run, src, article(url, story(100 + i)), fetched_at=T0)
    result = load("r1", database_url=db_url, batch_size=1, writers=4)
    assert (result.new, result.updated, result.unchanged, result.duplicate) == (12, 0, 0, 12)
    with engine.connect() as conn:
        stored = conn.execute(select(Article.text, Article.version, Article.first_seen_at)).all()
        versions = conn.execute(select(func.count()).select_from(ArticleVersion)).scalar_one()
    assert sorted(stored) == sorted((story(i), 1, T0) for i in range(12))
    assert versions == 12
    engine.dispose()


def test_lsh_rows_hold_the_buckets_of_the_stored_signature(db_url: str) -> None:
    """The bucket rows (binary COPY on PostgreSQL) are exactly the signature's LSH bands."""
    engine = make_engine(db_url)
    src = make_source(engine)
    run = make_run(engine, src)
    for i in range(3):
        add_record(engine, run, src, article(f"{BASE}/b{i}", story(i, words=300)))
    load("r1", database_url=db_url)
    with engine.connect() as conn:
        for article_id, blob in conn.execute(select(Article.id, Article.minhash)).tuples():
            sig = neardup.from_bytes(blob)
            assert sig is not None
            stored = conn.execute(
                select(NearDupBucket.band, NearDupBucket.bucket)
                .where(NearDupBucket.article_id == article_id)
                .order_by(NearDupBucket.band)
            ).all()
            expected = neardup.buckets([sig])[0]
            assert [band for band, _ in stored] == list(range(neardup.BANDS))
            assert np.array_equal(np.array([bucket for _, bucket in stored], dtype=np.int64), expected)
    engine.dispose()


def test_signature_is_unchanged_from_the_stored_format() -> None:
    """Signatures stored by earlier loads must compare with new ones: pin a known value."""
    sig = neardup.signature(story(7, words=120))
    assert sig is not None
    assert sig[:6].tolist() == PINNED_FIRST_SLOTS
    assert neardup.signature("too short") is None


# Computed with the implementation that wrote the first stored signatures (before the faster packing).
PINNED_FIRST_SLOTS = [604209042, 2991874942, 563698710, 3516541486, 55541332, 3269524149]


def test_cli_writers_option_reaches_the_loader(db_url: str, caplog: pytest.LogCaptureFixture) -> None:
    """``newsflow load --writers N`` is the stage's ``writers``; 0 is refused as a usage error.

    A refused record makes its batch log from the thread that writes it: a pool writer thread
    with ``--writers 3``, the main thread with ``--writers 1``.
    """
    from typer.testing import CliRunner

    from pipeline.cli import app

    engine = make_engine(db_url)
    refuse_poison(engine)
    src = make_source(engine)
    for run_id in ("r1", "r2"):
        run = make_run(engine, src, run_id)
        for i in range(6):
            title = POISON if i == 0 else f"{run_id} {i}"
            add_record(engine, run, src, article(f"{BASE}/{run_id}-{i}", story(i, words=150), title=title))
    env = {"NEWSFLOW_DATABASE_URL": db_url}
    runner = CliRunner()
    refused = runner.invoke(app, ["load", "--run", "r1", "--writers", "0", "--json"], env=env)
    assert refused.exit_code == 2

    def writer_threads(run_id: str, writers: int) -> set[str]:
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="pipeline.load"):
            args = ["load", "--run", run_id, "--writers", str(writers), "--batch-size", "2", "--json"]
            done = runner.invoke(app, args, env=env)
        assert done.exit_code == 0, done.output
        assert json.loads(done.output)["new"] == 5
        return {r.threadName for r in caplog.records if "batch refused" in r.getMessage()}

    assert {name.rsplit("_", 1)[0] for name in writer_threads("r1", 3)} == {"load-writer"}
    assert writer_threads("r2", 1) == {"MainThread"}
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Article)).scalar_one() == 10
    engine.dispose()
