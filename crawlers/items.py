"""The items the spider hands to the recording pipeline: one per fetch outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scrapy.http import Headers

from pipeline.rawstore import WarcRef

ROBOTS_OUTCOME = "robots_txt"  # an archived robots.txt fetch: not a page, not counted as one


def http_header(headers: Any, name: str) -> str | None:
    """One Scrapy header's (first) value as text; ``None`` when absent."""
    value = headers.get(name)
    if value is None:
        return None
    return value.decode("latin-1") if isinstance(value, bytes) else str(value)


def http_headers(headers: Any) -> list[tuple[str, str]]:
    """Scrapy headers (bytes, multi-valued) as ``(name, value)`` text pairs, as archived."""
    out: list[tuple[str, str]] = []
    # Scrapy's Headers store each value list under its normalised name already; its
    # ``items()`` looks every name up again (``getlist``), twice the cost for the same pairs.
    pairs = dict.items(headers) if isinstance(headers, Headers) else headers.items()
    for key, values in pairs:
        name = key.decode("latin-1") if isinstance(key, bytes) else str(key)
        for value in values:
            out.append((name, value.decode("latin-1") if isinstance(value, bytes) else str(value)))
    return out


def archived_headers(
    headers: list[tuple[str, str]], body_length: int, *, decoded: bool = True
) -> list[tuple[str, str]]:
    """Response headers as archived: the framing headers must match the body as stored.

    The body is stored de-chunked, and decompressed unless ``decoded`` is false (a redirect
    hop is archived before Scrapy decompresses it, so it keeps its ``Content-Encoding``).
    """
    drop = {"transfer-encoding", "content-length"} | ({"content-encoding"} if decoded else set())
    kept = [(k, v) for k, v in headers if k.lower() not in drop]
    kept.append(("Content-Length", str(body_length)))
    return kept


@dataclass(slots=True)
class Edge:
    """A link from an article (canonical URL) to a related URL (canonical), with its kind."""

    from_url: str
    to_url: str
    kind: str


@dataclass(slots=True)
class FetchItem:
    """Everything recorded about one request: the ``fetches`` row plus the exchange to archive.

    ``body`` is ``None`` for failures without a response (timeouts, refusals); then no WARC
    record is written and the row carries the error category and message instead.
    """

    url: str
    canonical_url: str
    discovery: str
    referrer: str | None
    depth: int
    fetched_at: datetime
    outcome: str  # fetched | not_modified | error | skipped | robots_txt
    final_url: str | None = None
    status: int | None = None
    reason: str = ""
    method: str = "GET"
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | None = None
    duration_ms: int | None = None
    is_article_candidate: bool = False
    hints: dict[str, Any] = field(default_factory=dict)
    error_category: str | None = None
    error_message: str | None = None
    edges: list[Edge] = field(default_factory=list)
    is_surface: bool = False  # a configured start URL (feed, sitemap, listing, seed)
    refers_to: WarcRef | None = None  # a 304: the earlier capture, when the spider read it already
