"""The DAGs really run: ``airflow dags test`` against the demo network, SQLite and PostgreSQL.

``airflow dags test`` runs every task of one DAG run in one process (the crawl stage starts
Scrapy as a subprocess), with its own AIRFLOW_HOME and SQLite metadata database, exactly as
an ops person would debug a DAG. The news database is the ``db_url`` fixture (both backends).
"""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from pipeline.airflow_local import AirflowHome, free_port
from pipeline.db.engine import make_engine
from pipeline.db.models import Article, ArticleLink, ArticleVersion, CrawlRun, Source
from pipeline.demo_site import DemoNetwork
from pipeline.netpolicy import openings_for

pytestmark = [pytest.mark.slow, pytest.mark.airflow]

OUTLET = "capital-examiner"
DAG_ID = f"news_ingest__{OUTLET}"
LOGICAL_DATE = "2026-03-02T12:00:00+00:00"


@pytest.fixture(scope="module")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    """One migrated SQLite-metadata Airflow for the module (migrating takes ~15 s)."""
    home = AirflowHome(tmp_path_factory.mktemp("airflow"), port=free_port())
    home.migrate()
    return home


@pytest.fixture
def network() -> Iterator[DemoNetwork]:
    with DemoNetwork(host="127.0.0.1", port=0, slow_seconds=2.0) as net:
        yield net


def dags_test(
    home: AirflowHome,
    dag_id: str,
    *,
    database_url: str,
    raw_store: Path,
    sources: Path,
    conf: dict[str, Any] | None = None,
    logical_date: str | None = LOGICAL_DATE,
) -> subprocess.CompletedProcess[str]:
    home.news_env = {
        "NEWSFLOW_DATABASE_URL": database_url,
        "NEWSFLOW_RAW_STORE": str(raw_store),
        "NEWSFLOW_SOURCES": str(sources),
    }
    args = ["dags", "test", dag_id]
    if logical_date:
        args.append(logical_date)
    if conf:
        args += ["-c", json.dumps(conf)]
    return home.airflow(*args, timeout=900, check=False)


def snapshot(database_url: str) -> dict[str, Any]:
    """The consumer-visible state: articles, their versions and links (ids excluded)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            articles = sorted(
                conn.execute(
                    select(Article.canonical_url, Article.content_hash, Article.version, Article.title)
                ).all()
            )
            versions = sorted(
                conn.execute(
                    select(Article.canonical_url, ArticleVersion.version, ArticleVersion.content_hash).join(
                        Article, Article.id == ArticleVersion.article_id
                    )
                ).all()
            )
            links = sorted(
                conn.execute(
                    select(Article.canonical_url, ArticleLink.to_url).join(
                        Article, Article.id == ArticleLink.from_article_id
                    )
                ).all()
            )
        return {"articles": articles, "versions": versions, "links": links}
    finally:
        engine.dispose()


def latest_run(database_url: str, kind: str = "crawl") -> dict[str, Any]:
    """The newest run row (``airflow dags test`` names runs after the wall clock)."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            row = (
                conn.execute(
                    select(CrawlRun.__table__)
                    .where(CrawlRun.kind == kind)
                    .order_by(CrawlRun.started_at.desc())
                    .limit(1)
                )
                .mappings()
                .one()
            )
            return dict(row)
    finally:
        engine.dispose()


def expected_urls(network: DemoNetwork, key: str) -> set[str]:
    """Articles a crawl must store: everything served except pages built to fail for good."""
    manifest = network.manifest(include_generated=False)
    failing = {f.url for f in manifest.outlet(key).faults if not f.transient}
    return {a.url for a in manifest.articles_of(key) if a.url not in failing}


def stored_urls(database_url: str, key: str) -> set[str]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return set(
                conn.scalars(select(Article.canonical_url).join(Source).where(Source.key == key)).all()
            )
    finally:
        engine.dispose()


def output(result: subprocess.CompletedProcess[str]) -> str:
    return (result.stdout + result.stderr)[-6000:]


def test_ingest_dag_runs_twice_to_the_same_rows(
    airflow_home: AirflowHome, db_url: str, network: DemoNetwork, tmp_path: Path
) -> None:
    sources = network.write_sources(tmp_path / "sources.yaml")
    first = dags_test(airflow_home, DAG_ID, database_url=db_url, raw_store=tmp_path / "raw", sources=sources)
    assert first.returncode == 0, output(first)
    row = latest_run(db_url)
    assert row["run_id"].startswith(f"{OUTLET}__manual__")
    assert row["status"] == "success", (row["error"], output(first))
    assert row["quality"]["passed"] is True
    # The logical date's data interval is the run's window.
    assert row["window_start"].isoformat() == "2026-03-02T11:00:00+00:00"
    assert row["window_end"].isoformat() == "2026-03-02T12:00:00+00:00"
    expected = expected_urls(network, OUTLET)
    missing = expected - stored_urls(db_url, OUTLET)
    assert not missing, f"served articles not stored: {sorted(missing)}"
    # The flaky page answers 500 once: retries absorb it and its article is stored.
    manifest = network.manifest(include_generated=False)
    flaky = [f.url for f in manifest.outlet(OUTLET).faults if f.kind == "flaky"]
    assert flaky and set(flaky) <= stored_urls(db_url, OUTLET)
    before = snapshot(db_url)
    assert before["articles"] and before["links"]

    again = dags_test(airflow_home, DAG_ID, database_url=db_url, raw_store=tmp_path / "raw", sources=sources)
    assert again.returncode == 0, output(again)
    second = latest_run(db_url)
    assert second["run_id"] != row["run_id"] and second["status"] == "success", second["error"]
    assert second["articles_new"] == 0 and second["articles_updated"] == 0
    assert snapshot(db_url) == before


