"""Discovery surfaces of the living network at an instant: RSS, Atom, sitemaps (one gzipped).

Feeds and sitemaps list only what is live at the simulated time, newest first, and show an
entry's updated date/lastmod only for *announced* edits (an unannounced correction keeps
the old date, as real CMSs often do). The Atom feed, the plain urlset and the Google News
sitemap reuse the static demo's writers (``feeds.py``); RSS here carries ``atom:updated``
per item, and the sitemap index gives each child its own lastmod, because a crawler may skip
a child sitemap whose lastmod did not move.
"""

from __future__ import annotations

import gzip
import xml.etree.ElementTree as ET
from datetime import datetime
from email.utils import format_datetime

from pipeline.demo_site import feeds
from pipeline.demo_site.model import Story
from pipeline.demo_site.templates.common import Ctx, person_authors

FEED_SIZE = 40
NEWS_SITEMAP_PATH = "/sitemaps/news.xml"
GZIP_SITEMAP_PATH = "/sitemaps/articles.xml.gz"
SITEMAP_DAYS = 30


def _xml(root: ET.Element) -> bytes:
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


def _text(parent: ET.Element, tag: str, text: str, **attrib: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrib)
    el.text = text
    return el


def rss(ctx: Ctx, stories: list[Story], built: datetime) -> bytes:
    """RSS 2.0; each item's ``atom:updated`` is its last announced modification."""
    atom = feeds.NS["atom"]
    root = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(root, "channel")
    _text(channel, "title", ctx.spec.name)
    _text(channel, "link", ctx.base + "/")
    _text(channel, "description", f"Latest news from {ctx.spec.name}")
    _text(channel, "language", "en-us")
    _text(channel, "lastBuildDate", format_datetime(built.astimezone(ctx.spec.tz)))
    ET.SubElement(channel, f"{{{atom}}}link", {"href": ctx.url(ctx.spec.feed_path or "/"), "rel": "self"})
    for story in stories:
        item = ET.SubElement(channel, "item")
        _text(item, "title", story.title)
        _text(item, "link", ctx.story_url(story))
        _text(item, "guid", ctx.story_url(story), isPermaLink="true")
        _text(item, "pubDate", format_datetime(story.published.astimezone(ctx.spec.tz)))
        _text(item, f"{{{atom}}}updated", story.last_modified(1).astimezone(ctx.spec.tz).isoformat())
        for author in person_authors(story):
            _text(item, f"{{{feeds.NS['dc']}}}creator", author)
        _text(item, "category", story.section.title())
        _text(item, "description", story.description)
    return _xml(root)


def atom(ctx: Ctx, stories: list[Story]) -> bytes:
    """Atom with per-entry ``<updated>`` (the static demo's writer)."""
    return feeds.atom(ctx, stories)


def sitemap_index(ctx: Ctx, children: list[tuple[str, datetime]]) -> bytes:
    root = ET.Element("sitemapindex", {"xmlns": feeds.NS["sm"]})
    for path, lastmod in children:
        sitemap = ET.SubElement(root, "sitemap")
        _text(sitemap, "loc", ctx.url(path))
        _text(sitemap, "lastmod", lastmod.astimezone(ctx.spec.tz).isoformat())
    return _xml(root)


def news_sitemap(ctx: Ctx, stories: list[Story]) -> bytes:
    return feeds.news_sitemap(ctx, stories)


def gzipped_urlset(ctx: Ctx, stories: list[Story]) -> bytes:
    """A gzip file (not Content-Encoding) of a urlset with lastmod; ``mtime=0`` keeps bytes stable."""
    entries = [(ctx.story_url(s), s.last_modified(1).astimezone(ctx.spec.tz).isoformat()) for s in stories]
    return gzip.compress(feeds.urlset(ctx, entries), compresslevel=6, mtime=0)


def robots(ctx: Ctx, sitemaps: list[str]) -> bytes:
    return feeds.robots(ctx.spec, ctx.base, sitemaps)
