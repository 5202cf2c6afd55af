"""HTML of the living network: article pages in each state, listings, removal answers.

A living story is rendered by turning the version live at the simulated time into the static
demo's :class:`~pipeline.demo_site.model.Story` and handing it to the outlet's own template
(``templates/``), so the pages look like the rest of the demo and the existing crawler
configuration (article URL patterns, boilerplate) applies. The states the timeline adds are:
the redesigned template (``redesign.py``), the JavaScript shell whose body is only in
``__NEXT_DATA__``, the broken CMS (empty body container), and the removal notice.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import datetime
from types import ModuleType
from typing import Any

from pipeline.demo_site.living import redesign
from pipeline.demo_site.living.timeline import LiveStory, Version
from pipeline.demo_site.model import Story
from pipeline.demo_site.templates import TEMPLATES
from pipeline.demo_site.templates.common import Ctx, e, news_article_ld, person_authors

REMOVED_TITLE = "This story has been removed"
NEXT_BUILD_ID = "nl-web-2026.10"
_BODY_CONTAINER = re.compile(
    r'(<div class="(?:article-body|story-body|c-article__content)"[^>]*>).*?(</div>)', re.S
)


@dataclass(frozen=True)
class Look:
    """How an outlet renders at an instant: which template, and whether its CMS is broken."""

    redesigned: bool = False
    broken: bool = False

    def template(self, outlet: str) -> ModuleType:
        return redesign if self.redesigned else TEMPLATES[outlet]


def as_model(story: LiveStory, version: Version) -> Story:
    """The static demo's Story for one version (``modified`` only once it was edited)."""
    edited = version is not story.versions[0]
    return Story(
        outlet=story.outlet,
        id=story.id,
        path=story.path,
        section=story.section,
        title=version.title,
        authors=story.authors,
        published=story.published,
        paragraphs=version.paragraphs,
        description=story.description,
        modified=version.modified if edited else None,
        tags=(story.section,),
    )


def as_feed_entry(story: LiveStory, version: Version, shown_updated: datetime) -> Story:
    """A Story whose last_modified() is the date feeds show (the last *announced* change)."""
    modified = shown_updated if shown_updated != story.published else None
    return replace(as_model(story, version), paragraphs=(), modified=modified)


def article(ctx: Ctx, story: LiveStory, version: Version, look: Look) -> str:
    model = as_model(story, version)
    if story.js_shell and not look.broken:
        return js_shell(ctx, story, version)
    template = look.template(story.outlet)
    if look.broken:
        # The CMS lost the body: chrome, headline and metadata render; the container is empty.
        html: str = template.article(ctx, replace(model, paragraphs=()))
        return _BODY_CONTAINER.sub(lambda m: m.group(1) + "\n" + m.group(2), html, count=1)
    rendered: str = template.article(ctx, model)
    return rendered


def next_data(ctx: Ctx, story: LiveStory, version: Version) -> dict[str, Any]:
    """The ``__NEXT_DATA__`` payload: the only place a JS-shell page carries its body."""
    edited = version is not story.versions[0]
    slug = story.path.rsplit("/", 1)[-1]
    return {
        "props": {
            "pageProps": {
                "article": {
                    "id": story.id,
                    "url": ctx.story_url(as_model(story, version)),
                    "headline": version.title,
                    "section": story.section,
                    "authors": [{"name": a} for a in person_authors(as_model(story, version))],
                    "datePublished": story.published.isoformat(),
                    "dateModified": (version.modified if edited else story.published).isoformat(),
                    "body": list(version.paragraphs),
                }
            },
            "__N_SSP": True,
        },
        "page": "/news/[section]/[slug]",
        "query": {"section": story.section, "slug": slug},
        "buildId": NEXT_BUILD_ID,
        "isFallback": False,
        "gssp": True,
    }


def js_shell(ctx: Ctx, story: LiveStory, version: Version) -> str:
    """A client-rendered page: an empty ``#__next`` and the article as JSON (no articleBody in LD)."""
    model = as_model(story, version)
    # No description either: on a shell the only copy of the text is the JSON blob.
    meta = replace(model, paragraphs=(), description="")
    data = json.dumps(next_data(ctx, story, version), ensure_ascii=False).replace("</", "<\\/")
    ld = news_article_ld(ctx, meta, publisher=ctx.spec.name)
    return f"""<!DOCTYPE html>
<html lang="en-GB">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width">
<title>{e(version.title)} | Northern Ledger</title>
<link rel="canonical" href="{ctx.story_url(model)}">
<meta property="og:type" content="article">
<meta property="og:title" content="{e(version.title)}">
<meta property="og:url" content="{ctx.story_url(model)}">
{ld}
<link rel="preload" href="/_next/static/chunks/main-5c1e9a.js" as="script">
</head>
<body>
<div id="__next"></div>
<script id="__NEXT_DATA__" type="application/json">{data}</script>
<script src="/_next/static/chunks/main-5c1e9a.js" defer></script>
</body>
</html>
"""


def listing(ctx: Ctx, look: Look, title: str, stories: list[Story], section: str | None) -> str:
    html: str = look.template(ctx.spec.key).listing(ctx, title, stories, 1, 1, section)
    return html


def simple_page(ctx: Ctx, look: Look, title: str, body_html: str, path: str) -> str:
    html: str = look.template(ctx.spec.key).page(ctx, title, body_html, path=path)
    return html


def not_found(ctx: Ctx, look: Look) -> str:
    body = "<p>Sorry, the page you were looking for does not exist or has been removed.</p>"
    return simple_page(ctx, look, "Page not found", body, "/404")


def gone(ctx: Ctx, look: Look, path: str) -> str:
    body = "<p>The page you requested is no longer available on this site.</p>"
    return simple_page(ctx, look, "410 Gone", body, path)


def removal_notice(ctx: Ctx, look: Look, story: LiveStory) -> str:
    """The 200 page a CMS shows in place of a retracted story: no body, no article JSON-LD."""
    body = (
        f"<p>{REMOVED_TITLE}.</p>"
        f"<p>{e(ctx.spec.name)} has removed this article. If you have questions, contact the newsroom.</p>"
    )
    return simple_page(ctx, look, REMOVED_TITLE, body, story.path)
