"""The crawler against a tiny local site with one of each wart (real Scrapy, real HTTP).

Independent of the demo network: it pins down behaviours in isolation (conditional
requests, network guard, budgets) with a site whose every byte is visible here.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from pipeline.db.models import CrawlLink, CrawlRun, Fetch
from pipeline.netpolicy import openings_for
from pipeline.rawstore import read_response
from pipeline.stages.crawl import crawl
from tests.loopback import PageHandler, serving


def article_html(base: str, slug: str, title: str, related: list[str], promo: str | None = None) -> str:
    links = "".join(f'<li><a href="{base}{r}">{r}</a></li>' for r in related)
    promo_p = f'<p><a href="{base}{promo}">READ THIS PROMO STORY</a></p>' if promo else ""
    body = " ".join(["This is a sentence of the story about the local council budget."] * 15)
    return f"""<!doctype html><html><head><title>{title}</title>
<link rel="canonical" href="{base}{slug}">
<meta property="og:type" content="article">
<meta property="article:published_time" content="2024-05-01T10:00:00Z">
</head><body><nav><a href="{base}/">Home</a> <a href="{base}/about">About</a></nav>
<article><h1>{title}</h1><div class="article-body"><p>{body}</p>{promo_p}<p>{body}</p></div>
<section class="related-stories"><h2>Related</h2><ul>{links}</ul></section></article>
<footer>(c) 2024 Local Gazette</footer></body></html>"""


class Site:
    """Routes of the local gazette; ``edition`` 2 changes one article and adds one."""

    def __init__(self) -> None:
        self.edition = 1
        self.hits: Counter[str] = Counter()
        self.flaky_calls = 0
        self.base = ""

    def articles(self) -> dict[str, str]:
        b = self.base
        pages = {
            "/2024/05/01/council-budget-vote": article_html(
                b,
                "/2024/05/01/council-budget-vote",
                "Council budget vote",
                ["/2024/05/01/mayor-responds?utm_source=x#comments", "/private/secret-story"],
                promo="/2024/05/02/promo-target-story",
            ),
            "/2024/05/01/mayor-responds": article_html(
                b, "/2024/05/01/mayor-responds", "Mayor responds", ["/2024/05/03/related-only-story"]
            ),
            "/2024/05/02/promo-target-story": article_html(b, "/2024/05/02/promo-target-story", "Promo", []),
            "/2024/05/03/related-only-story": article_html(
                b, "/2024/05/03/related-only-story", "Related only", ["/2024/05/04/two-hops-away-story"]
            ),
            "/2024/05/04/two-hops-away-story": article_html(b, "/2024/05/04/two-hops-away-story", "Far", []),
            "/2024/05/05/listed-on-page-two": article_html(b, "/2024/05/05/listed-on-page-two", "P2", []),
            "/2024/05/06/moved-story-final": article_html(b, "/2024/05/06/moved-story-final", "Moved", []),
            "/private/secret-story": article_html(b, "/private/secret-story", "Secret", []),
        }
        if self.edition == 2:
            pages["/2024/05/01/mayor-responds"] = pages["/2024/05/01/mayor-responds"].replace(
                "Mayor responds", "Mayor responds (corrected)"
            )
            pages["/2024/06/01/brand-new-story"] = article_html(b, "/2024/06/01/brand-new-story", "New", [])
        return pages

    def feed(self) -> str:
        b = self.base
        items = [
            ("/2024/05/01/council-budget-vote?utm_medium=rss", "Tue, 30 Apr 2024 10:00:00 GMT"),
            ("/slow-story-page", "Tue, 30 Apr 2024 10:00:00 GMT"),
            ("/2024/05/09/huge-story-page", "Tue, 30 Apr 2024 10:00:00 GMT"),
            ("/2024/05/09/binary-story-page", "Tue, 30 Apr 2024 10:00:00 GMT"),
            ("/loop-a", "Tue, 30 Apr 2024 10:00:00 GMT"),
            ("/2024/05/09/gone-story-page", "Tue, 30 Apr 2024 10:00:00 GMT"),
            ("/2024/05/09/broken-story-page", "Tue, 30 Apr 2024 10:00:00 GMT"),
            ("/2024/05/09/flaky-story-page", "Tue, 30 Apr 2024 10:00:00 GMT"),
            ("/2024/05/09/metadata-redirect", "Tue, 30 Apr 2024 10:00:00 GMT"),
            ("/2024/05/06/moved-story", "Tue, 30 Apr 2024 10:00:00 GMT"),
        ]
        if self.edition == 2:
            items.append(("/2024/06/01/brand-new-story", "Sat, 01 Jun 2024 10:00:00 GMT"))
        rows = "".join(
            f"<item><title>t</title><link>{u if u.startswith('http') else b + u}</link>"
            f"<pubDate>{d}</pubDate></item>"
            for u, d in items
        )
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>G</title>{rows}</channel></rss>'

    def listing(self, page: int) -> str:
        b = self.base
        if page == 1:
            links = (
                '<a href="/2024/05/01/council-budget-vote">Budget</a> <a href="?page=2" rel="next">Next</a>'
            )
        else:
            links = '<a href="/2024/05/05/listed-on-page-two">P2 story</a>'
        return (
            f'<html><head><title>Gazette</title><link rel="canonical" href="{b}/"></head><body>'
            f'<nav><a href="/about">About</a></nav><main>{links}</main></body></html>'
        )


def make_handler(site: Site) -> type[PageHandler]:
    class Handler(PageHandler):
        def do_GET(self) -> None:
            path = self.path
            site.hits[path] += 1
            if path == "/robots.txt":
                self.send(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
            elif path == "/feed.rss":
                self.send(200, site.feed().encode(), "application/rss+xml")
            elif path in ("/", "/?page=1"):
                self.send(200, site.listing(1).encode())
            elif path == "/?page=2":
                self.send(200, site.listing(2).encode())
            elif path == "/about":
                self.send(200, b"<html><body><p>About us</p></body></html>")
            elif path == "/slow-story-page":
                time.sleep(2.5)
                self.send(200, b"<html>late</html>")
            elif path == "/2024/05/09/huge-story-page":
                self.send(200, b"<html>" + b"x" * 300_000 + b"</html>")
            elif path == "/2024/05/09/binary-story-page":
                self.send(200, b"%PDF-1.4 binary", "application/pdf")
            elif path == "/2024/05/09/metadata-redirect":
                # Never connected to: the guard refuses link-local addresses on every hop.
                self.send(302, b"", Location="http://169.254.169.254/latest/meta-data")
            elif path == "/2024/05/06/moved-story":
                self.send(301, b"<html>moved</html>", Location="/2024/05/06/moved-story-final")
            elif path == "/loop-a":
                self.send(302, b"", Location="/loop-b")
            elif path == "/loop-b":
                self.send(302, b"", Location="/loop-a")
            elif path == "/2024/05/09/gone-story-page":
                self.send(404, b"<html>not found</html>")
            elif path == "/2024/05/09/broken-story-page":
                self.send(503, b"<html>down</html>")
            elif path == "/2024/05/09/flaky-story-page":
                site.flaky_calls += 1
                if site.flaky_calls == 1:
                    self.send(500, b"<html>oops</html>")
                else:
                    html = article_html(site.base, "/2024/05/09/flaky-story-page", "Flaky", [])
                    self.send(200, html.encode())
            elif path in site.articles():
                body = site.articles()[path].encode()
                etag = '"' + hashlib.md5(body).hexdigest() + '"'
                if self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("ETag", etag)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send(200, body, ETag=etag)
            else:
                self.send(404, b"<html>no</html>")

    return Handler


@pytest.fixture
def gazette() -> Iterator[Site]:
    site = Site()
    with serving(make_handler(site)) as port:
        site.base = f"http://127.0.0.1:{port}"
        yield site


def write_sources(path: Path, base: str, **overrides: Any) -> Path:
    source: dict[str, Any] = {
        "key": "gazette",
        "name": "Local Gazette",
        "homepage": base + "/",
        "discovery": {"feeds": [base + "/feed.rss"], "listings": [base + "/"]},
        "article_urls": {"allow": [r"/\d{4}/\d{2}/\d{2}/[a-z0-9-]+$", r"/private/"]},
        "related": {"depth": 1},
        "politeness": {"concurrency": 4, "delay": 0, "download_timeout": 1.0, "max_response_bytes": 100_000},
        "limits": {"max_pages": 100},
        "allow_private_networks": openings_for(base),
    }
    source.update(overrides)
    path.write_text(yaml.safe_dump({"version": 1, "sources": [source]}))
    return path


def fetch_rows(db_url: str, run_id: str) -> list[Fetch]:
    engine = create_engine(db_url)
    with Session(engine) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one()
        rows = list(session.scalars(select(Fetch).where(Fetch.run_id == run.id)))
    engine.dispose()
    return rows


def mark_stored(db_url: str, run_id: str) -> int:
    """Stand-in for extract+load: an ``articles`` row for each article candidate of the run."""
    from datetime import UTC, datetime

    from pipeline.db.models import Article
    from pipeline.urls import url_hash

    now = datetime.now(UTC)
    engine = create_engine(db_url)
    with Session(engine) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one()
        rows = session.scalars(select(Fetch).where(Fetch.run_id == run.id, Fetch.is_article_candidate))
        count = 0
        for row in rows:
            canonical = row.canonical_url or row.url
            session.add(
                Article(
                    url_hash=url_hash(canonical),
                    source_id=row.source_id,
                    url=row.url,
                    canonical_url=canonical,
                    text="stored",
                    word_count=1,
                    content_hash="h",
                    first_seen_at=now,
                    last_seen_at=now,
                    updated_at=now,
                    extractor_version="test",
                    fetch_id=row.id,
                )
            )
            count += 1
        session.commit()
    engine.dispose()
    return count


def by_path(rows: list[Fetch], base: str) -> dict[str, Fetch]:
    out: dict[str, Fetch] = {}
    for row in rows:
        key = row.url.removeprefix(base)
        assert key not in out, f"{row.url} fetched twice"
        out[key] = row
    return out


def test_local_site_first_and_incremental_crawl(gazette: Site, db_url: str, tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "sources.yaml", gazette.base)
    result = crawl("gazette", "run-1", sources_path=sources, database_url=db_url)
    assert result.status == "succeeded", result
    rows = by_path(fetch_rows(db_url, "run-1"), gazette.base)
    b = "/2024/05/0"
    for path in (
        f"{b}1/council-budget-vote",  # feed (tracking variant collapsed) + listing
        f"{b}1/mayor-responds",  # related (utm + fragment variant)
        f"{b}2/promo-target-story",  # in-body promo link
        f"{b}5/listed-on-page-two",  # pagination
    ):
        assert rows[path].outcome == "fetched" and rows[path].is_article_candidate, path
    assert rows[f"{b}1/mayor-responds"].depth == 1 and rows[f"{b}1/mayor-responds"].discovery == "related"
    assert f"{b}3/related-only-story" not in rows  # two related hops away: beyond related.depth 1
    assert rows["/private/secret-story"].error_category == "robots"
    assert gazette.hits["/private/secret-story"] == 0
    expected = {
        "/slow-story-page": "timeout",
        "/2024/05/09/huge-story-page": "too_large",
        "/2024/05/09/binary-story-page": "not_html",
        "/loop-a": "redirect_loop",
        "/2024/05/09/gone-story-page": "http_4xx",
        "/2024/05/09/broken-story-page": "http_5xx",
    }
    for path, category in expected.items():
        assert rows[path].error_category == category, (path, rows[path].error_message)
    assert gazette.hits["/2024/05/09/broken-story-page"] == 3  # 1 try + 2 retries
    assert rows["/2024/05/09/flaky-story-page"].status == 200
    metadata = rows["/2024/05/09/metadata-redirect"]
    assert metadata.final_url == "http://169.254.169.254/latest/meta-data"
    assert metadata.error_category == "blocked_network" and "link-local" in (metadata.error_message or "")
    assert rows["/"].is_article_candidate is False and rows["/about"].is_article_candidate is False
    # WARC: every row with a location reads back to its own response.
    for row in rows.values():
        if row.warc_path is not None:
            raw = read_response((row.warc_path, row.warc_offset or 0))
            assert raw.url == row.final_url and raw.status == row.status
            assert hashlib.sha256(raw.body).hexdigest() == row.body_hash
    assert result.pages_failed >= 6 and result.errors_by_category["robots"] == 1
    assert_auxiliary_records(rows, gazette.base)

    assert mark_stored(db_url, "run-1") >= 5  # (the extract and load stages would do this)
    gazette.edition = 2
    # The gazette's stories are long past the revisit schedule: --recrawl asks them again.
    second = crawl("gazette", "run-2", sources_path=sources, database_url=db_url, recrawl=True)
    assert second.status == "succeeded"
    rows2 = by_path(fetch_rows(db_url, "run-2"), gazette.base)
    assert rows2[f"{b}1/council-budget-vote"].outcome == "not_modified"
    assert rows2[f"{b}1/council-budget-vote"].etag == rows[f"{b}1/council-budget-vote"].etag
    assert_revisit(rows2[f"{b}1/council-budget-vote"], rows[f"{b}1/council-budget-vote"])
    changed = rows2[f"{b}1/mayor-responds"]
    assert changed.outcome == "fetched" and changed.hints["change"] == "changed"
    assert rows2["/2024/06/01/brand-new-story"].hints["change"] == "new"
    assert second.pages_unchanged >= 3
    for path, row in rows2.items():
        if row.outcome == "not_modified":
            assert_revisit(row, rows[path])

    # Re-extraction of both runs' window reads the full responses, never a revisit.
    reextracted = reextract_fetch_ids(db_url, sources)
    unchanged = rows2[f"{b}1/council-budget-vote"]
    assert reextracted[unchanged.url_hash] == rows[f"{b}1/council-budget-vote"].id
    assert reextracted[changed.url_hash] == changed.id  # the newer full response wins


def assert_hops(row: Fetch, expected: list[tuple[str, int, str]]) -> None:
    """``hints.redirects`` lists each hop (url, status, Location), each archived as received."""
    hops = row.hints.get("redirects") or []
    assert [(h["url"], h["status"], h["location"]) for h in hops] == expected
    for hop in hops:
        raw = read_response((hop["warc_path"], hop["warc_offset"]))
        assert raw.kind == "response" and raw.url == hop["url"] and raw.status == hop["status"]
        assert raw.header("Location") == hop["location"]


def assert_auxiliary_records(rows: dict[str, Fetch], base: str) -> None:
    """robots.txt and every redirect hop are archived and linked from the rows."""
    robots = rows["/robots.txt"]
    assert robots.outcome == "robots_txt" and robots.discovery == "robots" and robots.status == 200
    assert not robots.is_article_candidate and robots.error_category is None
    raw = read_response((robots.warc_path or "", robots.warc_offset or 0))
    assert raw.body == b"User-agent: *\nDisallow: /private/\n" and raw.url == f"{base}/robots.txt"

    moved = rows["/2024/05/06/moved-story"]
    assert moved.outcome == "fetched" and moved.is_article_candidate
    assert moved.final_url == f"{base}/2024/05/06/moved-story-final"
    assert_hops(moved, [(f"{base}/2024/05/06/moved-story", 301, "/2024/05/06/moved-story-final")])
    assert read_response((moved.warc_path or "", moved.warc_offset or 0)).status == 200
    assert moved.hints["redirects"][0]["warc_offset"] != moved.warc_offset
    assert_hops(rows["/loop-a"], [(f"{base}/loop-a", 302, "/loop-b"), (f"{base}/loop-b", 302, "/loop-a")])
    metadata = rows["/2024/05/09/metadata-redirect"]
    assert_hops(
        metadata, [(f"{base}/2024/05/09/metadata-redirect", 302, "http://169.254.169.254/latest/meta-data")]
    )


def assert_revisit(revisit_row: Fetch, earlier_row: Fetch) -> None:
    """A 304 is archived as a server-not-modified revisit naming the earlier full capture."""
    assert revisit_row.status == 304 and revisit_row.warc_path is not None
    raw = read_response((revisit_row.warc_path, revisit_row.warc_offset or 0))
    earlier = read_response((earlier_row.warc_path or "", earlier_row.warc_offset or 0))
    assert raw.kind == "revisit" and raw.status == 304 and raw.body == b""
    assert earlier.kind == "response" and earlier.status == 200
    assert raw.refers_to is not None and raw.refers_to == earlier.ref
    assert raw.refers_to.target_uri == earlier_row.final_url
    assert revisit_row.hints["revisit_of"] == {
        "warc_path": earlier_row.warc_path,
        "warc_offset": earlier_row.warc_offset,
    }
    # A stored article answered 304 is an article candidate: seen this run (the quality gate).
    assert revisit_row.body_hash == earlier_row.body_hash and revisit_row.is_article_candidate


def reextract_fetch_ids(db_url: str, sources: Path) -> dict[str, int]:
    """Run a reextract over everything fetched so far; url hash -> fetch id it extracted."""
    from datetime import UTC, datetime, timedelta

    from pipeline.db.models import ExtractedRecord
    from pipeline.stages.extract import extract
    from pipeline.stages.reextract import start_reextract

    now = datetime.now(UTC)
    run_id = start_reextract(
        "gazette",
        now - timedelta(hours=1),
        now + timedelta(minutes=1),
        database_url=db_url,
        sources_path=sources,
    )
    result = extract(run_id, workers=0, database_url=db_url, sources_path=sources)
    assert result.extracted >= 5 and result.failed == 0, result
    engine = create_engine(db_url)
    with Session(engine) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one()
        pairs = session.execute(
            select(Fetch.url_hash, Fetch.id, ExtractedRecord.status)
            .join(ExtractedRecord, ExtractedRecord.fetch_id == Fetch.id)
            .where(ExtractedRecord.run_id == run.id)
        ).all()
    engine.dispose()
    assert all(status != "error" for _h, _id, status in pairs), pairs
    return {h: fid for h, fid, _status in pairs}


def rows_skipped(rows: list[Fetch]) -> int:
    return sum(1 for r in rows if r.outcome == "skipped")


def test_edges_and_rerun_replaces_run(gazette: Site, db_url: str, tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "sources.yaml", gazette.base, related={"depth": 0})
    first = crawl("gazette", "same-run", sources_path=sources, database_url=db_url, max_pages=5)
    again = crawl("gazette", "same-run", sources_path=sources, database_url=db_url, max_pages=5)
    rows = fetch_rows(db_url, "same-run")
    # max_pages counts every request, and a rerun replaces the run's rows instead of adding.
    pages = [r for r in rows if r.outcome != "robots_txt"]
    assert len(pages) == 5 and len(rows) == 6  # + the archived robots.txt, not a page
    assert first.pages_fetched + first.pages_failed + first.pages_unchanged + rows_skipped(pages) == 5
    assert again.status == "succeeded"
    engine = create_engine(db_url)
    with Session(engine) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == "same-run")).one()
        links = list(session.scalars(select(CrawlLink).where(CrawlLink.run_id == run.id)))
    engine.dispose()
    kinds = {
        (link.from_url.removeprefix(gazette.base), link.to_url.removeprefix(gazette.base), link.kind)
        for link in links
    }
    assert ("/2024/05/01/council-budget-vote", "/2024/05/01/mayor-responds", "related") in kinds
    assert ("/2024/05/01/council-budget-vote", "/2024/05/02/promo-target-story", "promo") in kinds


def test_loopback_refused_without_allow_private(gazette: Site, db_url: str, tmp_path: Path) -> None:
    sources = write_sources(tmp_path / "sources.yaml", gazette.base, allow_private_networks=False)
    result = crawl("gazette", "refused", sources_path=sources, database_url=db_url)
    assert result.status == "failed"
    assert sum(gazette.hits.values()) == 0
    rows = fetch_rows(db_url, "refused")
    assert rows and all(r.error_category == "blocked_network" for r in rows)
    assert "127.0.0.1 is a loopback address" in (rows[0].error_message or "")


def test_unwritable_database_fails_the_run(gazette: Site, sqlite_url: str, tmp_path: Path) -> None:
    from sqlalchemy import text

    engine = create_engine(sqlite_url)
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE crawl_links"))
    engine.dispose()
    sources = write_sources(tmp_path / "sources.yaml", gazette.base)
    result = crawl("gazette", "db-broken", sources_path=sources, database_url=sqlite_url)
    assert result.status == "failed"
    assert result.error and "cannot record fetches" in result.error and "crawl_links" in result.error


def test_cli_exit_codes_and_summary(gazette: Site, sqlite_url: str, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pipeline.cli import app

    runner = CliRunner()
    ok_sources = write_sources(tmp_path / "ok.yaml", gazette.base, related={"depth": 0})
    args = ["crawl", "--source", "gazette", "--database-url", sqlite_url, "--max-pages", "3"]
    ok = runner.invoke(app, [*args, "--sources", str(ok_sources), "--run-id", "cli-ok"])
    assert ok.exit_code == 0, ok.output
    assert "crawl: succeeded" in ok.output and "pages fetched" in ok.output
    refused_sources = write_sources(tmp_path / "refused.yaml", gazette.base, allow_private_networks=False)
    refused = runner.invoke(app, [*args, "--sources", str(refused_sources), "--run-id", "cli-refused"])
    assert refused.exit_code == 1
    assert "loopback" in refused.output and "blocked_network" in refused.output
    unknown = runner.invoke(app, ["crawl", "--source", "nope", "--sources", str(ok_sources)])
    assert unknown.exit_code != 0


@pytest.mark.parametrize("spider", ["crawlers.items:FetchItem", "no.such.module:Spider", "crawlers.items"])
def test_wrong_spider_option_is_a_usage_error_before_the_run_exists(
    spider: str, sqlite_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from crawlers.run import EXIT_USAGE, main

    sources = write_sources(tmp_path / "sources.yaml", "http://127.0.0.1:9")  # never contacted
    argv = ["--source", "gazette", "--run-id", "bad-spider", "--sources", str(sources)]
    assert main([*argv, "--database-url", sqlite_url, "--spider", spider]) == EXIT_USAGE
    assert "not an importable NewsSpider subclass" in capsys.readouterr().err
    engine = create_engine(sqlite_url)
    with Session(engine) as session:
        assert session.scalars(select(CrawlRun)).all() == []  # nothing started, nothing to clean up
    engine.dispose()
