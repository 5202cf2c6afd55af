"""Acceptance of the crawler against the demo news network (real Scrapy, SQLite and PostgreSQL).

The demo network's ``manifest()`` is the ground truth: which URLs are articles and where
they can be found, which are robots-disallowed, which faults must end in which category,
what changes in edition 2.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session
from warcio.archiveiterator import ArchiveIterator

from pipeline import yamlsafe
from pipeline.db.models import CrawlLink, CrawlRun, Fetch
from pipeline.demo_site import DemoNetwork
from pipeline.demo_site.model import EDITION_TIMES
from pipeline.rawstore import read_response
from pipeline.stages.crawl import crawl
from tests.test_crawl_local import mark_stored

OUTLETS = ("capital-examiner", "northern-ledger", "harbour-times")


@pytest.fixture
def network() -> Iterator[DemoNetwork]:
    """The demo network with a 2 s slow page (download timeout 1 s) to keep the suite quick."""
    with DemoNetwork(host="127.0.0.1", port=0, slow_seconds=2.0) as net:
        yield net


def write_sources(net: DemoNetwork, path: Path, **limits: Any) -> Path:
    sources = net.sources()
    for source in sources:
        source["limits"].update(limits)
    path.write_text(yamlsafe.dump({"version": 1, "sources": sources}))
    return path


def run_rows(db_url: str, run_id: str) -> tuple[list[Fetch], list[CrawlLink]]:
    engine = create_engine(db_url)
    with Session(engine) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one()
        fetches = list(session.scalars(select(Fetch).where(Fetch.run_id == run.id)))
        links = list(session.scalars(select(CrawlLink).where(CrawlLink.run_id == run.id)))
    engine.dispose()
    return fetches, links


def assert_warc_matches(rows: list[Fetch]) -> None:
    """Each WARC file holds exactly the records the rows point at (their own or a redirect hop)."""
    by_file: dict[str, set[int]] = {}
    for row in rows:
        if row.warc_path is not None:
            assert row.warc_offset is not None
            by_file.setdefault(row.warc_path, set()).add(row.warc_offset)
            raw = read_response((row.warc_path, row.warc_offset))
            assert raw.status == row.status and raw.url == row.final_url
        for hop in row.hints.get("redirects") or []:
            by_file.setdefault(hop["warc_path"], set()).add(hop["warc_offset"])
            raw = read_response((hop["warc_path"], hop["warc_offset"]))
            assert raw.status == hop["status"] and 300 <= raw.status < 400 and raw.url == hop["url"]
    assert by_file, "no WARC records at all"
    for path, offsets in by_file.items():
        found: set[int] = set()
        with open(path, "rb") as handle:
            iterator = ArchiveIterator(handle)
            for record in iterator:
                if record.rec_type in ("response", "revisit"):
                    found.add(iterator.get_record_offset())
        assert found == offsets, path


def test_first_crawl_of_each_outlet(network: DemoNetwork, db_url: str, tmp_path: Path) -> None:
    sources = network.write_sources(tmp_path / "sources.yaml")
    manifest = network.manifest()
    for key in OUTLETS:
        outlet = manifest.outlet(key)
        result = crawl(key, f"{key}-first", sources_path=sources, database_url=db_url)
        assert result.status == "succeeded", result.error
        rows, links = run_rows(db_url, f"{key}-first")

        # Scrapy's own robots.txt fetch is archived once per host, beside the pages.
        robots = [r for r in rows if r.outcome == "robots_txt"]
        assert len(robots) == 1 and robots[0].url.endswith("/robots.txt") and robots[0].status == 200
        assert result.pages_fetched == sum(1 for r in rows if r.outcome == "fetched")
        all_rows, rows = rows, [r for r in rows if r.outcome != "robots_txt"]
        # No URL is requested twice, and no canonical URL is fetched twice.
        urls = Counter(r.url for r in rows)
        assert max(urls.values()) == 1, [u for u, n in urls.items() if n > 1]
        fetched_canonicals = Counter(r.canonical_url for r in rows if r.outcome == "fetched")
        assert max(fetched_canonicals.values()) == 1
        # Tracking-parameter and fragment variants collapse before scheduling.
        assert not [r.url for r in rows if "utm_" in r.url or "#" in r.url]

        # Every article reachable from feeds/sitemaps/listings/related is an article candidate.
        slow = {f.url for f in outlet.faults if f.kind == "slow"}
        candidates = {r.canonical_url for r in rows if r.is_article_candidate}
        expected = set(outlet.article_urls) - slow
        assert expected <= candidates, sorted(expected - candidates)
        assert candidates <= set(outlet.article_urls), sorted(candidates - set(outlet.article_urls))
        for url in outlet.non_articles:
            assert url not in candidates

        # Related coverage on the same outlet is followed (depth 1) and every edge is recorded.
        edges = {(link.from_url, link.to_url) for link in links}
        for url in outlet.article_urls:
            truth = manifest.article(url)
            if url not in candidates:
                continue
            for target in truth.related:
                assert (url, target) in edges, (url, target)
                if urlsplit(target).netloc == urlsplit(url).netloc and target not in slow:
                    assert target in candidates, target

        # robots.txt is obeyed: nothing under a disallowed prefix was ever requested.
        requested = [target for outlet_key, _m, target, _s in network.requests() if outlet_key == key]
        for prefix in outlet.disallowed_prefixes:
            assert not [t for t in requested if t.startswith(prefix)], prefix
        by_url = {r.url: r for r in rows}
        for url in outlet.robots_disallowed:
            if url in by_url:
                assert by_url[url].error_category == "robots" and by_url[url].outcome == "skipped"

        # Every fault ends in its category (after retries), and the run still succeeded.
        for fault in outlet.faults:
            row = by_url[fault.url]
            assert row.error_category == fault.category, (fault.url, row.error_message)
            if fault.transient:
                assert row.status == 200 and row.outcome == "fetched"
        assert result.errors_by_category.get("robots", 0) >= 1
        assert result.pages_fetched == sum(1 for r in rows if r.outcome == "fetched")

        assert_warc_matches(all_rows)


def test_blocked_redirect_reason_is_clear(network: DemoNetwork, db_url: str, tmp_path: Path) -> None:
    sources = network.write_sources(tmp_path / "sources.yaml")
    fault = next(f for f in network.manifest().outlet("harbour-times").faults if f.kind == "blocked_redirect")
    crawl("harbour-times", "blocked", sources_path=sources, database_url=db_url, related_depth=0)
    rows, _ = run_rows(db_url, "blocked")
    row = next(r for r in rows if r.url == fault.url)
    assert row.error_category == "blocked_network" and row.outcome == "error"
    assert "network guard" in (row.error_message or "") and "unspecified" in (row.error_message or "")


def test_edition2_recrawl_is_incremental(
    network: DemoNetwork, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The demo's clock stands in 2023: the runs happen at the edition times (NEWSFLOW_NOW), and
    # a revisit every 12 h for a week makes the changed article (5 days old) due at edition 2.
    schedule = [f"{12 * n}h" for n in range(1, 15)]
    sources = write_sources(network, tmp_path / "sources.yaml", revisit=schedule)
    edition1 = network.manifest(1)
    monkeypatch.setenv("NEWSFLOW_NOW", EDITION_TIMES[1].isoformat())
    for key in ("capital-examiner", "northern-ledger"):
        crawl(key, f"{key}-e1", sources_path=sources, database_url=db_url, window=(None, EDITION_TIMES[1]))
        mark_stored(db_url, f"{key}-e1")  # what extract + load would leave behind
    network.set_edition(2)
    monkeypatch.setenv("NEWSFLOW_NOW", EDITION_TIMES[2].isoformat())
    edition2 = network.manifest(2)
    for key in ("capital-examiner", "northern-ledger"):
        network.log.clear()
        result = crawl(
            key, f"{key}-e2", sources_path=sources, database_url=db_url, window=(None, EDITION_TIMES[2])
        )
        assert result.status == "succeeded"
        rows, _ = run_rows(db_url, f"{key}-e2")
        by_url = {r.url: r for r in rows}
        outlet1, outlet2 = edition1.outlet(key), edition2.outlet(key)
        changed, new = set(outlet2.changed_in_edition2), set(outlet2.new_in_edition2)
        assert changed and new
        for url in changed:
            assert by_url[url].outcome == "fetched" and by_url[url].hints["change"] == "changed"
            assert by_url[url].is_article_candidate
        for url in new:
            assert by_url[url].outcome == "fetched" and by_url[url].hints["change"] == "new"
        faulty = {f.url for f in outlet1.faults}
        known = set(outlet1.article_urls) - changed - faulty
        conditional = {t for _k, _m, t, status in network.requests() if status == 304}
        for url in known:
            row = by_url.get(url)
            if row is None:
                continue  # stored, not recent, no newer hint: not requested at all
            # A conditional refetch: 304, or 200 only because the page's bytes changed
            # (e.g. its related block now lists an edition-2 story).
            assert row.hints["plan"] in ("revisit due", "updated since last fetch"), url
            if row.outcome != "not_modified":
                assert row.outcome == "fetched" and row.hints["change"] == "changed", url
        unchanged = [r for r in rows if r.url in known and r.outcome == "not_modified"]
        assert len(unchanged) >= 2 and result.pages_unchanged >= len(unchanged)
        assert {urlsplit(r.url).path for r in unchanged} <= conditional
        assert all(r.etag for r in unchanged)
        revisits = [read_response((r.warc_path or "", r.warc_offset or 0)) for r in unchanged]
        assert all(raw.kind == "revisit" and raw.refers_to is not None for raw in revisits)
        assert_warc_matches(rows)


def test_loopback_source_refused_without_opt_in(network: DemoNetwork, db_url: str, tmp_path: Path) -> None:
    sources = network.sources()
    for source in sources:
        source["allow_private_networks"] = False
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "sources": sources}))
    result = crawl("northern-ledger", "refused", sources_path=path, database_url=db_url)
    assert result.status == "failed"
    assert result.error and "loopback" in result.error and "allow_private_networks" in result.error
    assert not network.requests()
    rows, _ = run_rows(db_url, "refused")
    assert rows and {r.error_category for r in rows} == {"blocked_network"}


def test_amp_page_hands_over_to_its_canonical(network: DemoNetwork, db_url: str, tmp_path: Path) -> None:
    amp_url, canonical = next(iter(network.manifest().outlet("harbour-times").amp.items()))
    (source,) = [s for s in network.sources() if s["key"] == "harbour-times"]
    source["discovery"] = {"seeds": [amp_url]}
    source["related"] = {"depth": 0}
    path = tmp_path / "sources.yaml"
    path.write_text(yaml.safe_dump({"version": 1, "sources": [source]}))
    result = crawl("harbour-times", "amp", sources_path=path, database_url=db_url)
    assert result.status == "succeeded"
    rows, _ = run_rows(db_url, "amp")
    by_url = {r.url: r for r in rows}
    amp = by_url[amp_url]
    assert not amp.is_article_candidate and amp.hints["duplicate_of"] == canonical
    assert by_url[canonical].is_article_candidate and by_url[canonical].discovery == "canonical"
    assert len([r for r in rows if r.outcome != "robots_txt"]) == 2


def test_killed_crawl_leaves_readable_raw_data(db_url: str, tmp_path: Path) -> None:
    """SIGKILL mid-run: every record written so far reads back, every stored row points at one."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from pipeline.db.engine import make_engine, session_scope
    from pipeline.rawstore import run_warc_path
    from pipeline.runs import start_run, sync_source

    with DemoNetwork(host="127.0.0.1", port=0, articles=900) as net:
        sources = net.write_sources(tmp_path / "sources.yaml")
        from pipeline.config import load_sources

        config = load_sources(sources).get("harbour-times")
        engine = make_engine(db_url)
        with session_scope(engine) as session:
            start_run(session, sync_source(session, config), "killed")
        engine.dispose()
        raw = str(tmp_path / "raw")
        cmd = [sys.executable, "-m", "crawlers.run", "--source", "harbour-times", "--run-id", "killed"]
        cmd += ["--sources", str(sources), "--database-url", db_url, "--raw-store", raw]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        warc = Path(run_warc_path(raw, "harbour-times", "killed"))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and (not warc.exists() or warc.stat().st_size < 150_000):
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    responses = 0
    with warc.open("rb") as handle:
        for record in ArchiveIterator(handle):
            if record.rec_type == "response":
                record.content_stream().read()
                responses += 1
    assert responses > 10
    rows, _ = run_rows(db_url, "killed")
    for row in rows:
        if row.warc_path:
            assert read_response((row.warc_path, row.warc_offset or 0)).status == row.status
