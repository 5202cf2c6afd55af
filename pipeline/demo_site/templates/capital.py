"""The Capital Examiner's template: a Washington politics site with in-body promos.

Modelled on the seed story's real layout: lead photo with caption and credit, a "Video Embed"
block, an all-caps promo link paragraph inside the body, a "CLICK HERE TO READ MORE" line, a
copyright line and a "Related Content" block at the end of the body. JSON-LD ``NewsArticle``
and OpenGraph, dates as plain text in US Eastern time, no ``<time>`` elements.
"""

from __future__ import annotations

from pipeline.demo_site.model import InlineLink, Story
from pipeline.demo_site.templates.common import (
    Ctx,
    comments_block,
    e,
    local_time,
    news_article_ld,
    og_meta,
    person_authors,
    related_links,
)

NAME = "The Capital Examiner"


def _date(ctx: Ctx, story: Story) -> str:
    local = local_time(ctx.spec, story.published)
    text = local.strftime("%B %d, %Y %I:%M %p")
    modified = story.modified_for(ctx.edition)
    if modified:
        text += " · Updated " + local_time(ctx.spec, modified).strftime("%B %d, %Y %I:%M %p")
    return text


def _chrome(ctx: Ctx, title: str, head: str, main: str, body_class: str) -> str:
    nav = "".join(f'<li><a href="{ctx.spec.section_path(s)}">{s.title()}</a></li>' for s in ctx.spec.sections)
    return f"""<!DOCTYPE html>
<html lang="en-US">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} | Capital Examiner</title>
{head}
<link rel="alternate" type="application/rss+xml" title="Capital Examiner" href="/feed.rss">
<link rel="stylesheet" href="/static/site.css">
<script async src="/static/ads.js"></script>
</head>
<body class="{body_class}">
<div id="cookie-consent" class="cookie-banner" role="dialog"><p>We use cookies to personalize content and ads, to provide social media features and to analyze our traffic.</p><button type="button">Accept all</button> <button type="button">Manage preferences</button></div>
<header class="site-header"><a class="logo" href="/">The Capital Examiner</a>
<nav class="main-nav"><ul><li><a href="/">Home</a></li>{nav}<li><a href="/about/">About</a></li><li><a href="/contact/">Contact</a></li></ul></nav>
<a class="subscribe-button" href="#">Subscribe</a></header>
<div class="ad ad-leaderboard" data-slot="top"><span class="ad-label">Advertisement</span></div>
<main id="main-content">
{main}
</main>
<aside class="newsletter-signup"><h3>Sign up for the Daily Examiner newsletter</h3><p>The day's top political stories in your inbox every morning.</p><form><input type="email" placeholder="Email address"><button>Sign up</button></form></aside>
<footer class="site-footer"><ul><li><a href="/about/">About Us</a></li><li><a href="/contact/">Contact</a></li><li><a href="#">Privacy Policy</a></li><li><a href="#">Terms of Use</a></li></ul>
<p class="copyright">© 2023 Capital Examiner. All rights reserved.</p></footer>
</body>
</html>
"""


def _body(ctx: Ctx, story: Story) -> str:
    """Body paragraphs with the outlet's in-body boilerplate placed among them."""
    paragraphs = story.paragraphs_for(ctx.edition)
    promo, promo_href = story.promo, "#"
    if promo is not None and promo.target:
        promo_href = ctx.catalog.get(f"{story.outlet}:{promo.target}").path
    elif promo is None and not story.seed and len(paragraphs) > 3:
        target = next((r for r in ctx.catalog.related(story, ctx.edition) if r.outlet == story.outlet), None)
        if target is not None:
            promo, promo_href = InlineLink(after=2, text=target.title.upper()), target.path
    click = story.click_here or InlineLink(
        after=len(paragraphs), text="CLICK HERE TO READ MORE FROM THE CAPITAL EXAMINER"
    )
    parts: list[str] = []
    for i, para in enumerate(paragraphs, start=1):
        parts.append(f"<p>{e(para)}</p>")
        if promo is not None and promo.after == i:
            parts.append(f'<p><a href="{promo_href}"><strong>{e(promo.text)}</strong></a></p>')
        if click.after == i:
            parts.append(f'<p><a href="/"><strong>{e(click.text)}</strong></a></p>')
    parts.append(f"<p>{e(story.copyright or '© 2023 Capital Examiner')}</p>")
    return "\n".join(parts)


