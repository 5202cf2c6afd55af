"""``newsflow demo``: the newcomer's first five minutes, as data.

The CLI starts the demo network and runs the pipeline; this module answers the questions the
demo then shows: what became of the seed story (clean text, boilerplate removed, related
links found) — read back from the database, so the demo shows what consumers would get.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from pipeline.db.models import Article, ArticleLink, ExtractedRecord
from pipeline.urls import canonicalize, url_hash

DEMO_DIR = Path("data/demo")
#: Boilerplate a consumer must never see in the seed story (the demo checks and prints it).
SEED_BOILERPLATE = (
    "CLICK HERE",
    "Video Embed",
    "EVERYTHING YOU NEED TO KNOW",
    "©",
    "Related Content",
)


@dataclass(frozen=True)
class SeedReport:
    """The seed story as stored: text, what cleaning removed, where it links."""

    url: str
    title: str | None
    text: str
    removed_lines: list[str]
    links: list[tuple[str, str, bool]] = field(default_factory=list)  # (to_url, kind, stored)

    @property
    def leaked_boilerplate(self) -> list[str]:
        return [marker for marker in SEED_BOILERPLATE if marker in self.text]


def seed_report(engine: Engine, seed_url: str) -> SeedReport | None:
    """Read the seed article back; None when it was not loaded."""
    key = url_hash(canonicalize(seed_url))
    with Session(engine) as session:
        article = session.scalars(select(Article).where(Article.url_hash == key)).one_or_none()
        if article is None:
            return None
        removed: list[str] = []
        if article.fetch_id is not None:
            record = session.scalars(
                select(ExtractedRecord).where(ExtractedRecord.fetch_id == article.fetch_id)
            ).one_or_none()
            if record is not None and record.record:
                removed = list(record.record.get("removed_lines") or [])
        links = [
            (link.to_url, link.kind, link.to_article_id is not None)
            for link in session.scalars(
                select(ArticleLink).where(ArticleLink.from_article_id == article.id).order_by(ArticleLink.id)
            )
        ]
        return SeedReport(
            url=article.canonical_url,
            title=article.title,
            text=article.text,
            removed_lines=removed,
            links=links,
        )
