"""Time travel (editions), conditional GET, scale mode and the ``newsflow demo-site`` command."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from pipeline.demo_site import DemoNetwork
from pipeline.demo_site.generate import slugify
from tests.test_demo_site import NS, get, get_ok, links, texts, tree


@pytest.fixture
def net() -> Iterator[DemoNetwork]:
    with DemoNetwork(port=0, slow_seconds=1.0) as network:
        yield network


# -- conditional GET -------------------------------------------------------------------------------
def test_etag_last_modified_and_304s(net: DemoNetwork) -> None:
    m = net.manifest()
    targets = [m.seed_url, m.outlet("capital-examiner").feed_url, m.outlet("harbour-times").sitemap_url]
    targets += [m.outlet("northern-ledger").feed_url, m.outlet("capital-examiner").homepage]
    for url in targets:
        assert url is not None
        first = get(url)
        etag, last_modified = first.headers["ETag"], first.headers["Last-Modified"]
        assert first.status == 200 and etag.startswith('"') and last_modified.endswith("GMT")
        again = get(url)
        assert again.headers["ETag"] == etag  # deterministic bodies, stable validators
        by_etag = get(url, {"If-None-Match": etag})
        assert by_etag.status == 304 and by_etag.body == b""
        assert by_etag.headers["ETag"] == etag
        by_date = get(url, {"If-Modified-Since": last_modified})
        assert by_date.status == 304
        older = format_datetime(parsedate_to_datetime(last_modified).replace(year=2020), usegmt=True)
        assert get(url, {"If-Modified-Since": older}).status == 200
        # If-None-Match wins over If-Modified-Since (RFC 9110)
        assert get(url, {"If-None-Match": '"other"', "If-Modified-Since": last_modified}).status == 200
    truth = m.article(m.seed_url)
    stamp = parsedate_to_datetime(get(m.seed_url).headers["Last-Modified"])
    assert stamp == truth.modified_at


def test_head_requests_send_headers_only(net: DemoNetwork) -> None:
    m = net.manifest()
    head = get(m.seed_url, method="HEAD")
    full = get(m.seed_url)
    assert head.status == 200 and head.body == b""
    assert head.headers["ETag"] == full.headers["ETag"]
    assert int(head.headers["Content-Length"]) == len(full.body)


# -- edition 2 ---------------------------------------------------------------------------------
def test_edition_switch_changes_an_article_and_adds_new_ones(net: DemoNetwork) -> None:
    m1, m2 = net.manifest(1), net.manifest(2)
    assert m1.changed_in_edition2 == m2.changed_in_edition2 and len(m1.changed_in_edition2) >= 1
    assert len(m2.new_in_edition2) >= 3
    for url in m2.new_in_edition2:
        assert url not in m1.articles and url in m2.articles
        assert get(url).status == 404
    changed = m1.changed_in_edition2[0]
    old = get(changed)
    unchanged = next(
        a.url
        for a in m1.articles_of("capital-examiner")
        if not a.changes_in_edition2 and a.fault is None and a.id == "housing-starts"
    )
    unchanged_reply = get(unchanged)
    feed_url = m1.outlet("capital-examiner").feed_url or ""
    feed_v1 = get(feed_url)

    net.set_edition(2)
    assert net.edition == 2
    new = get(changed, {"If-None-Match": old.headers["ETag"]})
    assert new.status == 200 and new.headers["ETag"] != old.headers["ETag"]
    assert parsedate_to_datetime(new.headers["Last-Modified"]) > parsedate_to_datetime(
        old.headers["Last-Modified"]
    )
    v1, v2 = m1.article(changed), m2.article(changed)
    assert (
        v1.paragraphs != v2.paragraphs
        and v2.modified_at
        and v2.modified_at > (v1.modified_at or v1.published_at)
    )
    body = texts(tree(new), "//div[@class='article-body']/p")
    assert all(p in body for p in v2.paragraphs) and v1.paragraphs[0] not in body
    ld = json.loads(tree(new).xpath("//script[@type='application/ld+json']/text()")[0])
    assert datetime.fromisoformat(ld["dateModified"]) == v2.modified_at
    # An article that did not change still answers 304 to its old validator.
    assert get(unchanged, {"If-None-Match": unchanged_reply.headers["ETag"]}).status == 304
    # The feed changed and lists the new articles.
    feed_v2 = get(feed_url, {"If-None-Match": feed_v1.headers["ETag"]})
    assert feed_v2.status == 200
    feed_links = {i.findtext("link") for i in ET.fromstring(feed_v2.body).findall("./channel/item")}
    new_capital = set(m2.outlet("capital-examiner").new_in_edition2)
    assert new_capital and new_capital <= feed_links
    atom = ET.fromstring(get(m2.outlet("northern-ledger").feed_url or "").body)
    atom_links = {e.find("atom:link", NS).get("href") for e in atom.findall("atom:entry", NS)}  # type: ignore[union-attr]
    assert set(m2.outlet("northern-ledger").new_in_edition2) <= atom_links
    news = ET.fromstring(get(m2.outlet("harbour-times").news_sitemap_url or "").body)
    news_locs = {u.findtext("sm:loc", "", NS) for u in news.findall("sm:url", NS)}
    assert set(m2.outlet("harbour-times").new_in_edition2) <= news_locs
    for url in m2.new_in_edition2:
        assert get(url).status == 200
    home = {
        u.split("?")[0].split("#")[0]
        for u in links(tree(get(m2.outlet("capital-examiner").homepage)), changed)
    }
    assert new_capital <= home

    net.set_edition(1)
    assert get(changed).headers["ETag"] == old.headers["ETag"]
    assert get(m2.new_in_edition2[0]).status == 404


def test_network_can_start_in_edition_2() -> None:
    with DemoNetwork(port=0, edition=2) as network:
        m = network.manifest()
        assert m.edition == 2
        assert get(m.new_in_edition2[0]).status == 200


# -- scale mode --------------------------------------------------------------------------------
def test_scale_mode_serves_10000_generated_articles_lazily() -> None:
    started = time.perf_counter()
    network = DemoNetwork(port=0, articles=10_000).start()
    try:
        assert time.perf_counter() - started < 3.0  # nothing is pre-rendered
        assert network.catalog.generator.story.cache_info().currsize == 0  # type: ignore[attr-defined]
        hand = {o.key: len(network.catalog.hand_written(o.key, 1)) for o in network.outlets}
        counts = {o.key: network.catalog.generator.count_for(o.key) for o in network.outlets}
        assert sum(counts.values()) == 10_000
        capital = network.outlets[0]
        sitemap = ET.fromstring(get(capital.url("/sitemap.xml")).body)
        locs = [u.findtext("sm:loc", "", NS) for u in sitemap.findall("sm:url", NS)]
        assert len(locs) == len(set(locs)) == hand["capital-examiner"] + counts["capital-examiner"]
        harbour = network.outlets[2]
        index = ET.fromstring(get(harbour.url("/sitemap.xml")).body)
        children = [s.findtext("sm:loc", "", NS) for s in index.findall("sm:sitemap", NS)]
        chunks = [c for c in children if "articles-" in c]
        assert len(chunks) == -(-(hand["harbour-times"] + counts["harbour-times"]) // 1000)
        last = ET.fromstring(get(chunks[-1]).body).findall("sm:url", NS)
        sample = last[-1].findtext("sm:loc", "", NS)  # the oldest generated harbour article
        reply = get(sample)
        assert reply.status == 200
        items = ET.fromstring(get(capital.url("/feed.rss")).body).findall("./channel/item")
        assert len(items) == 50 + 1  # the newest 50, plus the stale entry of the 404 story
        # Deterministic: a second network with the same seed serves the same page.
        with DemoNetwork(port=0, articles=10_000) as twin:
            path = urlsplit(sample).path
            twin_body = get(twin.outlet("harbour-times").url(path)).body
            ports = [
                (o.base_url.encode(), t.base_url.encode())
                for o, t in zip(network.outlets, twin.outlets, strict=True)
            ]
            normalised = reply.body
            for mine, theirs in ports:
                normalised = normalised.replace(mine, theirs)
            assert twin_body == normalised
        page = tree(reply)
        body = texts(page, "//div[@class='story-body']/p")
        assert 4 <= len(body) <= 7 and all(len(p.split()) >= 8 for p in body)
        assert slugify(page.xpath("//h1/text()")[0]) in path  # the slug is the headline's
        # Generated pages use the outlet template and are listed (deep pagination works).
        listing = network.catalog.listing("capital-examiner", 1)
        pages = listing.pages(8)
        deep = get(capital.url(f"/page/{pages}/"))
        assert deep.status == 200 and get(capital.url(f"/page/{pages + 1}/")).status == 404
        assert network.catalog.generator.story.cache_info().currsize < 600  # type: ignore[attr-defined]
    finally:
        network.stop()


def test_scale_manifest_matches_generated_pages() -> None:
    with DemoNetwork(port=0, articles=30) as network:
        m = network.manifest()
        generated = [a for a in m.articles.values() if a.generated]
        assert len(generated) == 30 and m.generated_count == 30
        for truth in generated[:6]:
            reply = get_ok(truth.url)
            page = tree(reply)
            assert page.xpath("//link[@rel='canonical']/@href") == [truth.url]
            body = texts(page, "//p")
            assert all(p in body for p in truth.paragraphs)
            assert truth.title in texts(page, "//h1")
        sources = {s["key"]: s for s in network.sources()}
        assert all("sitemaps" in s["discovery"] for s in sources.values())


# -- the CLI -----------------------------------------------------------------------------------
def test_cli_serves_prints_origins_and_writes_valid_sources(tmp_path: Path) -> None:
    out = tmp_path / "x.yaml"
    cmd = [sys.executable, "-m", "pipeline", "demo-site", "--port", "0", "--sources-out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        assert proc.stdout is not None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line)
            if line.startswith("wrote"):
                break
        origins = re.findall(r"http://127\.0\.0\.1:\d+/", "".join(lines))
        assert len(set(origins)) >= 3, lines
        for origin in origins:
            assert get(origin).status == 200
        check = subprocess.run(
            [sys.executable, "-m", "pipeline", "sources", "check", str(out)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert check.returncode == 0, check.stderr
        assert "3 source(s) OK" in check.stdout
    finally:
        os.kill(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)  # a loaded CI machine stops three servers slowly
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0


def test_cli_refuses_a_non_loopback_host() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pipeline", "demo-site", "--host", "0.0.0.0", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "not a loopback address" in result.stderr
