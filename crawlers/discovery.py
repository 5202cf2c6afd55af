"""Discovery surfaces: RSS/Atom feeds and XML sitemaps, parsed into URLs plus hints.

Pure functions over bytes so they are testable without a crawl. XML is parsed with lxml in
recover mode with entity resolution and network access off (feeds are untrusted input).
Hints (title, guid, dates) travel with the URL into ``fetches.hints`` and drive recrawl
decisions (a newer ``lastmod``/``updated`` than the last fetch means "changed").
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin

import lxml.etree
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots

from crawlers.dates import iso, parse_date


@dataclass(frozen=True)
class Entry:
    """One URL found on a discovery surface, with what the surface said about it."""

    url: str
    published: datetime | None = None
    updated: datetime | None = None
    hints: dict[str, Any] = field(default_factory=dict)

    def newest(self) -> datetime | None:
        dates = [d for d in (self.published, self.updated) if d is not None]
        return max(dates) if dates else None

    def hint_dict(self) -> dict[str, Any]:
        out = dict(self.hints)
        if self.published:
            out["published"] = iso(self.published)
        if self.updated:
            out["updated"] = iso(self.updated)
        return out


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower() if "}" in tag else tag.split(":")[-1].lower()


def _parser() -> lxml.etree.XMLParser:
    return lxml.etree.XMLParser(
        recover=True, resolve_entities=False, no_network=True, remove_comments=True, huge_tree=False
    )


def _text(elem: Any) -> str:
    return "".join(elem.itertext()).strip() if elem is not None else ""


def looks_like_feed(body: bytes) -> bool:
    head = body[:2048].lstrip().lower()
    return b"<rss" in head or b"<feed" in head or b"<rdf:rdf" in head


def looks_like_sitemap(body: bytes) -> bool:
    head = body[:2048].lstrip().lower()
    return b"<urlset" in head or b"<sitemapindex" in head


def parse_feed(body: bytes, base_url: str) -> list[Entry]:
    """Items of an RSS 2.0 / RSS 1.0 / Atom feed: link, guid, title, published/updated."""
    try:
        root = lxml.etree.fromstring(body, _parser())
    except lxml.etree.XMLSyntaxError:
        return []
    if root is None:
        return []
    entries: list[Entry] = []
    for item in root.iter():
        name = _local(item.tag)
        if name not in {"item", "entry"}:
            continue
        children: dict[str, list[Any]] = {}
        for child in item:
            children.setdefault(_local(child.tag), []).append(child)
        link = ""
        for el in children.get("link", []):
            href = el.get("href")
            rel = (el.get("rel") or "alternate").lower()
            if href and rel == "alternate":
                link = href.strip()
                break
            if not href and _text(el):
                link = _text(el)
                break
        guid_el = (children.get("guid") or children.get("id") or [None])[0]
        guid = _text(guid_el)
        permalink = guid_el is not None and (guid_el.get("isPermaLink") or "true").lower() == "true"
        if not link and permalink and guid.startswith("http"):
            link = guid
        if not link:
            continue
        published = None
        for key in ("pubdate", "published", "issued", "date", "created"):
            if children.get(key):
                published = parse_date(_text(children[key][0]))
                if published:
                    break
        updated = parse_date(_text(children["updated"][0])) if children.get("updated") else None
        if updated is None and children.get("modified"):
            updated = parse_date(_text(children["modified"][0]))
        hints: dict[str, Any] = {}
        title = _text((children.get("title") or [None])[0])
        if title:
            hints["title"] = title[:500]
        if guid:
            hints["guid"] = guid[:500]
        entries.append(Entry(urljoin(base_url, link), published, updated, hints))
    return entries


@dataclass(frozen=True)
class SitemapPage:
    """A parsed sitemap: ``index`` lists sub-sitemaps, ``urlset`` lists pages."""

    kind: str  # "index" | "urlset"
    entries: list[Entry]


class _NewsSitemap(Sitemap):
    """Scrapy's streaming sitemap reader, keeping the Google News fields of each ``<url>``.

    Scrapy's reader keeps only the direct children's text (``<news:news>`` would be an empty
    string), so the nested ``publication_date`` and ``title`` are read before it clears the
    element.
    """

    def _process_sitemap_element(self, elem: Any) -> dict[str, Any] | None:
        news: dict[str, str] = {}
        for child in elem.iter():
            name = _local(child.tag)
            if name in {"publication_date", "title"} and name not in news:
                news[name] = _text(child)
        found: dict[str, Any] | None = super()._process_sitemap_element(elem)
        if found is not None and news:
            found["news"] = news
        return found


def parse_sitemap(body: bytes, base_url: str) -> SitemapPage:
    """A sitemap index or urlset, incl. Google News (``news:publication_date``, ``news:title``).

    Scrapy's :class:`~scrapy.utils.sitemap.Sitemap` streams it (``iterparse``, elements cleared
    as it goes, entities and network off), so a 50,000-URL sitemap does not sit in memory.
    """
    try:
        sitemap = _NewsSitemap(body)
        kind = "index" if sitemap.type == "sitemapindex" else "urlset"
        entries: list[Entry] = []
        for found in sitemap:
            loc = found.get("loc") or ""
            if not loc:
                continue
            news = found.get("news") or {}
            hints: dict[str, Any] = {}
            if news.get("title"):
                hints["title"] = news["title"][:500]
            if "publication_date" in news:
                hints["news"] = True
            published = parse_date(news.get("publication_date") or "")
            entries.append(
                Entry(urljoin(base_url, loc), published, parse_date(found.get("lastmod") or ""), hints)
            )
    except (lxml.etree.XMLSyntaxError, StopIteration):
        return SitemapPage("urlset", [])
    return SitemapPage(kind, entries)


def robots_sitemaps(robots_body: bytes, base_url: str = "") -> Iterator[str]:
    """The ``Sitemap:`` lines of a robots.txt (Scrapy's reader), absolute against ``base_url``."""
    return iter(sitemap_urls_from_robots(robots_body, base_url=base_url))
