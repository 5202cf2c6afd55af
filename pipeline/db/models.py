"""The news database, one typed model for SQLite and PostgreSQL.

Consumers read ``articles`` (through the ``news_articles`` view); everything else exists so
that each article row can be traced to the run, the HTTP fetch and the WARC record it came
from, and so that reruns are idempotent (natural keys with unique constraints everywhere).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from pipeline.db.types import PortableJSON, UTCDateTime

# Deterministic constraint names keep Alembic autogenerate and SQLite batch mode stable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; BigInteger elsewhere.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: PortableJSON}


class Source(Base):
    """A configured site, mirrored from ``sources.yaml`` at the start of every run."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    homepage: Mapped[str] = mapped_column(String(2048))
    config_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CrawlRun(Base):
    """One run of the pipeline for one source: what was asked, what happened, the verdict."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(String(250), unique=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="crawl")  # crawl | reextract
    window_start: Mapped[datetime | None]
    window_end: Mapped[datetime | None]
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(20), default="running", index=True)
    stage: Mapped[str] = mapped_column(String(20), default="crawl")
    params: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    pages_fetched: Mapped[int] = mapped_column(Integer, default=0)
    pages_failed: Mapped[int] = mapped_column(Integer, default=0)
    pages_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    pages_extracted: Mapped[int] = mapped_column(Integer, default=0)
    pages_not_article: Mapped[int] = mapped_column(Integer, default=0)
    extract_failed: Mapped[int] = mapped_column(Integer, default=0)
    articles_new: Mapped[int] = mapped_column(Integer, default=0)
    articles_updated: Mapped[int] = mapped_column(Integer, default=0)
    articles_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    articles_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    articles_rejected: Mapped[int] = mapped_column(Integer, default=0)
    errors_by_category: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    quality: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    stats: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    error: Mapped[str | None] = mapped_column(Text)

    source: Mapped[Source] = relationship()


class Fetch(Base):
    """Every HTTP fetch (or refused/failed attempt) and where its body sits in the WARC store."""

    __tablename__ = "fetches"
    __table_args__ = (Index("ix_fetches_run_url", "run_id", "url_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    url_hash: Mapped[str] = mapped_column(String(64), index=True)
    canonical_url: Mapped[str | None] = mapped_column(Text)
    final_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[int | None] = mapped_column(Integer)
    content_type: Mapped[str | None] = mapped_column(String(200))
    content_length: Mapped[int | None] = mapped_column(BigInteger)
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    fetched_at: Mapped[datetime]
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    discovery: Mapped[str] = mapped_column(String(20))  # feed|sitemap|listing|related|seed|pagination|robots
    referrer: Mapped[str | None] = mapped_column(Text)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    hints: Mapped[dict[str, Any]] = mapped_column(PortableJSON, default=dict)
    is_article_candidate: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(20))  # fetched|not_modified|error|skipped|robots_txt
    warc_path: Mapped[str | None] = mapped_column(Text)
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    warc_length: Mapped[int | None] = mapped_column(BigInteger)
    body_hash: Mapped[str | None] = mapped_column(String(64))
    error_category: Mapped[str | None] = mapped_column(String(40), index=True)
    error_message: Mapped[str | None] = mapped_column(Text)


class CrawlLink(Base):
    """A link edge seen by the crawler (article -> related URL), turned into ``article_links`` on load."""

    __tablename__ = "crawl_links"
    __table_args__ = (UniqueConstraint("run_id", "from_url_hash", "to_url_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    from_url: Mapped[str] = mapped_column(Text)
    from_url_hash: Mapped[str] = mapped_column(String(64))
    to_url: Mapped[str] = mapped_column(Text)
    to_url_hash: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20))  # related | promo | inline


class ExtractedRecord(Base):
    """Staging: the extraction stage's output per fetch, the load stage's input.

    Kept in the database (not files) so extract and load of one run can run on different
    workers and a rerun simply replaces the row of the same fetch.
    """

    __tablename__ = "extracted_records"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("crawl_runs.id", ondelete="CASCADE"), index=True)
    fetch_id: Mapped[int] = mapped_column(ForeignKey("fetches.id", ondelete="CASCADE"), unique=True)
    status: Mapped[str] = mapped_column(String(20))  # ok | not_article | empty | error
    reason: Mapped[str | None] = mapped_column(Text)
    # The article detector's score (positive: article), so a rejected page shows how close it came.
    detection_score: Mapped[float | None] = mapped_column(Float)
    record: Mapped[dict[str, Any] | None] = mapped_column(PortableJSON)
    extractor_version: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime]


class Article(Base):
    """One row per canonical article (per outlet): the consumer-facing record."""

    __tablename__ = "articles"
    __table_args__ = (
        Index("ix_articles_source_published", "source_id", "published_at"),
        Index("ix_articles_last_seen", "last_seen_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url_hash: Mapped[str] = mapped_column(String(64), unique=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str] = mapped_column(Text, unique=True)
    title: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    published_at: Mapped[datetime | None]
    published_from: Mapped[str | None] = mapped_column(String(20))
    modified_at: Mapped[datetime | None]
    modified_from: Mapped[str | None] = mapped_column(String(20))
    language: Mapped[str | None] = mapped_column(String(12))
    description: Mapped[str | None] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(String(200))
    tags: Mapped[list[str]] = mapped_column(PortableJSON, default=list)
    image_url: Mapped[str | None] = mapped_column(Text)
    # Page signals (JSON-LD isAccessibleForFree, paywall markers, a body ending in a subscribe
    # prompt): a paywalled page may hold only the teaser, is_complete says whether the body is whole.
    is_paywalled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    is_complete: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    text: Mapped[str] = mapped_column(Text)
    word_count: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    # MinHash signature of the clean text (pipeline.load.neardup); NULL cluster_id = a cluster of one.
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    cluster_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # Indexed: a rerun of a run id keeps the fetch rows articles point at (pipeline.supersede).
    fetch_id: Mapped[int | None] = mapped_column(ForeignKey("fetches.id", ondelete="SET NULL"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"))
    extractor_version: Mapped[str] = mapped_column(String(40))
    # Set when the story is gone from the web (410/404, a redirect to a non-article, a
    # "story removed" page) or purged; cleared when a later fetch serves the story again.
    removed_at: Mapped[datetime | None]
    removal_reason: Mapped[str | None] = mapped_column(Text)


class ArticleVersion(Base):
    """Every distinct content an article has had, oldest first."""

    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64))
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    modified_at: Mapped[datetime | None]
    recorded_at: Mapped[datetime]
    fetch_id: Mapped[int | None] = mapped_column(ForeignKey("fetches.id", ondelete="SET NULL"), index=True)
    # The run whose load stored this version: run counters (new/updated) are derived from it.
    run_id: Mapped[int | None] = mapped_column(ForeignKey("crawl_runs.id", ondelete="SET NULL"), index=True)
    extractor_version: Mapped[str] = mapped_column(String(40))
    # content: a new text/title; removed: the story left the web (text empty); restored: it came back.
    event: Mapped[str] = mapped_column(String(20), default="content", server_default="content")


class ArticlePurge(Base):
    """Audit row of a takedown (``newsflow purge``): what was removed, when and why.

    Also a tombstone: the crawler never fetches a purged URL again and the load never
    re-stores it, so a takedown stays taken down. No foreign key: the row outlives the data.
    """

    __tablename__ = "article_purges"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    article_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    url: Mapped[str] = mapped_column(Text)
    url_hash: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(Text)
    purged_at: Mapped[datetime]
    versions_deleted: Mapped[int] = mapped_column(Integer, default=0)
    warc_records_purged: Mapped[int] = mapped_column(Integer, default=0)


class ArticleLink(Base):
    """Related-article edge; ``to_article_id`` is filled once the target is stored."""

    __tablename__ = "article_links"
    __table_args__ = (UniqueConstraint("from_article_id", "to_url_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    from_article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    to_url: Mapped[str] = mapped_column(Text)
    to_url_hash: Mapped[str] = mapped_column(String(64), index=True)
    to_article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class NearDupBucket(Base):
    """LSH band buckets of article fingerprints, so near-duplicate lookup is an index probe."""

    __tablename__ = "near_dup_buckets"

    # No surrogate id: (article, band) is the key, and one index less per row matters here
    # (every stored article writes BANDS rows).
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True)
    band: Mapped[int] = mapped_column(Integer, primary_key=True)
    # 64-bit hash of (band number, the band's MinHash values): equal buckets = LSH candidates.
    bucket: Mapped[int] = mapped_column(BigInteger, index=True)


class BoilerplateLine(Base):
    """Site-learned boilerplate: a line seen on many pages of one source (bounded per source)."""

    __tablename__ = "boilerplate_lines"
    __table_args__ = (UniqueConstraint("source_id", "line_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    line_hash: Mapped[str] = mapped_column(String(64))
    sample: Mapped[str] = mapped_column(Text)
    pages_seen: Mapped[int] = mapped_column(Integer, default=0)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]


class SourcePause(Base):
    """An operator's pause or resume of one source (``newsflow sources pause|resume``).

    Keyed by the source key, not ``sources.id``: a source can be paused before its first run
    (no ``sources`` row yet). No row: ``schedule.paused`` of ``sources.yaml`` decides. The
    grouped DAG layout skips a paused source's mapped task instances; the crawl task of
    either layout skips it (``pipeline.pauses``).
    """

    __tablename__ = "source_pauses"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    paused: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(Text)
    changed_at: Mapped[datetime]
