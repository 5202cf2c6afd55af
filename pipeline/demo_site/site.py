"""One outlet as a function from request target to response, independent of any HTTP server.

Keeping routing pure (no sockets) lets the manifest and the tests reason about exactly what
each URL returns, while ``server.py`` only moves bytes, applies delays and answers
conditional requests.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from types import ModuleType
from urllib.parse import parse_qs, urlsplit

from pipeline.demo_site import clientside, feeds
from pipeline.demo_site.catalog import Catalog
from pipeline.demo_site.model import EDITION_TIMES, Story
from pipeline.demo_site.outlets import OutletSpec, Wart
from pipeline.demo_site.templates import TEMPLATES
from pipeline.demo_site.templates.common import Ctx, e, wart_body
from pipeline.demo_site.templates.harbour import amp_path

HTML = "text/html; charset=utf-8"
STATIC_DATE = datetime.fromisoformat("2023-05-01T00:00:00+00:00")
# Smallest valid GIF; stands in for every image.
GIF = bytes.fromhex("47494638396101000100800000ffffff00000021f90401000000002c00000000010001000002024401003b")


@dataclass
class Response:
    """What to send. ``last_modified`` set on a 200 enables ETag/Last-Modified and 304s."""

    status: int
    content_type: str = HTML
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    last_modified: datetime | None = None
    delay: float = 0.0
    stream: Callable[[], Iterator[bytes]] | None = None
    length: int | None = None  # for streamed bodies


@dataclass(frozen=True)
class SiteOptions:
    slow_seconds: float
    max_response_bytes: int


class OutletSite:
    """Routes one outlet's URLs; ``edition`` is read from the network on every request."""

    def __init__(
        self,
        spec: OutletSpec,
        catalog: Catalog,
        base_urls: dict[str, str],
        edition: Callable[[], int],
        options: SiteOptions,
    ) -> None:
        self.spec = spec
        self.catalog = catalog
        self.base_urls = base_urls
        self.edition = edition
        self.options = options
        self.template: ModuleType = TEMPLATES[spec.key]
        self._warts = {w.path: w for w in spec.warts}
        self._hits: dict[str, int] = {}
        self._lock = threading.Lock()

    def ctx(self) -> Ctx:
        return Ctx(self.spec, self.base_urls, self.catalog, self.edition())

    # -- entry point ------------------------------------------------------------------
    def handle(self, target: str) -> Response:
        parts = urlsplit(target)
        path, query = parts.path or "/", parse_qs(parts.query)
        ctx = self.ctx()
        for route in (self._machine, self._listing, self._wart, self._story, self._asset, self._client_side):
            response = route(ctx, path, query)
            if response is not None:
                return response
        return self.not_found(ctx)

    def not_found(self, ctx: Ctx) -> Response:
        body = "<p>Sorry, the page you were looking for does not exist or has been removed.</p>"
        html = self.template.page(ctx, "Page not found", body, path="/404")
        return Response(404, body=html.encode())

    # -- robots, feeds, sitemaps --------------------------------------------------------
    def sitemap_paths(self) -> list[str]:
        return ["/sitemap.xml"]

    def _machine(self, ctx: Ctx, path: str, query: dict[str, list[str]]) -> Response | None:
        listing = self.catalog.listing(self.spec.key, ctx.edition)
        latest = max((s.last_modified(ctx.edition) for s in listing.hand), default=EDITION_TIMES[1])
        xml = "application/xml; charset=utf-8"
        if path == "/robots.txt":
            body = feeds.robots(self.spec, ctx.base, self.sitemap_paths())
            return Response(200, "text/plain; charset=utf-8", body, last_modified=STATIC_DATE)
        if path == self.spec.feed_path and self.spec.feed == "rss":
            stale = [(w.path, w.title) for w in self.spec.warts if w.kind == "not_found"]
            body = feeds.rss(ctx, listing.slice(0, feeds.FEED_SIZE), stale)
            return Response(200, "application/rss+xml; charset=utf-8", body, last_modified=latest)
        if path == self.spec.feed_path and self.spec.feed == "atom":
            body = feeds.atom(ctx, listing.slice(0, feeds.FEED_SIZE))
            return Response(200, "application/atom+xml; charset=utf-8", body, last_modified=latest)
        if path == "/sitemap.xml" and not self.spec.sitemap_index:
            body = feeds.urlset(ctx, feeds.sitemap_entries(ctx, listing, 0, 50_000))
            return Response(200, xml, body, last_modified=latest)
        if path == "/sitemap.xml":
            chunks = max(1, -(-len(listing) // feeds.SITEMAP_CHUNK))
            children = ["/sitemaps/news.xml"] + [f"/sitemaps/articles-{i}.xml" for i in range(1, chunks + 1)]
            return Response(200, xml, feeds.sitemap_index(ctx, children), last_modified=latest)
        if path == "/sitemaps/news.xml" and self.spec.sitemap_index:
            body = feeds.news_sitemap(ctx, feeds.news_stories(ctx, listing))
            return Response(200, xml, body, last_modified=latest)
        match = re.fullmatch(r"/sitemaps/articles-(\d+)\.xml", path)
        if match and self.spec.sitemap_index:
            chunk = int(match.group(1))
            start = (chunk - 1) * feeds.SITEMAP_CHUNK
            if chunk < 1 or start >= max(1, len(listing)):
                return None
            entries = feeds.sitemap_entries(ctx, listing, start, start + feeds.SITEMAP_CHUNK)
            if chunk == 1:  # the CMS lists everything under /story/, warts included
                entries += [
                    (ctx.url(w.path), STATIC_DATE.isoformat())
                    for w in self.spec.warts
                    if w.kind in ("oversized", "binary")
                ]
            return Response(200, xml, feeds.urlset(ctx, entries), last_modified=latest)
        return None

    # -- homepage and sections ------------------------------------------------------------
    def _listing_route(self, path: str, query: dict[str, list[str]]) -> tuple[str | None, int] | None:
        """(section or None for the homepage, page number) when ``path`` is a listing page."""
        qpage = int(query["page"][0]) if query.get("page", [""])[0].isdigit() else 1
        key = self.spec.key
        if key == "capital-examiner":
            if path == "/":
                return None, 1
            if m := re.fullmatch(r"/page/(\d+)/", path):
                return None, int(m.group(1))
            if m := re.fullmatch(r"/section/([a-z]+)/(?:page/(\d+)/)?", path):
                return m.group(1), int(m.group(2) or 1)
        elif key == "northern-ledger":
            if path == "/":
                return None, qpage
            if m := re.fullmatch(r"/news/([a-z]+)", path):
                return m.group(1), qpage
        else:
            if path in ("/", "/index.html"):
                return None, 1
            if m := re.fullmatch(r"/index-(\d+)\.html", path):
                return None, int(m.group(1))
            if m := re.fullmatch(r"/section/([a-z]+)(?:-(\d+))?\.html", path):
                return m.group(1), int(m.group(2) or 1)
        return None

    def listing_page(self, ctx: Ctx, section: str | None, page: int) -> tuple[list[Story], int] | None:
        if section is not None and section not in self.spec.sections:
            return None
        listing = self.catalog.listing(self.spec.key, ctx.edition, section)
        size = self.spec.home_page_size if section is None else self.spec.section_page_size
        pages = listing.pages(size)
        if page < 1 or page > pages:
            return None
        return listing.slice((page - 1) * size, page * size), pages

    def _listing(self, ctx: Ctx, path: str, query: dict[str, list[str]]) -> Response | None:
        route = self._listing_route(path, query)
        if route is None:
            return None
        section, page = route
        found = self.listing_page(ctx, section, page)
        if found is None:
            return None
        stories, pages = found
        title = self.spec.name if section is None else ("UK" if section == "uk" else section.title())
        html = self.template.listing(ctx, title, stories, page, pages, section)
        latest = max((s.last_modified(ctx.edition) for s in stories), default=STATIC_DATE)
        return Response(200, body=html.encode(), last_modified=latest)

    # -- warts ------------------------------------------------------------------------------
    def _wart(self, ctx: Ctx, path: str, query: dict[str, list[str]]) -> Response | None:
        if self.spec.key == "capital-examiner" and path == "/go/budget-vote":
            final = self.catalog.get("capital-examiner:council-budget")
            return Response(302, headers=[("Location", final.path)], body=b"")
        loop = next((w for w in self.spec.warts if w.kind == "redirect_loop"), None)
        if loop is not None and path == loop.target:
            return Response(302, headers=[("Location", ctx.url(loop.path))])
        wart = self._warts.get(path)
        if wart is None:
            return None
        return self._render_wart(ctx, wart)

    def _render_wart(self, ctx: Ctx, wart: Wart) -> Response:
        t = self.template
        if wart.kind == "redirect_chain":
            return Response(301, headers=[("Location", ctx.url("/go/budget-vote"))])
        if wart.kind == "redirect_loop":
            assert wart.target is not None
            return Response(302, headers=[("Location", wart.target)])
        if wart.kind == "blocked_redirect":
            assert wart.target is not None
            return Response(302, headers=[("Location", wart.target)])
        if wart.kind == "not_found":
            return self.not_found(ctx)
        if wart.kind == "unavailable":
            body = b"<html><body><h1>503 Service Unavailable</h1><p>Live blog temporarily unavailable.</p></body></html>"
            return Response(503, body=body, headers=[("Retry-After", "120")])
        if wart.kind == "binary":
            return Response(200, "application/pdf", _pdf(wart.title), last_modified=STATIC_DATE)
        if wart.kind == "oversized":
            return self._oversized(ctx, wart)
        if "video" in wart.path:
            html = t.page(ctx, wart.title, _video_body(wart), path=wart.path)
        elif "latest" in wart.path:
            html = t.page(ctx, wart.title, self._hub_body(ctx), path=wart.path)
        else:
            html = t.page(ctx, wart.title, wart_body(wart), path=wart.path)
        return Response(200, body=html.encode(), last_modified=STATIC_DATE)

    def _hub_body(self, ctx: Ctx) -> str:
        stories = [
            s for s in self.catalog.listing(self.spec.key, ctx.edition).hand if s.id.startswith("belgorod")
        ]
        when = max(s.published for s in stories)
        items = "".join(
            f'<div class="block"><time datetime="{s.published.isoformat()}">{s.published:%H.%M}</time>'
            f'<h2><a href="{ctx.story_url(s)}">{e(s.title)}</a></h2><p>{e(s.description)}</p></div>'
            for s in stories
        )
        return (
            f'<p class="live-updated">Updated <time datetime="{when.isoformat()}">{when:%d %B %Y}</time></p>'
            f'<div class="key-events"><h3>Key events</h3>{items}</div>'
        )

    def _oversized(self, ctx: Ctx, wart: Wart) -> Response:
        size = 3 * self.options.max_response_bytes
        head = self.template.page(ctx, wart.title, "<p>Transcript follows.</p>", path=wart.path).encode()
        head = head[: head.rfind(b"</body>")]
        line = b"<p>COUNCILLOR: I move that the minutes of the previous meeting be approved as read.</p>\n"

        def chunks() -> Iterator[bytes]:
            yield head
            remaining = size - len(head)
            block = line * (65536 // len(line))
            while remaining > 0:
                piece = block[:remaining]
                remaining -= len(piece)
                yield piece

        return Response(200, stream=chunks, length=size, last_modified=STATIC_DATE)

    # -- articles -------------------------------------------------------------------------
    def _story(self, ctx: Ctx, path: str, query: dict[str, list[str]]) -> Response | None:
        amp = False
        story = self.catalog.find(self.spec.key, path, ctx.edition)
        if story is None and path.endswith(".amp.html"):
            story = self.catalog.find(self.spec.key, path.removesuffix(".amp.html") + ".html", ctx.edition)
            if story is None or not story.amp or amp_path(story) != path:
                return None
            amp = True
        if story is None:
            return None
        delay = 0.0
        if story.fault == "flaky" and self._count(path) % 2 == 1:
            body = b"<html><body><h1>500 Internal Server Error</h1></body></html>"
            return Response(500, body=body)
        if story.fault == "slow":
            delay = self.options.slow_seconds
        html = self.template.article(ctx, story, amp=amp)
        content_type, body = HTML, html.encode()
        if story.charset == "windows-1251":
            content_type, body = "text/html", html.encode("cp1251", errors="xmlcharrefreplace")
        elif story.charset == "wrong-header":
            content_type = "text/html; charset=iso-8859-1"
        return Response(200, content_type, body, last_modified=story.last_modified(ctx.edition), delay=delay)

    def _count(self, path: str) -> int:
        with self._lock:
            self._hits[path] = self._hits.get(path, 0) + 1
            return self._hits[path]

    def _asset(self, ctx: Ctx, path: str, query: dict[str, list[str]]) -> Response | None:
        if path.startswith("/images/") and path.endswith(".jpg"):
            return Response(200, "image/gif", GIF, last_modified=STATIC_DATE)
        if path == "/static/site.css":
            return Response(200, "text/css", b"body{font-family:serif}\n", last_modified=STATIC_DATE)
        if path == "/static/ads.js":
            return Response(200, "application/javascript", b"/* ads */\n", last_modified=STATIC_DATE)
        return None

    def _client_side(self, ctx: Ctx, path: str, query: dict[str, list[str]]) -> Response | None:
        """The JavaScript-only story (:mod:`pipeline.demo_site.clientside`), linked from nowhere."""
        if path == clientside.SHELL_PATH:
            return Response(200, body=clientside.shell_html(self.spec).encode(), last_modified=STATIC_DATE)
        if path == clientside.DATA_PATH:
            return Response(200, "application/json", clientside.story_json(), last_modified=STATIC_DATE)
        return None


def _video_body(wart: Wart) -> str:
    return (
        '<div class="video-player" data-video-id="vx-88121"><video controls poster="/images/video.jpg">'
        '<source src="/media/vx-88121.mp4" type="video/mp4"></video></div>'
        f'<p class="video-caption">{e(wart.title)} (2:14)</p>'
    )


def _pdf(title: str) -> bytes:
    """A small but valid one-page PDF."""
    text = title.replace("(", "").replace(")", "")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        None,
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    stream = f"BT /F1 24 Tf 72 700 Td ({text}) Tj ET".encode()
    objects[3] = b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream"
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + (obj or b"") + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{o:010d} 00000 n \n".encode() for o in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)
