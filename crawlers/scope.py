"""Which URLs belong to the source, which look like articles, and which may be followed.

URL patterns from ``sources.yaml`` (``article_urls.allow/deny``) decide first; a URL of a
site without patterns is judged by its shape (a slug or a long numeric id in the path).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from urllib.parse import urlsplit

from crawlers.fence import Fence
from pipeline.config import Source
from pipeline.urls import SiteIndex, canonicalize, same_site

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+){2,}", re.IGNORECASE)
LONG_ID = re.compile(r"\d{5,}")
NON_ARTICLE_PATH = re.compile(
    r"/(tag|tags|topic|topics|author|authors|category|categories|section|search|login|subscribe|"
    r"newsletter|about|contact|privacy|terms|cookies?|feed|rss|amp)(/|$)",
    re.IGNORECASE,
)
NON_HTML_EXT = re.compile(
    r"\.(jpe?g|png|gif|webp|svg|ico|css|js|json|xml|rss|pdf|zip|gz|mp3|mp4|m4a|mov|avi|woff2?|ttf)$",
    re.IGNORECASE,
)


@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _matches(patterns: Sequence[str], url: str) -> bool:
    return any(_compiled(p).search(url) for p in patterns)


def shape_is_article(url: str) -> bool:
    """Heuristic for sites without URL patterns: a slug or long id, not a utility path."""
    parts = urlsplit(url)
    path = parts.path
    if path in {"", "/"} or NON_ARTICLE_PATH.search(path) or NON_HTML_EXT.search(path):
        return False
    last = path.rstrip("/").rsplit("/", 1)[-1]
    return bool(SLUG.search(last) or LONG_ID.search(path) or last.endswith((".html", ".htm")))


class Scope:
    """The source being crawled plus the other configured sources (for cross-outlet links)."""

    def __init__(self, source: Source, others: Sequence[Source] = ()) -> None:
        self.source = source
        self.others = [o for o in others if o.key != source.key]
        self.fence = Fence(source, self.others)
        # One dict lookup per link instead of one same_site per configured source.
        self.others_index: SiteIndex[Source] = SiteIndex()
        for other in self.others:
            self.others_index.add(other.allowed_domains, other)
        # Listings and related blocks repeat the same links page after page; a bounded cache
        # keeps canonicalisation off the per-page profile without growing with the site.
        self.canonical = lru_cache(maxsize=16384)(self._canonical)  # type: ignore[method-assign]
        # The same for the site a URL belongs to (URL patterns, the article verdict, is_own
        # and the trailing-slash rule all ask it, several times per link).
        self.owner = lru_cache(maxsize=16384)(self._owner)  # type: ignore[method-assign]
        # And the article verdict: listings ask it of every link (the shape test splits the
        # URL and runs three patterns), page after page for the same links.
        self.article_like = lru_cache(maxsize=16384)(self._article_like)  # type: ignore[method-assign]

    def owner(self, url: str) -> Source | None:
        """The configured source whose domains hold ``url`` (this one first), or ``None``."""
        return self._owner(url)

    def _owner(self, url: str) -> Source | None:
        if same_site(url, self.source.allowed_domains):
            return self.source
        return self.others_index.first(url)

    def is_own(self, url: str) -> bool:
        return self.owner(url) is self.source

    def canonical(self, url: str) -> str:
        """The canonical form, with the trailing-slash rule of the site the URL belongs to."""
        return self._canonical(url)

    def _canonical(self, url: str) -> str:
        owner = self.owner(url)
        return canonicalize(url, owner.trailing_slash if owner else "keep")

    def usable(self, url: str) -> str | None:
        """The canonical form, or ``None`` for a URL that cannot be parsed (skip that link only)."""
        try:
            return self.canonical(url)
        except ValueError:
            return None

    def denied(self, url: str) -> bool:
        owner = self.owner(url)
        return bool(owner and _matches(owner.article_urls.deny, url))

    def url_verdict(self, url: str) -> bool | None:
        """True/False when the URL patterns decide; ``None`` when only page signals can."""
        owner = self.owner(url)
        if owner is not None:
            if _matches(owner.article_urls.deny, url):
                return False
            if owner.article_urls.allow:
                return _matches(owner.article_urls.allow, url)
        return None

    def article_like(self, url: str) -> bool:
        """Whether ``url`` looks like an article: its source's URL patterns, else its shape."""
        return self._article_like(url)

    def _article_like(self, url: str) -> bool:
        verdict = self.url_verdict(url)
        if verdict is not None:
            return verdict
        return shape_is_article(url)

    def may_follow_related(self, url: str) -> bool:
        scope = self.source.related.scope
        if scope == "any":
            return True
        if scope == "configured_sources":
            return self.owner(url) is not None
        return self.is_own(url)