def article(ctx: Ctx, story: Story, *, amp: bool = False) -> str:
    canonical = ctx.story_url(story)
    head = "\n".join(
        [
            f'<link rel="canonical" href="{canonical}">',
            f'<meta name="description" content="{e(story.description)}">',
            og_meta(ctx, story, NAME),
            news_article_ld(ctx, story, publisher=NAME),
        ]
    )
    authors = person_authors(story)
    names = " and ".join(f'<a rel="author" href="#">{e(a)}</a>' for a in authors) or "Examiner Staff"
    role = f", {e(story.role)}" if story.role else ""
    blocks: list[str] = [
        f'<div class="breadcrumbs"><a href="{ctx.spec.section_path(story.section)}">{story.section.title()}</a></div>',
        f'<h1 class="headline">{e(story.title)}</h1>',
    ]
    if story.dek:
        blocks.append(f'<p class="dek">{e(story.dek)}</p>')
    blocks.append(f'<div class="byline">By {names}{role}</div>')
    blocks.append(f'<div class="published-date">{_date(ctx, story)}</div>')
    blocks.append(
        '<ul class="share-tools"><li><a href="#" class="share-facebook">Facebook</a></li>'
        '<li><a href="#" class="share-twitter">Twitter</a></li><li><a href="#">Email</a></li>'
        '<li><a href="#">Print this article</a></li></ul>'
    )
    if story.figure or story.variant == 1:
        alt = story.figure.alt if story.figure else story.section.title()
        caption = story.figure.caption if story.figure else f"A file photo related to {story.title.lower()}."
        credit = story.figure.credit if story.figure else "Examiner file photo"
        blocks.append(
            f'<figure class="lead-image"><img src="/images/{story.id}.jpg" alt="{e(alt)}" width="1200" height="800">'
            f'<figcaption><p>{e(alt)}</p><p class="caption">{e(caption)} <span class="credit">{e(credit)}</span></p>'
            "</figcaption></figure>"
        )
    if story.video_embed:
        blocks.append(
            f'<div class="video-embed"><p class="video-title">{e(story.title)}</p><p>Video Embed</p></div>'
        )
    blocks.append(f'<div class="article-body">\n{_body(ctx, story)}\n</div>')
    links = related_links(ctx, story)
    if links:
        items = "".join(f'<li><a href="{e(h)}">{e(t)}</a></li>' for h, t in links)
        blocks.append(f'<section class="related-content"><h2>Related Content</h2><ul>{items}</ul></section>')
    blocks.append('<div class="ad ad-inline"><span class="ad-label">Advertisement</span></div>')
    if story.variant != 2:
        blocks.append(comments_block(2, "Comments"))
    main = '<article class="article">\n' + "\n".join(blocks) + "\n</article>"
    return _chrome(ctx, story.title, head, main, "single-article")


def listing(ctx: Ctx, title: str, stories: list[Story], page: int, pages: int, section: str | None) -> str:
    cards = "".join(
        f'<li class="story-card"><h2><a href="{s.path}">{e(s.title)}</a></h2><p class="teaser">{e(s.description)}</p>'
        f'<span class="date">{local_time(ctx.spec, s.published):%b %d, %Y}</span></li>'
        for s in stories
    )
    nav = []

    def page_path(n: int) -> str:
        return ctx.spec.home_path(n) if section is None else ctx.spec.section_path(section, n)

    if page > 1:
        nav.append(f'<a rel="prev" href="{page_path(page - 1)}">Previous</a>')
    if page < pages:
        nav.append(f'<a rel="next" href="{page_path(page + 1)}">Next page</a>')
    rail = ""
    if section is None and page == 1:
        rail = _rail(ctx)
    main = (
        f'<section class="listing"><h1>{e(title)}</h1><ul class="stories">{cards}</ul>'
        f'<nav class="pagination">{" ".join(nav)}</nav></section>{rail}'
    )
    return _chrome(ctx, title, f'<link rel="canonical" href="{ctx.url(page_path(page))}">', main, "listing")


def _rail(ctx: Ctx) -> str:
    items = []
    for i, wart in enumerate(w for w in ctx.spec.warts if w.kind != "page" or "video" in w.path):
        href = wart.path + ("?utm_source=homepage&utm_medium=rail" if i == 0 else "")
        items.append(f'<li><a href="{href}">{e(wart.title)}</a></li>')
    return f'<aside class="most-read"><h2>Most Read</h2><ol>{"".join(items)}</ol></aside>'


def page(ctx: Ctx, title: str, body_html: str, *, path: str) -> str:
    main = f'<div class="page"><h1>{e(title)}</h1>{body_html}</div>'
    return _chrome(ctx, title, f'<link rel="canonical" href="{ctx.url(path)}">', main, "page")
