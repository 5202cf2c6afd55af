"""The record the extraction stage produces and the load stage consumes.

It is stored as JSON in ``extracted_records.record`` so extract and load can run on different
workers; ``model_dump(mode="json")`` / ``model_validate`` are the only (de)serialisers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

DateOrigin = Literal["jsonld", "meta", "time", "url", "text", "feed", "sitemap", "http", "embedded"]
#: Where an article's body text came from: the visible HTML, JSON-LD ``articleBody``, or a
#: JavaScript framework's embedded state (``__NEXT_DATA__``, Nuxt, Apollo, ...).
BodySource = Literal["html", "jsonld", "embedded_state"]


class ExtractedArticle(BaseModel):
    """Clean text and metadata of one article page."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(description="URL the page was fetched from (after redirects).")
    canonical_url: str | None = Field(default=None, description="<link rel=canonical>/og:url, normalised.")
    title: str | None = None
    text: str = Field(description="Clean body: paragraphs separated by one blank line.")
    authors: list[str] = Field(default_factory=list, description="Clean person names.")
    published_at: datetime | None = Field(default=None, description="Timezone-aware.")
    published_from: DateOrigin | None = None
    modified_at: datetime | None = None
    modified_from: DateOrigin | None = None
    language: str | None = None
    description: str | None = None
    section: str | None = None
    tags: list[str] = Field(default_factory=list)
    image_url: str | None = None
    is_article: bool = True
    is_paywalled: bool = Field(default=False, description="The page is behind a paywall (declared or shown).")
    is_complete: bool = Field(
        default=True, description="False when the body is a teaser cut short by a paywall."
    )
    body_source: BodySource = Field(default="html", description="Where the body text was read from.")
    extractor_version: str
    removed_lines: list[str] = Field(
        default_factory=list, description="Boilerplate lines the cleaning removed (for audits and the demo)."
    )
    links: list[tuple[str, str]] = Field(
        default_factory=list, description="(url, kind) related-article links found in the page."
    )
