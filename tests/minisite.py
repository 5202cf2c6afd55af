"""A tiny news site whose every story, status and feed entry a test sets between runs.

Serves one RSS feed, an optional (gzipped) sitemap, a section front and story pages with
ETag/Last-Modified and real conditional GET (304), on a loopback port of its own. Tests move
time with ``NEWSFLOW_NOW`` and change the site between runs; ``requests`` records what the
crawler asked, with its conditional headers, so a test can pin exactly which URLs were
requested and how.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from pipeline import yamlsafe
from pipeline.netpolicy import openings_for
from tests.loopback import PageHandler, serving

SENTENCES = [
    "The council met on Tuesday evening to debate the proposal in front of a packed public gallery.",
    "Residents from both sides of the river spoke for more than two hours about the plans.",
    "Several members said the budget had been drawn up without enough consultation.",
    "The finance officer defended the figures and promised a detailed written answer.",
    "A vote is expected next month after a second round of hearings in the town hall.",
    "Local businesses have warned that the changes could affect trade along the high street.",
    "Campaigners handed in a petition signed by more than four thousand people.",
    "The mayor told reporters afterwards that no decision had been taken yet.",
]


@dataclass
class Story:
    """One story page; ``kind`` is article | shell (JS shell) | gone (410) | missing (404) | front
    (redirect to the section front) | broken (a CMS that renders the chrome, not the body) |
    listing (a topic page of teasers served at a story URL)."""

    slug: str
    title: str
    published: datetime
    kind: str = "article"
    edit: int = 0  # bump to change the text (a correction)

    @property
    def path(self) -> str:
        return f"/news/{self.slug}"


@dataclass
class Request:
    path: str
    if_none_match: str | None
    if_modified_since: str | None


@dataclass
class MiniSite:
    """The site's state; tests mutate it between runs."""

    stories: dict[str, Story] = field(default_factory=dict)
    feed: list[str] = field(default_factory=list)  # slugs listed in the feed, newest first
    sitemap: list[str] | None = None  # slugs listed in /sitemap.xml.gz (None: no sitemap)
    # Found only through robots.txt's relative ``Sitemap: /sitemap-index.xml.gz``, a gzipped
    # index that lists /sitemap.xml.gz.
    sitemap_via_robots: bool = False
    sitemap_bomb: bool = False
    base: str = ""
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, slug: str, published: datetime, *, kind: str = "article", listed: bool = True) -> Story:
        story = Story(slug, f"Story {slug.replace('-', ' ')}", published, kind)
        self.stories[slug] = story
        if listed:
            self.feed.insert(0, slug)
        return story

    def url(self, slug: str) -> str:
        return self.base + f"/news/{slug}"

    def asked(self, slug: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == f"/news/{slug}"]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()

    # -- rendering -------------------------------------------------------------------------

    def article_html(self, story: Story) -> str:
        paragraphs = "".join(
            f"<p>{SENTENCES[(i + len(story.slug)) % len(SENTENCES)]} {story.title} is the subject here.</p>"
            for i in range(8)
        )
        if story.edit:
            paragraphs += (
                f"<p>Correction {story.edit}: an earlier version misstated the date of the vote.</p>"
            )
        published = story.published.isoformat()
        return (
            f"<!doctype html><html><head><title>{story.title}</title>"
            f'<link rel="canonical" href="{self.url(story.slug)}">'
            f'<meta property="og:type" content="article">'
            f'<meta property="article:published_time" content="{published}">'
            f'</head><body><nav><a href="/">Home</a> <a href="/news/">News</a></nav>'
            f'<article><h1>{story.title}</h1><time datetime="{published}">{published}</time>'
            f'<div class="article-body">{paragraphs}</div></article>'
            f"<footer>(c) Mini Gazette</footer></body></html>"
        )

    def shell_html(self, story: Story) -> str:
        return (
            f"<!doctype html><html><head><title>{story.title}</title></head>"
            f'<body><div id="app"></div><script>window.__STATE__={{"id":"{story.slug}"}}</script>'
            f'<script src="/static/app.js"></script></body></html>'
        )

    def broken_html(self, story: Story) -> str:
        return site_chrome(story.title, story.published.isoformat(), self.url(story.slug))

    def front_html(self) -> str:
        teasers = "".join(
            f'<article><h2><a href="{s.path}">{s.title}</a></h2></article>'
            for s in list(self.stories.values())[:6]
        )
        return (
            f"<!doctype html><html><head><title>News</title></head><body><main>{teasers}</main></body></html>"
        )

    def listing_html(self, story: Story) -> str:
        teasers = "".join(
            f'<article><h2><a href="/news/topic-item-{i}">Council budget story number {i}</a></h2>'
            f"<p>{SENTENCES[i % len(SENTENCES)]}</p></article>"
            for i in range(12)
        )
        return (
            f"<!doctype html><html><head><title>Topics</title>"
            f'<meta property="og:type" content="website"></head><body>'
            f'<nav><a href="/">Home</a> <a href="/news/">News</a></nav><main><h1>Topics</h1>{teasers}</main>'
            f"<footer>(c) Mini Gazette</footer></body></html>"
        )

    def feed_xml(self) -> str:
        items = "".join(
            f"<item><title>{self.stories[slug].title}</title><link>{self.url(slug)}</link>"
            f"<pubDate>{format_datetime(self.stories[slug].published, usegmt=True)}</pubDate></item>"
            for slug in self.feed
        )
        return f'<?xml version="1.0"?><rss version="2.0"><channel><title>Mini</title>{items}</channel></rss>'

    def sitemap_xml(self) -> str:
        urls = "".join(
            f"<url><loc>{self.url(slug)}</loc><lastmod>{self.stories[slug].published.isoformat()}</lastmod></url>"
            for slug in self.sitemap or []
        )
        return f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'

    def sources_yaml(self, path: Path, **overrides: Any) -> Path:
        discovery: dict[str, Any] = {"feeds": [self.base + "/feed.rss"]}
        if self.sitemap is not None and self.sitemap_via_robots:
            discovery["robots_sitemaps"] = True
        elif self.sitemap is not None:
            discovery["sitemaps"] = [self.base + "/sitemap.xml.gz"]
        source: dict[str, Any] = {
            "key": "mini",
            "name": "Mini Gazette",
            "homepage": self.base + "/",
            "discovery": discovery,
            "article_urls": {"allow": [r"/news/[a-z0-9-]+$"]},
            "related": {"depth": 0},
            "politeness": {
                "concurrency": 4,
                "delay": 0,
                "download_timeout": 2.0,
                "max_response_bytes": 200_000,
            },
            "allow_private_networks": openings_for(self.base),
        }
        return write_one_source(path, source, **overrides)


