"""The extract stage on real WARC files and both database backends."""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.config import parse_sources
from pipeline.db.engine import get_engine, session_scope
from pipeline.db.models import BoilerplateLine, CrawlRun, ExtractedRecord, Fetch
from pipeline.rawstore import RunWarcWriter, body_hash, run_warc_path
from pipeline.records import ExtractedArticle
from pipeline.runs import start_run, sync_source, utcnow
from pipeline.stages import extract as extract_stage
from pipeline.stages.extract import extract
from pipeline.urls import url_hash

SOURCES = """
version: 1
sources:
  - key: examiner
    name: Capital Examiner
    homepage: https://examiner.example/
    extraction:
      drop_patterns: ["^Filed under:"]
"""
PARA = (
    "The regional council voted on Tuesday to approve the new harbour plan after a debate that lasted "
    "well into the night, with members divided over the cost of dredging the channel. "
)


def article_html(n: int) -> str:
    body = "".join(f"<p>Story {n}, paragraph {i}. {PARA}</p>" for i in range(4))
    return (
        "<html lang='en'><head><meta property='og:type' content='article'>"
        f"<title>Story number {n} | Capital Examiner</title>"
        "<meta property='article:published_time' content='2023-05-22T10:00:00Z'></head><body><article>"
        f"<h1>Story number {n}</h1>{body}"
        "<p>Capital Examiner readers also get our morning briefing for free every single weekday</p>"
        f"<p>Filed under: harbour {n}</p>"
        "</article></body></html>"
    )


def make_run(
    db_url: str,
    tmp_path: Path,
    pages: dict[str, bytes],
    broken: set[str] = frozenset(),  # type: ignore[assignment]
    run_id: str = "examiner__manual__test",
) -> str:
    sources = parse_sources(SOURCES)
    (tmp_path / "sources.yaml").write_text(SOURCES)
    path = run_warc_path(str(tmp_path / "raw"), "examiner", run_id)
    with session_scope(get_engine(db_url)) as session:
        source = sync_source(session, sources.get("examiner"))
        run = start_run(session, source, run_id)
        with RunWarcWriter(path) as writer:
            for url, body in pages.items():
                loc = writer.write_exchange(
                    url,
                    "GET",
                    [("User-Agent", "t")],
                    200,
                    "OK",
                    [("Content-Type", "text/html; charset=utf-8")],
                    body,
                )
                session.add(
                    Fetch(
                        run_id=run.id,
                        source_id=source.id,
                        url=url,
                        url_hash=url_hash(url),
                        final_url=url,
                        status=200,
                        content_type="text/html; charset=utf-8",
                        fetched_at=utcnow(),
                        discovery="feed",
                        is_article_candidate=True,
                        outcome="fetched",
                        warc_path=loc.path,
                        warc_offset=loc.offset + (7 if url in broken else 0),
                        warc_length=loc.length,
                        body_hash=body_hash(body),
                    )
                )
    return run_id


def records(db_url: str) -> dict[str, ExtractedRecord]:
    with session_scope(get_engine(db_url)) as session:
        rows = session.execute(
            select(Fetch.url, ExtractedRecord).join(Fetch, Fetch.id == ExtractedRecord.fetch_id)
        )
        return {url: rec for url, rec in rows}


def test_extract_stage_records_counters_learning_and_errors(db_url: str, tmp_path: Path) -> None:
    pages = {f"https://examiner.example/2023/05/22/story-{n}/": article_html(n).encode() for n in range(5)}
    listing = (
        "<html><body><h1>News</h1>"
        + "".join(f"<h2><a href='/2023/05/22/story-{n}/'>Story {n}</a></h2>" for n in range(5))
        + "</body></html>"
    )
    pages["https://examiner.example/news/"] = listing.encode()
    broken = "https://examiner.example/2023/05/22/broken/"
    pages[broken] = article_html(99).encode()
    run_id = make_run(db_url, tmp_path, pages, broken={broken})
    result = extract(run_id, database_url=db_url, sources_path=tmp_path / "sources.yaml", workers=1)

    assert result.pages == 7
    assert (result.extracted, result.not_article, result.failed) == (5, 1, 1)
    assert result.learned_lines >= 1
    rows = records(db_url)
    assert rows[broken].status == "error" and rows[broken].reason
    assert rows["https://examiner.example/news/"].status == "not_article"
    article = ExtractedArticle.model_validate(rows["https://examiner.example/2023/05/22/story-3/"].record)
    assert article.title == "Story number 3"
    paragraphs = article.text.split("\n\n")
    assert paragraphs == [f"Story 3, paragraph {i}. {PARA.strip()}" for i in range(4)]
    assert any("morning briefing" in line for line in article.removed_lines)  # site-learned
    assert any(line.startswith("Filed under") for line in article.removed_lines)  # drop_patterns

    with session_scope(get_engine(db_url)) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one()
        assert (run.pages_extracted, run.pages_not_article, run.extract_failed) == (5, 1, 1)
        learned = session.scalars(select(BoilerplateLine)).all()
        assert any("morning briefing" in b.sample for b in learned)

    # Idempotent: a rerun leaves the same rows and counters.
    before = {url: (r.id, r.status, r.record) for url, r in records(db_url).items()}
    again = extract(run_id, database_url=db_url, sources_path=tmp_path / "sources.yaml", workers=1)
    assert again.as_dict() | {"seconds": 0} == result.as_dict() | {"seconds": 0}
    after = {url: (r.id, r.status, r.record) for url, r in records(db_url).items()}
    assert after == before


