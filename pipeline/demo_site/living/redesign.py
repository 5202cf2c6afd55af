"""The redesigned Harbour Times (from mid-month): same URLs, new markup and class names.

A redesign is not a breakage: the article is still a plain HTML ``<article>`` with its
paragraphs, so a generic extractor keeps working while any selector tuned to the old
``story-body``/``headline-row`` classes does not. That is the realistic case the gate must
*not* alarm on (unlike the broken template or the JavaScript shells).
"""

from __future__ import annotations

from pipeline.demo_site.model import Story
from pipeline.demo_site.templates.common import Ctx, e, local_time, news_article_ld, og_meta, person_authors

NAME = "Harbour Times"


def _chrome(ctx: Ctx, title: str, head: str, main: str) -> str:
    nav = "".join(
        f'<li class="c-nav__item"><a class="c-nav__link" href="{ctx.spec.section_path(s)}">{s.title()}</a></li>'
        for s in ctx.spec.sections
    )
    return f"""<!DOCTYPE html>
<html lang="en" class="ht-2026">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} | Harbour Times</title>
{head}
<link rel="stylesheet" href="/static/site.css">
</head>
<body class="l-page">
<div class="c-consent" role="dialog"><p>We and our partners use cookies to measure and improve the site.</p><button class="c-consent__ok">Accept</button></div>
<header class="l-header"><a class="c-brand" href="/">Harbour Times</a>
<nav class="c-nav"><ul class="c-nav__list">{nav}</ul></nav></header>
<main class="l-main">
{main}
</main>
<section class="c-briefing"><h2 class="c-briefing__title">The Morning Harbour</h2><p>The port, the city and the region in five minutes, every weekday.</p></section>
<footer class="l-footer"><p class="c-legal">© Harbour Times Co., Ltd. All rights reserved.</p></footer>
</body>
</html>
"""


def article(ctx: Ctx, story: Story) -> str:
    head = "\n".join(
        [
            f'<link rel="canonical" href="{ctx.story_url(story)}">',
            f'<meta name="description" content="{e(story.description)}">',
            og_meta(ctx, story, NAME),
            news_article_ld(ctx, story, publisher=NAME, graph=True),
        ]
    )
    names = ", ".join(person_authors(story)) or " ".join(story.authors)
    published = local_time(ctx.spec, story.published)
    stamp = f'<time class="c-meta__date" datetime="{story.published.isoformat()}">{published:%d %b %Y, %H:%M}</time>'
    modified = story.modified_for(1)
    if modified:
        stamp += (
            f' <span class="c-meta__updated">Updated <time datetime="{modified.isoformat()}">'
            f"{local_time(ctx.spec, modified):%d %b %Y, %H:%M}</time></span>"
        )
    body = "\n".join(f'<p class="c-article__para">{e(p)}</p>' for p in story.paragraphs_for(1))
    main = f"""<article class="c-article">
<a class="c-article__section" href="{ctx.spec.section_path(story.section)}">{story.section.title()}</a>
<h1 class="c-article__headline">{e(story.title)}</h1>
<div class="c-meta"><span class="c-meta__author">{e(names)}</span> {stamp}</div>
<div class="c-article__content">
{body}
</div>
<aside class="c-share"><button>Share</button></aside>
</article>"""
    return _chrome(ctx, story.title, head, main)


def listing(ctx: Ctx, title: str, stories: list[Story], page: int, pages: int, section: str | None) -> str:
    path = ctx.spec.home_path(page) if section is None else ctx.spec.section_path(section, page)
    cards = "".join(
        f'<li class="c-card"><a class="c-card__link" href="{s.path}"><h3 class="c-card__title">{e(s.title)}</h3></a>'
        f'<p class="c-card__summary">{e(s.description)}</p>'
        f'<time class="c-card__date" datetime="{s.published.isoformat()}">{local_time(ctx.spec, s.published):%d %b}</time></li>'
        for s in stories
    )
    main = f'<section class="c-stream"><h1 class="c-stream__title">{e(title)}</h1><ul class="c-stream__list">{cards}</ul></section>'
    return _chrome(ctx, title, f'<link rel="canonical" href="{ctx.url(path)}">', main)


def page(ctx: Ctx, title: str, body_html: str, *, path: str) -> str:
    main = f'<section class="c-static"><h1 class="c-static__title">{e(title)}</h1>{body_html}</section>'
    return _chrome(ctx, title, f'<link rel="canonical" href="{ctx.url(path)}">', main)
