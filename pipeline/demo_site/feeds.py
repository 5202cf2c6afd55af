"""Machine-readable discovery surfaces: RSS 2.0, Atom, sitemaps, Google News sitemap, robots.txt.

Built with ``xml.etree`` so they are well-formed by construction; dates carry the outlet's own
time zone (RFC 822 in RSS, RFC 3339 in Atom and sitemaps).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import timedelta
from email.utils import format_datetime

from pipeline.demo_site.catalog import Listing
from pipeline.demo_site.model import EDITION_TIMES, Story
from pipeline.demo_site.outlets import OutletSpec
from pipeline.demo_site.templates.common import Ctx, person_authors

FEED_SIZE = 50
SITEMAP_CHUNK = 1000
NEWS_WINDOW = timedelta(days=2)  # Google News sitemaps list only the last two days

NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "dc": "http://purl.org/dc/elements/1.1/",
    "sm": "http://www.sitemaps.org/schemas/sitemap/0.9",
    "news": "http://www.google.com/schemas/sitemap-news/0.9",
}
for _prefix, _uri in NS.items():
    if _prefix != "sm":
        ET.register_namespace(_prefix, _uri)


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def _text(parent: ET.Element, tag: str, text: str, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrib)
    el.text = text
    return el


def rss(ctx: Ctx, stories: list[Story], stale: list[tuple[str, str]]) -> bytes:
    """RSS 2.0; ``stale`` adds (path, title) items for pages that no longer exist (a 404)."""
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    _text(channel, "title", ctx.spec.name)
    _text(channel, "link", ctx.base + "/")
    _text(channel, "description", f"Latest news from {ctx.spec.name}")
    _text(channel, "language", "en-us")
    edition_time = EDITION_TIMES[ctx.edition].astimezone(ctx.spec.tz)
    _text(channel, "lastBuildDate", format_datetime(edition_time))
    ET.SubElement(channel, f"{{{NS['atom']}}}link", {"href": ctx.url("/feed.rss"), "rel": "self"})
    for story in stories:
        item = ET.SubElement(channel, "item")
        _text(item, "title", story.title)
        _text(item, "link", ctx.story_url(story))
        _text(item, "guid", ctx.story_url(story), isPermaLink="true")
        _text(item, "pubDate", format_datetime(story.published.astimezone(ctx.spec.tz)))
        for author in person_authors(story):
            _text(item, f"{{{NS['dc']}}}creator", author)
        _text(item, "category", story.section.title())
        _text(item, "description", story.description)
    for path, title in stale:
        item = ET.SubElement(channel, "item")
        _text(item, "title", title)
        _text(item, "link", ctx.url(path))
        _text(item, "guid", ctx.url(path), isPermaLink="true")
        _text(item, "pubDate", format_datetime(EDITION_TIMES[1].astimezone(ctx.spec.tz) - timedelta(days=13)))
    return _xml(root)


def atom(ctx: Ctx, stories: list[Story]) -> bytes:
    a = NS["atom"]
    root = ET.Element(f"{{{a}}}feed", {"xml:lang": "en-GB"})
    _text(root, f"{{{a}}}title", ctx.spec.name)
    _text(root, f"{{{a}}}id", ctx.base + "/")
    ET.SubElement(root, f"{{{a}}}link", {"rel": "self", "href": ctx.url("/atom.xml")})
    ET.SubElement(root, f"{{{a}}}link", {"rel": "alternate", "href": ctx.base + "/"})
    updated = max((s.last_modified(ctx.edition) for s in stories), default=EDITION_TIMES[ctx.edition])
    _text(root, f"{{{a}}}updated", updated.isoformat())
    for story in stories:
        entry = ET.SubElement(root, f"{{{a}}}entry")
        _text(entry, f"{{{a}}}title", story.title)
        ET.SubElement(entry, f"{{{a}}}link", {"rel": "alternate", "href": ctx.story_url(story)})
        _text(entry, f"{{{a}}}id", ctx.story_url(story))
        _text(entry, f"{{{a}}}published", story.published.astimezone(ctx.spec.tz).isoformat())
        _text(entry, f"{{{a}}}updated", story.last_modified(ctx.edition).astimezone(ctx.spec.tz).isoformat())
        for name in story.authors:
            author = ET.SubElement(entry, f"{{{a}}}author")
            _text(author, f"{{{a}}}name", name)
        ET.SubElement(entry, f"{{{a}}}category", {"term": story.section})
        _text(entry, f"{{{a}}}summary", story.description)
    return _xml(root)


def urlset(ctx: Ctx, entries: list[tuple[str, str]]) -> bytes:
    """A plain sitemap of (absolute URL, lastmod) pairs."""
    root = ET.Element("urlset", {"xmlns": NS["sm"]})
    for loc, lastmod in entries:
        url = ET.SubElement(root, "url")
        _text(url, "loc", loc)
        _text(url, "lastmod", lastmod)
    return _xml(root)


def sitemap_entries(ctx: Ctx, listing: Listing, start: int, stop: int) -> list[tuple[str, str]]:
    return [
        (ctx.url(path), modified.astimezone(ctx.spec.tz).isoformat())
        for path, modified in listing.stamps(start, stop, ctx.edition)
    ]


def sitemap_index(ctx: Ctx, children: list[str]) -> bytes:
    root = ET.Element("sitemapindex", {"xmlns": NS["sm"]})
    lastmod = EDITION_TIMES[ctx.edition].astimezone(ctx.spec.tz).isoformat()
    for path in children:
        sm = ET.SubElement(root, "sitemap")
        _text(sm, "loc", ctx.url(path))
        _text(sm, "lastmod", lastmod)
    return _xml(root)


def news_stories(ctx: Ctx, listing: Listing) -> list[Story]:
    """Stories of the last two days before the edition (hand-written ones only: they are newest)."""
    cutoff = EDITION_TIMES[ctx.edition] - NEWS_WINDOW
    return [s for s in listing.hand if s.published >= cutoff]


def news_sitemap(ctx: Ctx, stories: list[Story]) -> bytes:
    n = NS["news"]
    root = ET.Element("urlset", {"xmlns": NS["sm"]})
    for story in stories:
        url = ET.SubElement(root, "url")
        _text(url, "loc", ctx.story_url(story))
        news = ET.SubElement(url, f"{{{n}}}news")
        pub = ET.SubElement(news, f"{{{n}}}publication")
        _text(pub, f"{{{n}}}name", ctx.spec.name)
        _text(pub, f"{{{n}}}language", story.language)
        _text(news, f"{{{n}}}publication_date", story.published.astimezone(ctx.spec.tz).isoformat())
        _text(news, f"{{{n}}}title", story.title)
    return _xml(root)


def robots(spec: OutletSpec, base: str, sitemaps: list[str]) -> bytes:
    lines = ["# robots.txt for " + spec.name, "User-agent: *"]
    lines += [f"Disallow: {prefix}" for prefix in spec.disallow]
    lines += ["Allow: /", "", "User-agent: BadBot", "Disallow: /", ""]
    lines += [f"Sitemap: {base}{path}" for path in sitemaps]
    return ("\n".join(lines) + "\n").encode()
