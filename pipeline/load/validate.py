"""Record validation: what the database must never receive, and why it was refused.

A refused record is counted (``crawl_runs.articles_rejected``) and logged with its reason;
the rest of its batch loads. Limits are generous on purpose: they catch scraping accidents
(a whole page dump as "text", a date parsed from a copyright line), not editorial choices.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError

from pipeline.records import ExtractedArticle

MAX_TEXT_CHARS = 200_000  # ~30k words; longer "articles" are dumps of whole sites or feeds
MAX_TITLE_CHARS = 1_000
MAX_URL_CHARS = 4_096
EARLIEST_DATE = datetime(1990, 1, 1, tzinfo=UTC)  # before the web had news sites
FUTURE_SLACK = timedelta(days=2)  # time-zone slop and embargoed stories, not more


class Rejected(Exception):
    """A record the load refuses; ``str(exc)`` is the reason, meant for a person."""

    @property
    def category(self) -> str:
        """The reason without its details, for per-reason counts."""
        return str(self).split(":", 1)[0]


def usable_url(url: str) -> bool:
    """An http(s) URL with a host, parseable and not oversized (what may key an article)."""
    try:
        _check_url(url, "url")
        urlsplit(url.strip()).port  # noqa: B018 - raises ValueError for a bad port
    except (Rejected, ValueError):
        return False
    return True


def _check_url(url: str | None, what: str) -> None:
    if url is None or not url.strip():
        raise Rejected(f"missing {what}")
    if len(url) > MAX_URL_CHARS:
        raise Rejected(f"oversized {what}: {len(url)} chars > {MAX_URL_CHARS}")
    parts = urlsplit(url.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise Rejected(f"bad {what}: {url[:200]!r}")


def _check_date(name: str, value: datetime | None, now: datetime) -> None:
    if value is None:
        return
    if value.tzinfo is None or value.utcoffset() is None:
        raise Rejected(f"naive {name}: {value.isoformat()} has no time zone")
    if value < EARLIEST_DATE:
        raise Rejected(f"absurd {name}: {value.isoformat()} is before {EARLIEST_DATE.year}")
    if value > now + FUTURE_SLACK:
        raise Rejected(f"absurd {name}: {value.isoformat()} is in the future")


def parse_record(payload: dict[str, Any] | None) -> ExtractedArticle:
    """The stored JSON as an :class:`ExtractedArticle`, or :class:`Rejected` naming the problem."""
    if not payload:
        raise Rejected("empty record")
    url = payload.get("url")
    if url is None or (isinstance(url, str) and not url.strip()):
        raise Rejected("missing url")
    try:
        return ExtractedArticle.model_validate(payload)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "record"
        raise Rejected(f"invalid record: {where}: {first['msg']}") from None


def validate(record: ExtractedArticle, now: datetime) -> None:
    """Raise :class:`Rejected` when ``record`` must not be stored."""
    _check_url(record.url, "url")
    # The declared canonical is advice, not identity: an unusable one (file://, javascript:,
    # a broken IPv6 literal, oversized) falls back to the fetched URL in
    # :func:`pipeline.load.prepare.choose_canonical`; it never costs the article.
    if not record.text.strip():
        raise Rejected("empty text")
    if len(record.text) > MAX_TEXT_CHARS:
        raise Rejected(f"oversized text: {len(record.text)} chars > {MAX_TEXT_CHARS}")
    if record.title is not None and len(record.title) > MAX_TITLE_CHARS:
        raise Rejected(f"oversized title: {len(record.title)} chars > {MAX_TITLE_CHARS}")
    _check_date("published_at", record.published_at, now)
    _check_date("modified_at", record.modified_at, now)