SHELL_PAGE = """<!doctype html><html><head><title>Story {n} | JS Times</title></head>
<body><div id="app"></div><script src="/bundle.js"></script></body></html>"""


def js_times_source(base_url: str) -> dict[str, Any]:
    """The ``js-times`` source on ``base_url`` (the redesigned site: its pages turned into JS shells)."""
    return {
        "key": "js-times",
        "name": "JS Times",
        "homepage": f"{base_url}/",
        "discovery": {"feeds": [f"{base_url}/feed.rss"]},
        "article_urls": {"allow": [r"/\d{4}/\d{2}/\d{2}/[a-z0-9-]+/$"]},
        "politeness": {"delay": 0, "download_timeout": 5},
        "allow_private_networks": openings_for(base_url),
    }


@pytest.fixture
def redesigned_site() -> Iterator[str]:
    """A site after a redesign: the feed still lists stories, pages are empty JS shells."""
    items = "".join(
        f"<item><title>Story {n}</title><link>{{base}}/2026/03/02/story-{n}/</link>"
        f"<pubDate>Mon, 02 Mar 2026 11:{n:02d}:00 +0000</pubDate></item>"
        for n in range(1, 6)
    )

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            if self.path == "/feed.rss":
                body = f'<?xml version="1.0"?><rss version="2.0"><channel><title>JS Times</title>{items}</channel></rss>'
                self._send(body.replace("{base}", base), "application/rss+xml")
            elif self.path.startswith("/2026/"):
                self._send(
                    SHELL_PAGE.format(n=self.path.rstrip("/").rsplit("-", 1)[-1]), "text/html; charset=utf-8"
                )
            elif self.path == "/robots.txt":
                self._send("User-agent: *\nAllow: /\n", "text/plain")
            else:
                self.send_error(404)

        def _send(self, text: str, content_type: str) -> None:
            data = text.encode()
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_quality_gate_fails_a_source_whose_extraction_breaks(
    airflow_home: AirflowHome, sqlite_url: str, redesigned_site: str, tmp_path: Path
) -> None:
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "sources": [js_times_source(redesigned_site)],
            }
        )
    )
    result = dags_test(
        airflow_home,
        "news_ingest__js-times",
        database_url=sqlite_url,
        raw_store=tmp_path / "raw",
        sources=sources,
    )
    assert result.returncode != 0 or "failed" in output(result)
    row = latest_run(sqlite_url)
    assert row["status"] == "failed", output(result)
    assert row["error"].startswith("quality gate failed for js-times"), row["error"]
    assert (
        "articles per run 0 is below min_articles 1 (6 pages fetched, none gave or looked like"
        in row["error"]
    )
    assert "has the site's layout or its feeds changed?" in row["error"]
    assert row["quality"]["passed"] is False and row["quality"]["metrics"]["fetched"] == 6
    assert stored_urls(sqlite_url, "js-times") == set()
    # The task fails with the short message (reasons, no page list); the full text is logged.
    short = [
        line
        for line in output(result).splitlines()
        if "AirflowFailException" in line or "quality gate failed" in line
    ]
    assert any("(pages and metrics: see the log above" in line for line in short), short


def test_reextract_rewrites_articles_from_warc_without_http(
    airflow_home: AirflowHome, sqlite_url: str, network: DemoNetwork, tmp_path: Path
) -> None:
    sources = network.write_sources(tmp_path / "sources.yaml")
    first = dags_test(
        airflow_home, DAG_ID, database_url=sqlite_url, raw_store=tmp_path / "raw", sources=sources
    )
    assert first.returncode == 0, output(first)
    manifest = network.manifest(include_generated=False)
    article = manifest.article(manifest.seed_url)
    doomed = article.paragraphs[-1]
    assert article.outlet == OUTLET and doomed in _text(sqlite_url, article.url)

    # A fixed cleaning rule: drop the seed story's last paragraph, then re-extract.
    data = yaml.safe_load(sources.read_text())
    for source in data["sources"]:
        if source["key"] == OUTLET:
            source.setdefault("extraction", {})["drop_patterns"] = [_regex_for(doomed)]
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(yaml.safe_dump(data))
    requests_before = len(network.requests())
    network.stop()  # any HTTP request would now fail

    result = dags_test(
        airflow_home,
        "news_reextract",
        database_url=sqlite_url,
        raw_store=tmp_path / "raw",
        sources=fixed,
        conf={"source": OUTLET, "start": "2000-01-01T00:00:00Z", "end": "2100-01-01T00:00:00Z"},
        logical_date=None,
    )
    assert result.returncode == 0, output(result)
    assert len(network.requests()) == requests_before
    run = latest_run(sqlite_url, "reextract")
    assert run["status"] == "success", run["error"]
    assert run["articles_updated"] >= 1
    text = _text(sqlite_url, article.url)
    assert doomed not in text and article.paragraphs[0] in text
    assert _version(sqlite_url, article.url) == 2


def _regex_for(line: str) -> str:
    import re

    return "^" + re.escape(line[:40])


def _text(database_url: str, url: str) -> str:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return str(conn.scalar(select(Article.text).where(Article.canonical_url == url)))
    finally:
        engine.dispose()


def _version(database_url: str, url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(select(Article.version).where(Article.canonical_url == url)) or 0)
    finally:
        engine.dispose()
