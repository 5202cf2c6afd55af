"""Fault rows: hostile pages and arguments end in a clear category or a one-line usage error.

Compression bombs are served by a loopback server the test starts and crawled by the real
crawler; the pathological HTML goes through the real extractor; CLI arguments go through the
real ``newsflow`` process; search bounds are checked against a real SQLite database.
"""

from __future__ import annotations

import gzip
import os
import subprocess
import sys
import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.errors import UsageError
from pipeline.limits import MAX_QUERY_TERMS
from tests.loopback import PageHandler, serving
from tests.minisite import SENTENCES, MiniSite

BOMB_BYTES = 20_000_000  # inflated size; the source allows 200,000 bytes per response


def article_page(title: str, nesting: int = 0) -> bytes:
    paragraphs = "".join(f"<p>{a} {b}</p>" for a, b in zip(SENTENCES, reversed(SENTENCES), strict=True))
    body = "<div>" * nesting + f"<article><h1>{title}</h1>{paragraphs}</article>" + "</div>" * nesting
    head = (
        f'<title>{title}</title><meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2026-05-01T10:00:00Z">'
    )
    return f"<html><head>{head}</head><body>{body}</body></html>".encode()


@contextmanager
def feed_site(pages: dict[str, tuple[bytes, dict[str, str]]]) -> Iterator[str]:
    """A loopback site whose ``/feed.rss`` lists ``pages``; each answers its body and headers."""

    class Handler(PageHandler):
        def do_GET(self) -> None:
            if self.path == "/feed.rss":
                base = f"http://127.0.0.1:{self.server.server_address[1]}"
                items = "".join(f"<item><title>{p}</title><link>{base}{p}</link></item>" for p in pages)
                rss = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{items}</channel></rss>'
                self.send(200, rss.encode(), "application/rss+xml")
            elif self.path in pages:
                body, headers = pages[self.path]
                self.send(200, body, **headers)
            else:
                self.send(404, b"")

    with serving(Handler) as port:
        yield f"http://127.0.0.1:{port}"


@pytest.fixture
def bomb_site() -> Iterator[str]:
    """A feed of three stories: a gzip bomb, a deflate bomb and a normal page."""
    zeros = b"\0" * BOMB_BYTES
    with feed_site(
        {
            "/news/gzip-bomb": (gzip.compress(zeros, 9), {"Content-Encoding": "gzip"}),
            "/news/deflate-bomb": (zlib.compress(zeros, 9), {"Content-Encoding": "deflate"}),
            "/news/plain-story": (article_page("A plain story"), {}),
        }
    ) as base:
        yield base


def test_compression_bombs_are_too_large(bomb_site: str, sqlite_url: str, tmp_path: Path) -> None:
    from pipeline.db.engine import make_engine
    from pipeline.db.models import Fetch
    from pipeline.stages.crawl import crawl

    sources = MiniSite(base=bomb_site).sources_yaml(tmp_path / "sources.yaml")
    result = crawl("mini", "bombs", sources_path=sources, database_url=sqlite_url)
    assert result.status == "succeeded", result
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        rows = {
            url.removeprefix(bomb_site): (cat, msg)
            for url, cat, msg in conn.execute(select(Fetch.url, Fetch.error_category, Fetch.error_message))
        }
    engine.dispose()
    assert rows["/news/gzip-bomb"][0] == "too_large", rows
    assert rows["/news/deflate-bomb"][0] == "too_large", rows
    assert "inflates past the size limit" in (rows["/news/gzip-bomb"][1] or "")
    assert rows["/news/plain-story"][0] is None
    assert result.errors_by_category.get("too_large") == 2 and "other" not in result.errors_by_category


