"""Stories that left the web: a run's removal signals mark the stored articles removed.

Two signals, treated alike (the contract between crawler, extraction and load):

- a fetch of a stored article that answered 404/410 or redirected to a page that is not an
  article: the crawler records it as a non-candidate with ``hints["removal"]`` (the reason);
- a page that says the story was removed: extraction status ``removed``, reason in
  ``extracted_records.reason``.

The matching article (by the fetch's URL hash, else its canonical URL) gets ``removed_at`` =
the fetch time, ``removal_reason``, ``version + 1`` and an ``article_versions`` row with
``event = 'removed'`` and an empty text (the title stays); the article row keeps its last
text, so a later return with the same text is recognised as ``restored``. The ``UPDATE``'s
``WHERE`` decides under the row lock, which makes it idempotent and safe next to concurrent
loads: an article already removed is not changed again, and a removal older than the
article's last sighting (a later fetch served the story) does not apply.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, or_, select, update

from pipeline.db.dialect import dialect_insert
from pipeline.db.models import Article, ArticleVersion, ExtractedRecord, Fetch
from pipeline.load.bulk import chunk_size, member_of
from pipeline.load.events import REMOVED
from pipeline.load.prepare import content_hash
from pipeline.urls import canonicalize, url_hash

#: Fetch outcomes that can carry a removal (a 404/410 is an ``error``, a redirect ``fetched``).
SIGNAL_OUTCOMES = ("fetched", "error")


@dataclass(frozen=True)
class RemovalSignal:
    """One piece of evidence that a stored story is gone, and the fetch that saw it."""

    fetch_id: int
    fetched_at: datetime
    reason: str
    hashes: frozenset[str]  # URL hashes the article may be stored under
    urls: frozenset[str]  # canonical URLs the article may be stored under
    extractor_version: str | None = None


def _keys(url: str, fetch_hash: str | None, canonical: str | None) -> tuple[frozenset[str], frozenset[str]]:
    hashes = {h for h in (fetch_hash,) if h}
    urls = {u for u in (url, canonical) if u}
    with contextlib.suppress(ValueError):
        hashes.add(url_hash(canonicalize(url)))
    return frozenset(hashes), frozenset(urls)


def removal_signals(conn: Connection, run_pk: int) -> list[RemovalSignal]:
    """The run's removal signals, earliest first (hints are read in Python: JSON differs per backend)."""
    f, er = Fetch, ExtractedRecord
    signals = []
    for fetch_id, fetched_at, url, fetch_hash, canonical, hints in conn.execute(
        select(f.id, f.fetched_at, f.url, f.url_hash, f.canonical_url, f.hints).where(
            f.run_id == run_pk, f.is_article_candidate.is_(False), f.outcome.in_(SIGNAL_OUTCOMES)
        )
    ):
        reason = (hints or {}).get("removal")
        if isinstance(reason, str) and reason.strip():
            signals.append(
                RemovalSignal(fetch_id, fetched_at, reason.strip(), *_keys(url, fetch_hash, canonical))
            )
    for fetch_id, fetched_at, url, fetch_hash, canonical, reason, version in conn.execute(
        select(f.id, f.fetched_at, f.url, f.url_hash, f.canonical_url, er.reason, er.extractor_version)
        .join(er, er.fetch_id == f.id)
        .where(er.run_id == run_pk, er.status == REMOVED)
    ):
        signals.append(
            RemovalSignal(
                fetch_id,
                fetched_at,
                (reason or "").strip() or "the page says the story was removed",
                *_keys(url, fetch_hash, canonical),
                extractor_version=version,
            )
        )
    return sorted(signals, key=lambda s: (s.fetched_at, s.fetch_id))


def _articles(conn: Connection, signals: list[RemovalSignal]) -> dict[int, tuple[int, str]]:
    """Signal index -> (article id, url hash) of the stored article it is about."""
    hashes = sorted({h for s in signals for h in s.hashes})
    urls = sorted({u for s in signals for u in s.urls})
    by_hash: dict[str, tuple[int, str]] = {}
    by_url: dict[str, tuple[int, str]] = {}
    size = chunk_size(conn)
    for start in range(0, max(len(hashes), len(urls)), size):
        some_hashes, some_urls = hashes[start : start + size], urls[start : start + size]
        conditions = []
        if some_hashes:
            conditions.append(member_of(conn, Article.url_hash, some_hashes))
        if some_urls:
            conditions.append(member_of(conn, Article.canonical_url, some_urls))
        for article_id, key, canonical in conn.execute(
            select(Article.id, Article.url_hash, Article.canonical_url).where(or_(*conditions))
        ):
            by_hash[key] = by_url[canonical] = (article_id, key)
    found = {}
    for i, signal in enumerate(signals):
        match = next((by_hash[h] for h in sorted(signal.hashes) if h in by_hash), None)
        match = match or next((by_url[u] for u in sorted(signal.urls) if u in by_url), None)
        if match is not None:
            found[i] = match
    return found


def apply_removals(conn: Connection, signals: list[RemovalSignal], now: datetime, run_pk: int) -> int:
    """Mark the signals' articles removed (in url-hash order, the upsert's lock order); how many now."""
    if not signals:
        return 0
    found = _articles(conn, signals)
    order = sorted(found, key=lambda i: (found[i][1], signals[i].fetched_at, signals[i].fetch_id))
    versions = ArticleVersion.__table__
    removed = 0
    for i in order:
        signal, (article_id, _) = signals[i], found[i]
        row = conn.execute(
            update(Article)
            .where(
                Article.id == article_id,
                Article.removed_at.is_(None),
                Article.last_seen_at <= signal.fetched_at,
            )
            .values(
                removed_at=signal.fetched_at,
                removal_reason=signal.reason,
                version=Article.version + 1,
                updated_at=now,
            )
            .returning(Article.version, Article.title, Article.extractor_version)
        ).first()
        if row is None:
            continue
        version, title, extractor_version = row
        conn.execute(
            dialect_insert(conn, versions)  # type: ignore[arg-type]
            .values(
                article_id=article_id,
                version=version,
                content_hash=content_hash(title, ""),
                title=title,
                text="",
                modified_at=None,
                recorded_at=now,
                fetch_id=signal.fetch_id,
                run_id=run_pk,
                extractor_version=signal.extractor_version or extractor_version,
                event=REMOVED,
            )
            .on_conflict_do_nothing(index_elements=["article_id", "version"])
        )
        removed += 1
    return removed
