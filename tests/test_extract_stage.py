"""The extract stage on real WARC files and both database backends."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from pipeline.config import parse_sources
from pipeline.db.engine import get_engine, session_scope
from pipeline.db.models import BoilerplateLine, CrawlRun, ExtractedRecord, Fetch
from pipeline.rawstore import RunWarcWriter, body_hash, run_warc_path
from pipeline.records import ExtractedArticle
from pipeline.runs import start_run, sync_source, utcnow
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


def make_run(db_url: str, tmp_path: Path, pages: dict[str, bytes], broken: set[str] = frozenset()) -> str:  # type: ignore[assignment]
    sources = parse_sources(SOURCES)
    (tmp_path / "sources.yaml").write_text(SOURCES)
    run_id = "examiner__manual__test"
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


def test_extract_stage_process_pool_and_shards(sqlite_url: str, tmp_path: Path) -> None:
    pages = {f"https://examiner.example/2023/05/22/story-{n}/": article_html(n).encode() for n in range(12)}
    run_id = make_run(sqlite_url, tmp_path, pages)
    first = extract(
        run_id, database_url=sqlite_url, sources_path=tmp_path / "sources.yaml", shard=0, shards=2, workers=2
    )
    second = extract(
        run_id, database_url=sqlite_url, sources_path=tmp_path / "sources.yaml", shard=1, shards=2, workers=2
    )
    assert first.pages + second.pages == 12
    assert first.pages > 0 and second.pages > 0
    rows = records(sqlite_url)
    assert len(rows) == 12 and all(r.status == "ok" for r in rows.values())