def test_pathologically_nested_html_is_an_error_not_an_article() -> None:
    from pipeline.extract.api import TOO_DEEP, extract_outcome

    deep = "<div>" * 100_000 + "<p>" + " ".join(SENTENCES) + "</p>" + "</div>" * 100_000
    html = f"<html><head><title>Deep</title></head><body><h1>Deep</h1><p>By Jane Doe</p>{deep}</body></html>"
    started = time.monotonic()
    outcome = extract_outcome(html, "http://127.0.0.1:9/news/deep")
    assert time.monotonic() - started < 5
    assert outcome.article is None and outcome.status == "error"
    assert outcome.reason is not None and outcome.reason.startswith(f"{TOO_DEEP}:")
    # An ordinary page of ordinary depth is still an article.
    fine = extract_outcome(
        article_page("A plain story", nesting=60).decode(), "http://127.0.0.1:9/news/plain"
    )
    assert fine.status == "ok", fine.reason


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["search", "council", "--since", "99999999999h"], "more than 100 years"),
        (["search", "council", "--limit", "1e20"], "'--limit'"),
        (["search", "council", "--limit", "99999999999999999999999"], "'--limit'"),
        (["articles", "--limit", "-1"], "'--limit'"),
        (["run", "--max-pages", "-5"], "'--max-pages'"),
        (["crawl", "--source", "x", "--related-depth", "99"], "'--related-depth'"),
        (["status", "--runs", "-1"], "'--runs'"),
        (["load", "--run", "r", "--batch-size", "0"], "'--batch-size'"),
        (["search", " ".join(["word"] * 4000)], "search query is"),
    ],
)
def test_out_of_range_arguments_exit_2_with_one_line(
    args: list[str], says: str, sqlite_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "NEWSFLOW_DATABASE_URL": sqlite_url, "NEWSFLOW_RAW_STORE": str(tmp_path / "raw")}
    proc = subprocess.run(
        [sys.executable, "-m", "pipeline", *args], env=env, capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr


def test_search_queries_are_bounded_and_cheap(sqlite_url: str) -> None:
    from pipeline.db.engine import make_engine
    from pipeline.search import search
    from pipeline.stages.load import load
    from tests.loadkit import WORDS, bulk_records, make_run, make_source

    engine = make_engine(sqlite_url)
    source_id = make_source(engine)
    bulk_records(engine, make_run(engine, source_id), source_id, 150)
    engine.dispose()
    load("r1", database_url=sqlite_url)
    with pytest.raises(UsageError, match="at most 32"):
        search(" ".join(["x"] * 40), database_url=sqlite_url)
    with pytest.raises(UsageError, match="characters"):
        search("x" * 5000, database_url=sqlite_url)
    # The largest query allowed, OR-ed so it matches. A ceiling, not a benchmark (the 4,000-word
    # query this bounds took 20 s): generous enough for a loaded CI machine.
    widest = " OR ".join(WORDS[: MAX_QUERY_TERMS // 2])
    started = time.monotonic()
    hits = search(widest, database_url=sqlite_url, limit=50)
    assert time.monotonic() - started < 5.0
    assert hits


@pytest.fixture
def odd_header_site() -> Iterator[str]:
    """A feed of two stories; one answers with a ``Link`` header carrying raw UTF-8 bytes."""
    odd = "</caf\u00c3\u00a9.css>; rel=preload"  # sent as latin-1: the bytes C3 A9
    with feed_site(
        {
            "/news/odd-header-story": (article_page("/news/odd-header-story"), {"Link": odd}),
            "/news/plain-story": (article_page("/news/plain-story"), {}),
        }
    ) as base:
        yield base


def test_a_non_ascii_header_warcio_cannot_encode_is_archived(
    odd_header_site: str, sqlite_url: str, tmp_path: Path
) -> None:
    """A response header with raw non-ASCII bytes in a ``;`` value: warcio's RFC 8187 encoding
    leaves them in place and raised, which stopped the whole crawl (``recorder_failed``). Now
    the value is %-encoded whole (as warcio does for a value without ``;``) and the page is kept.
    """
    from pipeline.db.engine import make_engine
    from pipeline.db.models import Fetch
    from pipeline.rawstore import read_response
    from pipeline.stages.crawl import crawl

    sources = MiniSite(base=odd_header_site).sources_yaml(tmp_path / "sources.yaml")
    result = crawl("mini", "odd-header", sources_path=sources, database_url=sqlite_url)
    assert result.status == "succeeded", result
    engine = make_engine(sqlite_url)
    with engine.connect() as conn:
        rows = {
            url.removeprefix(odd_header_site): (outcome, path, offset)
            for url, outcome, path, offset in conn.execute(
                select(Fetch.url, Fetch.outcome, Fetch.warc_path, Fetch.warc_offset)
            )
        }
    engine.dispose()
    assert rows["/news/plain-story"][0] == "fetched", rows
    outcome, path, offset = rows["/news/odd-header-story"]
    assert outcome == "fetched", rows
    stored = read_response((path, offset))
    assert stored.header("Link") == "%3C/caf%C3%83%C2%A9.css%3E%3B%20rel%3Dpreload"
    assert b"/news/odd-header-story" in stored.body