def test_process_pool_and_shards_write_what_in_process_extraction_writes(db_url: str, tmp_path: Path) -> None:
    pages = {f"https://examiner.example/2023/05/22/story-{n}/": article_html(n).encode() for n in range(24)}
    broken = "https://examiner.example/2023/05/22/broken/"
    pages[broken] = article_html(99).encode()
    run_id = make_run(db_url, tmp_path, pages, broken={broken})
    sources = tmp_path / "sources.yaml"

    alone = extract(run_id, database_url=db_url, sources_path=sources, workers=1)
    assert alone.workers == 0 and (alone.pages, alone.extracted, alone.failed) == (25, 24, 1)
    expected = {url: (r.status, r.reason, r.record) for url, r in records(db_url).items()}
    assert expected[broken][0] == "error"

    shards = [
        extract(run_id, database_url=db_url, sources_path=sources, shard=i, shards=2, workers=2)
        for i in range(2)
    ]
    assert [s.workers for s in shards] == [2, 2]  # really a pool, one per shard
    # One worker beside other extract calls of this process (newsflow run's parallel sources)
    # is a worker process of its own, not this process's GIL shared with them.
    beside = extract(run_id, database_url=db_url, sources_path=sources, workers=1, in_process=False)
    assert beside.workers == 1 and (beside.extracted, beside.failed) == (24, 1)
    assert sum(s.pages for s in shards) == 25 and all(s.pages > 0 for s in shards)
    assert sum(s.failed for s in shards) == 1 and sum(s.extracted for s in shards) == 24
    got = {url: (r.status, r.reason, r.record) for url, r in records(db_url).items()}
    assert got == expected
    with session_scope(get_engine(db_url)) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one()
        assert (run.pages_extracted, run.extract_failed) == (24, 1)


LONG_PARA = PARA * 2  # > 300 characters: not a candidate for site-learned lines


def long_article_html(n: int) -> str:
    body = "".join(f"<p>Story {n}, paragraph {i}. {LONG_PARA}</p>" for i in range(4))
    return (
        "<html lang='en'><head><meta property='og:type' content='article'>"
        f"<title>Story number {n} | Capital Examiner</title>"
        "<meta property='article:published_time' content='2023-05-22T10:00:00Z'></head><body><article>"
        f"<h1>Story number {n}</h1>{body}</article></body></html>"
    )


def test_parent_memory_does_not_grow_with_the_number_of_pages(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Results stream to the database in batches: 10x the pages, (almost) the same peak.

    Measured with tracemalloc in this (the parent) process; the pages are extracted by the
    workers. Holding every result, as the stage once did, costs ~7 KB per page here.
    """
    monkeypatch.setattr(extract_stage, "WRITE_BATCH", 10)
    monkeypatch.setattr(extract_stage, "READ_BATCH", 10)
    sources = tmp_path / "sources.yaml"
    peaks: dict[int, int] = {}
    for count in (30, 300):
        pages = {
            f"https://examiner.example/2023/05/22/s{count}-{n}/": long_article_html(n).encode()
            for n in range(count)
        }
        run_id = make_run(sqlite_url, tmp_path, pages, run_id=f"examiner__manual__{count}")
        if not peaks:  # the first call imports modules and fills caches: not measured
            extract(run_id, database_url=sqlite_url, sources_path=sources, workers=2)
        tracemalloc.start()
        try:
            result = extract(run_id, database_url=sqlite_url, sources_path=sources, workers=2)
            peaks[count] = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        assert result.workers == 2 and result.extracted == count
    assert peaks[300] - peaks[30] < 270 * 600, peaks  # < 0.6 KB per extra page


def test_concurrent_extract_calls_share_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    """Parallel sources of ``newsflow run`` (and shard tasks) split the cores between them."""
    from pipeline.settings import reset_settings_cache
    from pipeline.stages.extract import workers_sharing_cores

    monkeypatch.delenv("NEWSFLOW_WORKERS", raising=False)
    reset_settings_cache()
    assert workers_sharing_cores(1, cores=4) == 4
    assert workers_sharing_cores(3, cores=4) == 1
    assert workers_sharing_cores(3, cores=2) == 1  # never zero
