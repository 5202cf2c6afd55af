"""The raw store on an S3-compatible object store: every stage that touches WARC files, through ``s3://``.

Workers on several machines share no disk, so their raw store is an object store
(``NEWSFLOW_RAW_STORE=s3://bucket/prefix``). The S3 server here is moto's server mode on a
free loopback port (a real HTTP S3 API, not a mock of the client); every process gets the
endpoint, dummy credentials and a region from the environment (``AWS_ENDPOINT_URL``,
``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_DEFAULT_REGION``), the instance
metadata lookup disabled and, as a fence, a dead loopback proxy for everything but loopback:
a request meant for real AWS would fail on 127.0.0.1, never leave the machine.

The run: crawl in one process (``newsflow crawl``: Scrapy writes the run's WARC to S3),
extract in another (``newsflow extract``: ranged reads of the members), load and check here;
the articles equal those of the same crawl with a local raw store. The later stages run
here (the crawls, as always, in a Scrapy subprocess). Then a rerun of the run id
(records that articles point at are copied to a ``superseded`` object), a re-extraction of
the window, a purge (the object rewritten with the record replaced, every offset kept) and
retention (old objects deleted, the last good run's kept, rows detached).
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session

from pipeline.db import migrate
from pipeline.db.models import CrawlRun, Fetch
from pipeline.settings import reset_settings_cache
from tests.s3server import audit_connects, s3_environment

pytestmark = [pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
BUCKET = "newsflow-raw-test"
SOURCE = "capital-examiner"


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[dict[str, str]]:
    """moto's S3 server on loopback with the bucket, and the environment pointing every process at it."""
    yield from s3_environment(monkeypatch, tmp_path, BUCKET)


