"""The stories the demo network serves, as plain data loaded from the package's content files.

Content lives in YAML (``content/<outlet>.yaml``, plus ``content/seed.txt`` for the seed
story's body) so that prose is edited as prose; this module turns it into frozen objects the
templates, feeds and the manifest all read, which keeps what is served and what the tests
expect from drifting apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import yaml

# The two moments the network can show: "now" (edition 1) and "later" (edition 2).
EDITION_TIMES: dict[int, datetime] = {
    1: datetime(2023, 5, 23, 12, 30, tzinfo=UTC),
    2: datetime(2023, 5, 24, 12, 0, tzinfo=UTC),
}
EDITIONS = tuple(EDITION_TIMES)


@dataclass(frozen=True)
class Figure:
    alt: str
    caption: str
    credit: str


@dataclass(frozen=True)
class InlineLink:
    """A boilerplate paragraph placed inside the body after ``after`` body paragraphs."""

    after: int
    text: str
    target: str | None = None  # story id on the same outlet


@dataclass(frozen=True)
class Story:
    """One article page (hand-written or generated) in all its editions."""

    outlet: str
    id: str
    path: str
    section: str
    title: str
    authors: tuple[str, ...]
    published: datetime
    paragraphs: tuple[str, ...]
    description: str = ""
    role: str | None = None
    dateline: str | None = None
    modified: datetime | None = None
    tags: tuple[str, ...] = ()
    editions: tuple[int, ...] = EDITIONS
    related: tuple[str, ...] = ()
    v2_paragraphs: tuple[str, ...] | None = None
    v2_modified: datetime | None = None
    language: str = "en"
    charset: str | None = None  # "windows-1251" | "wrong-header" | None (= utf-8, declared)
    paywall: bool = False
    wire: bool = False
    amp: bool = False
    malformed: bool = False
    seed: bool = False
    dek: str | None = None
    figure: Figure | None = None
    video_embed: bool = False
    promo: InlineLink | None = None
    click_here: InlineLink | None = None
    copyright: str | None = None
    fault: str | None = None  # "flaky" (500 then 200) | "slow" (beyond the timeout)
    generated: bool = False
    variant: int = 0  # template variant for generated pages
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def key(self) -> str:
        return f"{self.outlet}:{self.id}"

    def in_edition(self, edition: int) -> bool:
        return edition in self.editions

    def paragraphs_for(self, edition: int) -> tuple[str, ...]:
        if edition >= 2 and self.v2_paragraphs is not None:
            return self.v2_paragraphs
        return self.paragraphs

    def modified_for(self, edition: int) -> datetime | None:
        if edition >= 2 and self.v2_modified is not None:
            return self.v2_modified
        return self.modified

    def changes_in_edition2(self) -> bool:
        return self.v2_paragraphs is not None

    def last_modified(self, edition: int) -> datetime:
        return self.modified_for(edition) or self.published


def _dt(value: Any) -> datetime:
    parsed = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    if parsed.tzinfo is None:
        raise ValueError(f"content date {value!r} has no time zone")
    return parsed


def _inline(data: dict[str, Any] | None) -> InlineLink | None:
    if not data:
        return None
    return InlineLink(after=int(data["after"]), text=str(data["text"]), target=data.get("id"))


def _story(outlet: str, raw: dict[str, Any], seed_body: tuple[str, ...]) -> Story:
    v2 = raw.get("v2") or {}
    figure = raw.get("figure")
    paragraphs = seed_body if raw.get("seed") else tuple(raw["paragraphs"])
    return Story(
        outlet=outlet,
        id=raw["id"],
        path=raw["path"],
        section=raw["section"],
        title=raw["title"],
        authors=tuple(raw["authors"]),
        published=_dt(raw["published"]),
        paragraphs=paragraphs,
        description=raw.get("description", ""),
        role=raw.get("role"),
        dateline=raw.get("dateline"),
        modified=_dt(raw["modified"]) if raw.get("modified") else None,
        tags=tuple(raw.get("tags", ())),
        editions=tuple(raw.get("editions", EDITIONS)),
        related=tuple(raw.get("related", ())),
        v2_paragraphs=tuple(v2["paragraphs"]) if v2 else None,
        v2_modified=_dt(v2["modified"]) if v2 else None,
        language=raw.get("language", "en"),
        charset=raw.get("charset"),
        paywall=bool(raw.get("paywall")),
        wire=bool(raw.get("wire")),
        amp=bool(raw.get("amp")),
        malformed=bool(raw.get("malformed")),
        seed=bool(raw.get("seed")),
        dek=raw.get("dek"),
        figure=Figure(**figure) if figure else None,
        video_embed=bool(raw.get("video_embed")),
        promo=_inline(raw.get("promo")),
        click_here=_inline(raw.get("click_here")),
        copyright=raw.get("copyright"),
        fault=raw.get("fault"),
    )


def _content_text(name: str) -> str:
    return resources.files("pipeline.demo_site").joinpath("content", name).read_text(encoding="utf-8")


def seed_body() -> tuple[str, ...]:
    """The seed story's clean body paragraphs, in order (the extraction ground truth)."""
    return tuple(p.strip() for p in _content_text("seed.txt").split("\n\n") if p.strip())


def load_stories(outlet: str) -> tuple[Story, ...]:
    """All hand-written stories of one outlet, in file order."""
    data = yaml.safe_load(_content_text(f"{outlet}.yaml"))
    body = seed_body()
    return tuple(_story(outlet, raw, body) for raw in data["articles"])
