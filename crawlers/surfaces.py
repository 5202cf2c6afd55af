"""Reading discovery surfaces beyond the XML: gzipped sitemaps and what vanished since last time.

Pure functions over bytes and entries, so they are testable without a crawl.

*Gzip*: sitemaps are often served as ``.xml.gz`` files (``application/gzip``, no
``Content-Encoding``), which Scrapy hands over compressed. They are gunzipped here (Scrapy's
``gunzip``) with the source's ``max_response_bytes`` as the ceiling of the *decompressed* size, since a few KB of
gzip can expand to gigabytes (a "zip bomb").

*Vanished entries*: a retraction often shows first as a story silently dropped from the
feed. Comparing the previous capture of a surface with the current one finds entries that
left while an older entry is still listed (so they did not just fall off the end).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from scrapy.utils.gz import gunzip as scrapy_gunzip

from crawlers.discovery import Entry

GZIP_MAGIC = b"\x1f\x8b"
GZIP_TYPES = ("application/gzip", "application/x-gzip", "application/x-gunzip", "application/gzipped")


class TooLarge(ValueError):
    """The decompressed body would exceed the limit."""


def is_gzip(url: str, content_type: str | None, body: bytes) -> bool:
    """A gzip file: its magic number, or a gzip name/type on a body that is not already XML.

    A ``.xml.gz`` served with ``Content-Encoding: gzip`` arrives decompressed (Scrapy
    undoes the encoding), so the name alone does not decide.
    """
    if body.startswith(GZIP_MAGIC):
        return True
    ctype = (content_type or "").lower()
    claims = any(t in ctype for t in GZIP_TYPES) or url.lower().split("?")[0].endswith(".gz")
    return claims and not body.lstrip().startswith(b"<")


def gunzip(body: bytes, limit: int) -> bytes:
    """The decompressed bytes of a gzip file (Scrapy's :func:`~scrapy.utils.gz.gunzip`).

    :class:`TooLarge` past ``limit``: Scrapy decompresses in chunks and stops at the ceiling,
    so memory stays bounded whatever the compression ratio. A truncated file gives what could
    be read.
    """
    try:
        return scrapy_gunzip(body, max_size=limit)
    except ValueError as exc:  # scrapy.utils._compression._DecompressionMaxSizeExceeded
        raise TooLarge(f"gzip expands beyond max_response_bytes ({limit} bytes)") from exc


def vanished(
    previous: Sequence[Entry], current: Sequence[Entry], canonical: Callable[[str], str] = lambda u: u
) -> list[Entry]:
    """Entries of ``previous`` that ``current`` no longer lists while it lists an older one.

    "Older" is by date when both entries carry one, else by position in the previous
    capture (surfaces list newest first). An empty current capture proves nothing (an
    outage or a broken feed is not a mass retraction), so it yields nothing.
    """
    listed = {canonical(e.url) for e in current}
    if not listed:
        return []
    current_dates = [d for d in (e.newest() for e in current) if d is not None]
    out: list[Entry] = []
    seen: set[str] = set()
    for index, entry in enumerate(previous):
        url = canonical(entry.url)
        if url in listed or url in seen:
            continue
        seen.add(url)
        date = entry.newest()
        older_listed = date is not None and any(d < date for d in current_dates)
        if not older_listed:
            older_listed = any(canonical(p.url) in listed for p in previous[index + 1 :])
        if older_listed:
            out.append(entry)
    return out
