"""Two loopback servers for the fence rows: an "allowed" news site and an "internal" service.

Both listen on 127.0.0.1 on ports the OS chooses. The allowed site serves whatever routes a
test gives it (the trap under test); the internal one answers every path with a tempting
article and records every hit, so "nothing left the fence" is simply ``internal.hits == []``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from pipeline.netpolicy import openings_for
from tests import loopback
from tests.minisite import write_one_source

SENTENCE = "The harbour board met on Tuesday to discuss the new ferry timetable for the winter season."


def article(title: str, *, head: str = "", related: list[str] = (), body_extra: str = "") -> str:  # type: ignore[assignment]
    """An article page the crawler's signals accept; ``related`` hrefs go in a related block."""
    links = "".join(f'<li><a href="{href}">{href}</a></li>' for href in related)
    text = " ".join([SENTENCE] * 12)
    return (
        f"<!doctype html><html><head><title>{title}</title>{head}"
        '<meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2024-05-01T10:00:00Z">'
        f"</head><body><article><h1>{title}</h1><div class='article-body'><p>{text}</p>"
        f"<p>{title} {text}</p>{body_extra}</div>"
        f'<section class="related-stories"><h2>Related</h2><ul>{links}</ul></section></article>'
        "</body></html>"
    )


def feed(urls: list[str]) -> str:
    items = "".join(
        f"<item><title>t</title><link>{u}</link><pubDate>Wed, 01 May 2024 10:00:00 GMT</pubDate></item>"
        for u in urls
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>F</title>{items}</channel></rss>'


def sitemap_index(urls: list[str]) -> str:
    locs = "".join(f"<sitemap><loc>{u}</loc></sitemap>" for u in urls)
    return f'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</sitemapindex>'


def urlset(urls: list[str]) -> str:
    locs = "".join(f"<url><loc>{u}</loc></url>" for u in urls)
    return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{locs}</urlset>'


#: A route: (status, body, extra headers).
Route = tuple[int, str, dict[str, str]]


@dataclass
class Server:
    """One loopback HTTP server; ``routes`` answer, ``fallback`` answers everything else."""

    routes: dict[str, Route] = field(default_factory=dict)
    fallback: Route | None = None
    hits: list[str] = field(default_factory=list)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def answer(self, path: str) -> Route:
        with self.lock:
            self.hits.append(path)
        route = self.routes.get(path) or self.fallback
        return route or (404, "<html>no</html>", {})


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            status, body, headers = server.answer(self.path)
            data = body.encode()
            self.send_response(status)
            ctype = "application/xml" if body.startswith("<?xml") else "text/html; charset=utf-8"
            if self.path == "/robots.txt":
                ctype = "text/plain"
            self.send_header("Content-Type", headers.get("Content-Type", ctype))
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                if key != "Content-Type":
                    self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

    return Handler


@contextmanager
def serving(server: Server) -> Iterator[Server]:
    with loopback.serving(_handler(server)) as port:
        server.port = port
        yield server


def internal_service() -> Server:
    """Answers every path with an article (and sitemaps/feeds that list more of itself)."""
    secret = article("Internal payroll memo", body_extra="<p>Quarterly payroll figures, confidential.</p>")
    return Server(fallback=(200, secret, {}))


def write_sources(path: Path, allowed: Server, **overrides: Any) -> Path:
    """The allowed site as a source: its own host:port only, loopback opened for that port only."""
    base = allowed.base
    source: dict[str, Any] = {
        "key": "allowed",
        "name": "Allowed Gazette",
        "homepage": base + "/",
        "allowed_domains": [f"127.0.0.1:{allowed.port}"],
        "discovery": {"feeds": [base + "/feed.rss"]},
        "article_urls": {"allow": [r"/news/[a-z0-9-]+$"]},
        "related": {"depth": 1, "scope": "same_site"},
        "politeness": {"concurrency": 4, "delay": 0, "download_timeout": 3.0},
        "limits": {"max_pages": 30},
        "allow_private_networks": openings_for(base),
    }
    return write_one_source(path, source, **overrides)