@pytest.fixture
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every socket connect of this process, failing on any non-loopback address."""
    return audit_connects(monkeypatch)


def _newsflow(*args: str, env: dict[str, str]) -> str:
    """One ``newsflow`` command in its own process (a worker of its own)."""
    full = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        env=full,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, (
        f"newsflow {' '.join(args)}:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    )
    return result.stdout


def _articles(db_url: str) -> set[tuple[str, str, str]]:
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(text("SELECT url, title, text FROM articles")).all()
    finally:
        engine.dispose()
    return {(u, t or "", hashlib.sha256(b.encode()).hexdigest()) for u, t, b in rows}


def _fetches(db_url: str, run_id: str) -> list[Fetch]:
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one()
            rows = list(session.scalars(select(Fetch).where(Fetch.run_id == run.id).order_by(Fetch.id)))
            session.expunge_all()
    finally:
        engine.dispose()
    return rows


def _objects() -> dict[str, int]:
    """Every object of the bucket: key -> size."""
    from s3fs import S3FileSystem

    fs = S3FileSystem()
    fs.invalidate_cache()
    return {path: int(info["size"]) for path, info in fs.find(BUCKET, detail=True).items()}


def test_every_stage_works_through_an_s3_raw_store(
    s3_env: dict[str, str],
    loopback_only: list[Any],
    demo_network: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipeline.rawstore import WarcLocation, read_response
    from pipeline.runs import utcnow
    from pipeline.stages.check import check, publish
    from pipeline.stages.crawl import crawl
    from pipeline.stages.extract import extract
    from pipeline.stages.load import load
    from pipeline.stages.purge import purge
    from pipeline.stages.reextract import start_reextract
    from pipeline.stages.retention import prune_raw

    source = next(s for s in demo_network.sources() if s["key"] == SOURCE)
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"version": 1, "sources": [source]}, sort_keys=False))
    db_url = f"sqlite:///{tmp_path / 'news.db'}"
    migrate.upgrade(db_url)
    env = {**s3_env, "NEWSFLOW_DATABASE_URL": db_url, "NEWSFLOW_SOURCES": str(sources)}
    monkeypatch.setenv("NEWSFLOW_DATABASE_URL", db_url)
    monkeypatch.setenv("NEWSFLOW_SOURCES", str(sources))
    reset_settings_cache()

    # 1. Crawl in one process: the run's WARC is an object in the bucket, nothing local.
    _newsflow("crawl", "--source", SOURCE, "--run-id", "r1", env=env)
    fetches = _fetches(db_url, "r1")
    stored = [f for f in fetches if f.warc_path]
    assert stored and {f.warc_path for f in stored} == {f"s3://{BUCKET}/raw/{SOURCE}/r1.warc.gz"}
    objects = _objects()
    assert list(objects) == [f"{BUCKET}/raw/{SOURCE}/r1.warc.gz"]  # each response's request follows it
    assert next(iter(objects.values())) > max((f.warc_offset or 0) + (f.warc_length or 0) for f in stored)
    assert not (tmp_path / "raw").exists() and not (ROOT / "data" / "raw" / SOURCE / "r1.warc.gz").exists()

    # 2. Extract in another process (ranged reads of the members), then load and check here.
    _newsflow("extract", "--run", "r1", "--workers", "1", "--json", "--no-progress", env=env)
    load("r1")
    assert check("r1").passed
    publish("r1")
    articles = _articles(db_url)
    assert articles

    # The same crawl with a local raw store gives the same articles.
    local_db = f"sqlite:///{tmp_path / 'local.db'}"
    migrate.upgrade(local_db)
    with monkeypatch.context() as local:
        local.setenv("NEWSFLOW_RAW_STORE", str(tmp_path / "local-raw"))
        reset_settings_cache()
        assert crawl(SOURCE, "r1", database_url=local_db).status == "succeeded"
        extract("r1", workers=1, database_url=local_db)
        load("r1", database_url=local_db)
    reset_settings_cache()
    assert _articles(local_db) == articles

    # 3. Rerun of the run id: the records stored articles point at move to a superseded object.
    assert crawl(SOURCE, "r1", recrawl=True).status == "succeeded"
    superseded = [f for f in _fetches(db_url, "r1") if f.outcome == "superseded"]
    assert superseded, "articles point at r1's first fetches"
    copies = {f.warc_path for f in superseded}
    assert len(copies) == 1 and next(iter(copies)).startswith(f"s3://{BUCKET}/raw/{SOURCE}/r1.superseded-")
    for fetch in superseded:
        assert fetch.warc_path and fetch.warc_length
        assert read_response(WarcLocation(fetch.warc_path, fetch.warc_offset or 0, fetch.warc_length)).body
    extract("r1", workers=1)
    load("r1")
    publish("r1")

    # 4. Re-extraction of the window reads every page back from S3, never over HTTP.
    # Counted on arrival: the slow page's last answer to the rerun may still be on its way out.
    requests = demo_network.log.arrivals()
    now = utcnow()
    run = start_reextract(SOURCE, now - timedelta(days=1), now + timedelta(minutes=1))
    result = extract(run, workers=1)
    assert result.pages > 0 and result.failed == 0 and result.extracted == len(articles), result
    load(run)
    assert _articles(db_url) == articles
    assert demo_network.log.arrivals() == requests

    # 5. Purge: the object is rewritten with the record replaced; size and offsets unchanged.
    url = sorted(articles)[0][0]
    before = _objects()
    out = _newsflow("purge", "--url", url, "--reason", "takedown test", "--json", env=env)
    purged = json.loads(out)
    assert purged["warc_records_purged"] >= 1, purged
    assert _objects() == before
    hit = [f for f in _fetches(db_url, "r1") if f.warc_path and f.warc_length and f.url == url]
    assert hit
    for fetch in hit:
        with pytest.raises(ValueError, match="metadata"):
            read_response(WarcLocation(str(fetch.warc_path), fetch.warc_offset or 0, fetch.warc_length or 0))
    others = [
        f
        for f in _fetches(db_url, "r1")
        if f.warc_path and f.warc_length and f.url != url and f.status == 200
    ]
    assert (
        others
        and read_response(
            WarcLocation(str(others[0].warc_path), others[0].warc_offset or 0, others[0].warc_length or 0)
        ).body
    )
    # Idempotent: a second purge of the same story writes nothing.
    assert purge(url=url, reason="takedown test").already_purged

    # 6. Retention: a later crawl r2 is the last good run; everything older goes, r2 stays.
    assert crawl(SOURCE, "r2").status == "succeeded"
    extract("r2", workers=1)
    load("r2")
    publish("r2")
    pruned = prune_raw(retention_days=1, now=utcnow() + timedelta(days=3))
    remaining = set(_objects())
    assert remaining == {f"{BUCKET}/raw/{SOURCE}/r2.warc.gz"}, remaining
    assert pruned.files_deleted == len(before) and pruned.fetches_detached > 0, pruned
    assert all(f.warc_path is None for f in _fetches(db_url, "r1"))
    assert all(f.warc_path for f in _fetches(db_url, "r2") if f.status == 200)

    # Every connection this process made went to loopback (moto, the demo network).
    assert loopback_only
