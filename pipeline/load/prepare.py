"""A validated record becomes an article row: canonical URL, key hash, content hash, fingerprint."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from pipeline.load import neardup
from pipeline.load.validate import Rejected, parse_record, usable_url, validate
from pipeline.records import ExtractedArticle
from pipeline.urls import canonicalize, url_hash
from pipeline.wordcount import count_words


@dataclass(frozen=True)
class StagedRow:
    """One ``extracted_records`` row joined with its fetch, as the load reads it."""

    record_id: int
    fetch_id: int
    source_id: int
    fetched_at: datetime
    fetch_url: str
    final_url: str | None
    fetch_canonical_url: str | None
    extractor_version: str
    payload: dict[str, Any] | None


@dataclass
class PreparedArticle:
    """Everything the upsert writes for one article, plus what the batch needs afterwards."""

    row: dict[str, Any]
    url_hash: str
    fetch_id: int
    fetched_at: datetime
    links: list[tuple[str, str]]
    alias_hashes: set[str] = field(default_factory=set)  # URL hashes crawl_links may use for it


def _clean(value: str | None) -> str | None:
    # PostgreSQL text cannot hold NUL; one stray byte must not fail a whole batch.
    return None if value is None else value.replace("\x00", "")


# A record names the same URL up to five times (fetch, final, page, canonical, alias), the
# load's purge check and the links of other records name them again, and the next run too:
# one parse each, bounded memory.
cached_canonicalize = lru_cache(maxsize=8192)(canonicalize)


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


def choose_canonical(record: ExtractedArticle, staged: StagedRow) -> str:
    """The page's canonical URL, but never one on another host.

    Syndicated copies often declare the original outlet as canonical; honouring that would fold
    the copy into the original's row, and consumers want one row per story *per outlet*
    (near-duplicate clusters link the copies instead).
    """
    page = cached_canonicalize(staged.final_url or record.url)
    for candidate in (record.canonical_url, staged.fetch_canonical_url):
        if candidate and usable_url(candidate):  # file://, broken: the fetched URL stands
            try:
                canonical = cached_canonicalize(candidate)
            except ValueError:
                continue
            if _host(canonical) == _host(page):
                return canonical
    return page


def content_hash(title: str | None, text: str) -> str:
    """What makes a new version: the title and the clean text, nothing else."""
    return hashlib.sha256(f"{title or ''}\n\n{text}".encode()).hexdigest()


def prepare(staged: StagedRow, now: datetime, run_pk: int) -> PreparedArticle:
    """Validate and shape one record; :class:`Rejected` says why it cannot be stored."""
    record = parse_record(staged.payload)
    validate(record, now)
    canonical = choose_canonical(record, staged)
    key = url_hash(canonical)
    text = _clean(record.text) or ""
    title = _clean(record.title)
    language = record.language if record.language and len(record.language) <= 12 else None
    row: dict[str, Any] = {
        "url_hash": key,
        "source_id": staged.source_id,
        "url": _clean(record.url),
        "canonical_url": canonical,
        "title": title,
        "authors": [a for a in (_clean(x) for x in record.authors) if a],
        "published_at": record.published_at,
        "published_from": record.published_from,
        "modified_at": record.modified_at,
        "modified_from": record.modified_from,
        "language": language,
        "description": _clean(record.description),
        "section": (_clean(record.section) or "")[:200] or None,
        "tags": [t for t in (_clean(x) for x in record.tags) if t],
        "image_url": _clean(record.image_url),
        "is_paywalled": record.is_paywalled,
        "is_complete": record.is_complete,
        "text": text,
        "word_count": count_words(text),
        "content_hash": content_hash(title, text),
        "minhash": neardup.to_bytes(neardup.signature(text)),
        "version": 1,
        "first_seen_at": staged.fetched_at,
        "last_seen_at": staged.fetched_at,
        "updated_at": now,
        "fetch_id": staged.fetch_id,
        "run_id": run_pk,
        "extractor_version": record.extractor_version or staged.extractor_version,
    }
    aliases = {key} | {
        url_hash(cached_canonicalize(url)) for url in {staged.fetch_url, record.url, staged.final_url} if url
    }
    return PreparedArticle(
        row=row,
        url_hash=key,
        fetch_id=staged.fetch_id,
        fetched_at=staged.fetched_at,
        links=list(record.links),
        alias_hashes=aliases,
    )


__all__ = [
    "PreparedArticle",
    "Rejected",
    "StagedRow",
    "cached_canonicalize",
    "choose_canonical",
    "content_hash",
    "prepare",
]