def write_one_source(path: Path, source: dict[str, Any], **overrides: Any) -> Path:
    """``sources.yaml`` with ``source``; an override of a section (a dict) merges into it."""
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(source.get(key), dict):
            source[key] = {**source[key], **value}
        else:
            source[key] = value
    path.write_text(yamlsafe.dump({"version": 1, "sources": [source]}))
    return path


def site_chrome(title: str, published: str, url: str) -> str:
    """An article page whose body container came back empty: headline, byline, share buttons."""
    return (
        f"<!doctype html><html><head><title>{title}</title>"
        f'<link rel="canonical" href="{url}"><meta property="og:type" content="article"></head>'
        f"<body><article><h1>{title}</h1><p class='byline'>By Mini Staff</p>"
        f'<time datetime="{published}">{published}</time><div class="article-body"></div>'
        "<ul class='share'><li>Facebook</li><li>Twitter</li><li>Email</li></ul></article>"
        "<footer>(c) Mini Gazette</footer></body></html>"
    )


def make_handler(site: MiniSite) -> type[PageHandler]:
    class Handler(PageHandler):
        def conditional(self, body: bytes, modified: datetime) -> None:
            etag = '"' + hashlib.md5(body).hexdigest() + '"'
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.send_header("ETag", etag)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send(200, body, ETag=etag, Last_Modified=format_datetime(modified, usegmt=True))

        def do_GET(self) -> None:
            path = self.path
            with site.lock:
                site.requests.append(
                    Request(path, self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since"))
                )
            if path == "/robots.txt":
                extra = b"Sitemap: /sitemap-index.xml.gz\n" if site.sitemap_via_robots else b""
                self.send(200, b"User-agent: *\nAllow: /\n" + extra, "text/plain")
            elif path == "/sitemap-index.xml.gz" and site.sitemap_via_robots:
                index = (
                    '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                    f"<sitemap><loc>{site.base}/sitemap.xml.gz</loc></sitemap></sitemapindex>"
                )
                self.send(200, gzip.compress(index.encode()), "application/gzip")
            elif path == "/feed.rss":
                self.send(200, site.feed_xml().encode(), "application/rss+xml")
            elif path == "/sitemap.xml.gz" and site.sitemap is not None:
                raw = (
                    b"<urlset>" + b" " * 5_000_000 + b"</urlset>"
                    if site.sitemap_bomb
                    else site.sitemap_xml().encode()
                )
                self.send(200, gzip.compress(raw), "application/gzip")
            elif path in ("/", "/news/"):
                self.send(200, site.front_html().encode())
            elif path.startswith("/news/") and path.removeprefix("/news/") in site.stories:
                story = site.stories[path.removeprefix("/news/")]
                if story.kind == "gone":
                    self.send(410, b"<html><body>Gone</body></html>")
                elif story.kind == "missing":
                    self.send(404, b"<html><body>Not found</body></html>")
                elif story.kind == "front":
                    self.send(301, b"", Location="/news/")
                elif story.kind == "broken":
                    self.conditional(site.broken_html(story).encode(), story.published)
                elif story.kind == "listing":
                    self.conditional(site.listing_html(story).encode(), story.published)
                elif story.kind == "shell":
                    self.conditional(site.shell_html(story).encode(), story.published)
                else:
                    self.conditional(site.article_html(story).encode(), story.published)
            else:
                self.send(404, b"<html><body>no such page</body></html>")

    return Handler


def serve(site: MiniSite) -> Iterator[MiniSite]:
    """Serve ``site`` on a free loopback port for the duration of the generator."""
    with serving(make_handler(site)) as port:
        site.base = f"http://127.0.0.1:{port}"
        yield site
