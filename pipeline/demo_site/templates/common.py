"""Pieces every outlet template shares: the render context, escaping, links, JSON-LD, comments."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any, Protocol

from pipeline.demo_site.catalog import Catalog
from pipeline.demo_site.model import Story
from pipeline.demo_site.outlets import SPEC_BY_KEY, OutletSpec, Wart

# Bylines that name a desk, not a person: never expected as authors.
NON_PERSON_AUTHORS = frozenset({"Staff Reporter", "Wire Service", "Wire staff"})


def e(text: str) -> str:
    return escape(text, quote=True)


@dataclass(frozen=True)
class Ctx:
    """Everything a template needs: which outlet, which edition, where the other outlets live."""

    spec: OutletSpec
    base_urls: dict[str, str]
    catalog: Catalog
    edition: int

    @property
    def base(self) -> str:
        return self.base_urls[self.spec.key]

    def url(self, path: str, outlet: str | None = None) -> str:
        return self.base_urls[outlet or self.spec.key] + path

    def story_url(self, story: Story) -> str:
        return self.url(story.path, story.outlet)


class Template(Protocol):
    def article(self, ctx: Ctx, story: Story, *, amp: bool = False) -> str: ...

    def listing(
        self, ctx: Ctx, title: str, stories: list[Story], page: int, pages: int, section: str | None
    ) -> str: ...

    def page(self, ctx: Ctx, title: str, body_html: str, *, path: str) -> str: ...


def tracked(path: str, index: int, context: str) -> str:
    """Decorate some internal links the way real CMSs do (tracking junk, fragments)."""
    if index % 3 == 0:
        return f"{path}?utm_source={context}&utm_medium=web&utm_campaign=more-stories"
    if index % 3 == 1:
        return f"{path}#comments"
    return path


def related_links(ctx: Ctx, story: Story, *, absolute: bool = False) -> list[tuple[str, str]]:
    """(href, title) of the story's related articles as the page links them."""
    links: list[tuple[str, str]] = []
    same = 0
    for other in ctx.catalog.related(story, ctx.edition):
        if other.outlet == ctx.spec.key:
            href = tracked(other.path, same, "related")
            same += 1
            if absolute:
                href = ctx.base + href
        else:
            href = ctx.story_url(other)
        links.append((href, other.title))
    return links


def person_authors(story: Story) -> tuple[str, ...]:
    return tuple(a for a in story.authors if a not in NON_PERSON_AUTHORS)


def news_article_ld(ctx: Ctx, story: Story, *, publisher: str, graph: bool = False) -> str:
    modified = story.modified_for(ctx.edition)
    article: dict[str, Any] = {
        "@type": "NewsArticle",
        "headline": story.title,
        "description": story.description,
        "datePublished": story.published.isoformat(),
        "dateModified": (modified or story.published).isoformat(),
        "author": [{"@type": "Person", "name": a} for a in person_authors(story)]
        or [{"@type": "Organization", "name": publisher}],
        "publisher": {"@type": "Organization", "name": publisher, "url": ctx.base + "/"},
        "mainEntityOfPage": ctx.story_url(story),
        "articleSection": story.section.title(),
        "keywords": list(story.tags),
        "inLanguage": story.language,
        "image": [ctx.url(f"/images/{story.id}.jpg")],
    }
    if story.paywall:
        article["isAccessibleForFree"] = False
    if graph:
        crumbs = {
            "@type": "BreadcrumbList",
            "itemListElement": [
                {"@type": "ListItem", "position": 1, "name": "Home", "item": ctx.base + "/"},
                {
                    "@type": "ListItem",
                    "position": 2,
                    "name": story.section.title(),
                    "item": ctx.url(ctx.spec.section_path(story.section)),
                },
            ],
        }
        payload: dict[str, Any] = {"@context": "https://schema.org", "@graph": [article, crumbs]}
    else:
        payload = {"@context": "https://schema.org", **article}
    text = json.dumps(payload, ensure_ascii=False, indent=1).replace("</", "<\\/")
    return f'<script type="application/ld+json">{text}</script>'


def og_meta(ctx: Ctx, story: Story, site_name: str) -> str:
    modified = story.modified_for(ctx.edition)
    rows = [
        ("og:type", "article"),
        ("og:site_name", site_name),
        ("og:title", story.title),
        ("og:description", story.description),
        ("og:url", ctx.story_url(story)),
        ("og:image", ctx.url(f"/images/{story.id}.jpg")),
        ("article:section", story.section.title()),
        ("article:published_time", story.published.isoformat()),
    ]
    if modified:
        rows.append(("article:modified_time", modified.isoformat()))
    rows += [("article:tag", t) for t in story.tags]
    return "\n".join(f'<meta property="{k}" content="{e(v)}">' for k, v in rows)


COMMENTS = [
    ("riverside_dad", "Same story every year. Nothing changes until voters make it change."),
    ("M. Okafor", "Thanks for the reporting. Would love a follow-up on where the money actually goes."),
    ("truthseeker88", "I read the whole thing and still don't understand who is paying for this."),
    (
        "Janet W.",
        "My neighbours and I went to the meeting and nobody from the council answered our questions.",
    ),
]


def comments_block(count: int, heading: str, css: str = "comments") -> str:
    items = "".join(
        f'<li class="comment"><p class="comment-author">{e(who)}</p><p class="comment-text">{e(text)}</p>'
        f'<a class="reply" href="#">Reply</a></li>'
        for who, text in COMMENTS[:count]
    )
    return f'<section class="{css}" id="comments"><h3>{e(heading)}</h3><ol>{items}</ol></section>'


def wart_body(wart: Wart) -> str:
    """Body of a non-article page (about/contact/disallowed)."""
    if "contact" in wart.path:
        return (
            "<p>Newsroom: newsroom@example.org</p><p>Corrections: corrections@example.org</p>"
            "<p>Advertising enquiries: ads@example.org</p>"
        )
    if wart.kind == "disallowed":
        return "<p>INTERNAL — NOT FOR PUBLICATION. Planning notes for the desk.</p>"
    return (
        f"<p>{e(wart.title)}. We are an independent newsroom. Our journalists report from the city "
        "and from bureaus abroad, and we publish corrections promptly when we get something wrong.</p>"
        "<p>Our editorial standards, ethics policy and ownership details are published on this page "
        "and reviewed every year.</p>"
    )


def local_time(spec: OutletSpec, when: datetime) -> datetime:
    return when.astimezone(spec.tz)


def spec_for(key: str) -> OutletSpec:
    return SPEC_BY_KEY[key]
