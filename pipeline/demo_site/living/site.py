"""One living outlet as a pure function of (request path, simulated time) -> response.

No sockets and no wall clock here: :meth:`LivingSite.handle` looks the story up by path (a
dict), finds its state at ``now`` from the timeline (bisects), and renders only that page, so
a request costs the same on day 1 and day 30. The same (path, time) always gives the same
bytes, which is what makes ETags and 304s exact.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from itertools import islice

from pipeline.demo_site.catalog import Catalog
from pipeline.demo_site.living import pages, surfaces
from pipeline.demo_site.living.timeline import LiveStory, Timeline
from pipeline.demo_site.model import Story
from pipeline.demo_site.outlets import OutletSpec
from pipeline.demo_site.site import GIF, Response
from pipeline.demo_site.templates.common import Ctx, wart_body

HOME_SIZE = 30
SECTION_SIZE = 20
NEWS_WINDOW = timedelta(days=2)
XML = "application/xml; charset=utf-8"


@dataclass(frozen=True)
class Served:
    """A response, and the story when it is an article page rendered by a broken CMS."""

    response: Response
    broken_article: LiveStory | None = None


class LivingSite:
    """Routes one outlet of the living network; the outlet's warts are not part of it."""

    def __init__(self, spec: OutletSpec, timeline: Timeline, base_urls: dict[str, str], catalog: Catalog):
        self.spec = replace(spec, warts=())  # listings must not link the static demo's oddities
        # The about/contact pages every page's chrome links to (a 404 there would be noise).
        self._static_pages = {
            w.path: w for w in spec.warts if w.kind == "page" and ("about" in w.path or "contact" in w.path)
        }
        self.timeline = timeline
        self.base_urls = base_urls
        self.catalog = catalog
        self.static_date = timeline.start - timedelta(days=7)

    @property
    def key(self) -> str:
        return self.spec.key

    def ctx(self) -> Ctx:
        return Ctx(self.spec, self.base_urls, self.catalog, 1)

    def look(self, now: datetime) -> pages.Look:
        return pages.Look(
            redesigned=self.timeline.active(self.key, "redesign", now),
            broken=self.timeline.broken_at(self.key, now),
        )

    def sitemap_paths(self) -> list[str]:
        return ["/sitemap.xml"] if self.spec.sitemap_index else []

    # -- entry point ------------------------------------------------------------------------
    def handle(self, path: str, now: datetime) -> Served:
        ctx, look = self.ctx(), self.look(now)
        response = self._machine(ctx, path, now) or self._listing(ctx, look, path, now)
        if response is not None:
            return Served(response)
        story = self.timeline.story_by_path(self.key, path)
        if story is not None and story.published <= now:
            return self._story(ctx, look, story, now)
        response = self._asset(path) or self._static_page(ctx, look, path, now)
        if response is not None:
            return Served(response)
        return Served(Response(404, body=pages.not_found(ctx, look).encode()))

    # -- robots, feeds, sitemaps -------------------------------------------------------------
    def _machine(self, ctx: Ctx, path: str, now: datetime) -> Response | None:
        changed = self.timeline.last_change(self.key, now)
        if path == "/robots.txt":
            body = surfaces.robots(ctx, self.sitemap_paths())
            return Response(200, "text/plain; charset=utf-8", body, last_modified=self.static_date)
        if path == self.spec.feed_path:
            if self.timeline.active(self.key, "feed_outage", now):
                body = b"<html><body><h1>503 Service Unavailable</h1><p>Feed temporarily unavailable.</p></body></html>"
                return Response(503, body=body, headers=[("Retry-After", "3600")])
            entries = self.feed_entries(now, surfaces.FEED_SIZE)
            if self.spec.feed == "rss":
                return Response(
                    200,
                    "application/rss+xml; charset=utf-8",
                    surfaces.rss(ctx, entries, changed),
                    last_modified=changed,
                )
            return Response(
                200, "application/atom+xml; charset=utf-8", surfaces.atom(ctx, entries), last_modified=changed
            )
        if not self.spec.sitemap_index:
            return None
        if path == "/sitemap.xml":
            children = [(surfaces.NEWS_SITEMAP_PATH, changed), (surfaces.GZIP_SITEMAP_PATH, changed)]
            return Response(200, XML, surfaces.sitemap_index(ctx, children), last_modified=changed)
        if path == surfaces.NEWS_SITEMAP_PATH:
            recent = [s for s in self.feed_entries(now, None, since=now - NEWS_WINDOW)]
            return Response(200, XML, surfaces.news_sitemap(ctx, recent), last_modified=changed)
        if path == surfaces.GZIP_SITEMAP_PATH:
            entries = self.feed_entries(now, None, since=now - timedelta(days=surfaces.SITEMAP_DAYS))
            body = surfaces.gzipped_urlset(ctx, entries)
            return Response(200, "application/x-gzip", body, last_modified=changed)
        return None

    def feed_entries(self, now: datetime, limit: int | None, since: datetime | None = None) -> list[Story]:
        """Live stories at ``now``, newest first, as feeds show them (announced dates only)."""
        out: list[Story] = []
        for story in islice(self.timeline.newest_live(self.key, now), limit):
            if since is not None and story.published < since:
                break
            out.append(pages.as_feed_entry(story, story.latest_version(now), story.announced_at(now)))
        return out

    # -- homepage and section fronts ------------------------------------------------------------
    def _listing_section(self, path: str) -> str | None:
        """An empty string for the homepage, the section of a section front, else None."""
        if path == "/" or (self.key == "harbour-times" and path == "/index.html"):
            return ""
        return next((s for s in self.spec.sections if path == self.spec.section_path(s)), None)

    def _listing(self, ctx: Ctx, look: pages.Look, path: str, now: datetime) -> Response | None:
        found = self._listing_section(path)
        if found is None:
            return None
        section = found or None
        size = HOME_SIZE if section is None else SECTION_SIZE
        stories = [
            pages.as_model(s, s.latest_version(now))
            for s in islice(self.timeline.newest_live(self.key, now, section), size)
        ]
        title = self.spec.name if section is None else ("UK" if section == "uk" else section.title())
        html = pages.listing(ctx, look, title, stories, section)
        return Response(200, body=html.encode(), last_modified=self.timeline.last_change(self.key, now))

    # -- articles ------------------------------------------------------------------------------
    def _story(self, ctx: Ctx, look: pages.Look, story: LiveStory, now: datetime) -> Served:
        template_changed = self.timeline.template_changed_at(self.key, now)
        removal = story.removed_at(now)
        if removal is not None:
            if removal.kind == "410":
                return Served(Response(410, body=pages.gone(ctx, look, story.path).encode()))
            if removal.kind == "404":
                return Served(Response(404, body=pages.not_found(ctx, look).encode()))
            if removal.kind == "redirect":
                target = ctx.url(self.spec.section_path(story.section))
                return Served(Response(301, headers=[("Location", target)]))
            changed = max(removal.at, template_changed or removal.at)
            html = pages.removal_notice(ctx, look, story)
            return Served(Response(200, body=html.encode(), last_modified=changed))
        version = story.latest_version(now)
        changed = max(version.modified, template_changed or version.modified)
        html = pages.article(ctx, story, version, look)
        response = Response(200, body=html.encode(), last_modified=changed)
        return Served(response, story if look.broken else None)

    def _static_page(self, ctx: Ctx, look: pages.Look, path: str, now: datetime) -> Response | None:
        wart = self._static_pages.get(path)
        if wart is None:
            return None
        html = pages.simple_page(ctx, look, wart.title, wart_body(wart), path)
        changed = max(self.static_date, self.timeline.template_changed_at(self.key, now) or self.static_date)
        return Response(200, body=html.encode(), last_modified=changed)

    def _asset(self, path: str) -> Response | None:
        if path.startswith("/images/") and path.endswith(".jpg"):
            return Response(200, "image/gif", GIF, last_modified=self.static_date)
        if path == "/static/site.css":
            return Response(200, "text/css", b"body{font-family:serif}\n", last_modified=self.static_date)
        if path == "/static/ads.js" or path.startswith("/_next/static/"):
            return Response(200, "application/javascript", b"/* app */\n", last_modified=self.static_date)
        return None
