"""Harbour Times' template: JSON-LD ``@graph``, upper-case bylines, dates as "2023-05-23 09:12 JST".

It also renders the AMP variant of a story (``<html ⚡>`` with a canonical link back) and the
deliberately malformed page (unclosed paragraphs, stray end tags, no closing ``</html>``).
"""

from __future__ import annotations

from pipeline.demo_site.model import Story
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

NAME = "Harbour Times"


def amp_path(story: Story) -> str:
    return story.path.removesuffix(".html") + ".amp.html"


def _chrome(
    ctx: Ctx, title: str, head: str, main: str, *, amp: bool = False, close: bool = True, lang: str = "en"
) -> str:
    nav = " ".join(f'<a href="{ctx.spec.section_path(s)}">{s.title()}</a>' for s in ctx.spec.sections)
    html_tag = f'<html ⚡ lang="{lang}">' if amp else f'<html lang="{lang}">'
    amp_boiler = (
        '<script async src="https://cdn.ampproject.org/v0.js"></script><style amp-boilerplate>body{visibility:hidden}</style>'
        if amp
        else ""
    )
    page = f"""<!DOCTYPE html>
{html_tag}
<head>
<meta charset="UTF-8">
<title>{e(title)} - Harbour Times</title>
{amp_boiler}
{head}
</head>
<body>
<div class="gdpr-notice">This website uses cookies. By continuing to browse you agree to our use of cookies. <button>OK</button></div>
<div class="top-bar"><a class="brand" href="/">HARBOUR TIMES</a> <span class="tagline">News from the waterfront since 1952</span></div>
<div class="menu">{nav} <a href="/about.html">About</a> <a href="/contact.html">Contact</a></div>
<div class="adbox" id="div-gpt-ad-top">ADVERTISEMENT</div>
<div id="content">
{main}
</div>
<div class="mailing-list"><b>Get the Harbour Times morning briefing</b> — the port, the city and the region, every weekday at 7 a.m.</div>
<div id="footer">© Harbour Times Co., Ltd. 2023. All rights reserved. No reproduction or republication without written permission.</div>
"""
    return page + ("</body>\n</html>\n" if close else "")


def _byline(story: Story) -> str:
    names = person_authors(story)
    if not names:
        return f'<div class="author">{e(" ".join(story.authors))} | Harbour Times</div>'
    upper = e(", ".join(n.upper() for n in names))
    if story.malformed:
        return f"<div class=author>By <b><i>{upper}</b></i></div>"
    return f'<div class="author">By {upper}</div>'


def _stamp(ctx: Ctx, story: Story) -> str:
    text = f"Published: {local_time(ctx.spec, story.published):%Y-%m-%d %H:%M} JST"
    modified = story.modified_for(ctx.edition)
    if modified:
        text += f" | Updated: {local_time(ctx.spec, modified):%Y-%m-%d %H:%M} JST"
    return f'<p class="timestamp">{text}</p>'


def article(ctx: Ctx, story: Story, *, amp: bool = False) -> str:
    head = [
        f'<link rel="canonical" href="{ctx.story_url(story)}">',
        f'<meta name="description" content="{e(story.description)}">',
        og_meta(ctx, story, NAME),
        news_article_ld(ctx, story, publisher=NAME, graph=True),
    ]
    if story.amp and not amp:
        head.append(f'<link rel="amphtml" href="{amp_path(story)}">')
    paragraphs = story.paragraphs_for(ctx.edition)
    if story.malformed:
        # Unclosed <p>, stray end tags, unquoted attributes, mis-nested tags in the byline.
        body = "".join(f"<p class=para>{e(p)}\n</span>" for p in paragraphs) + "</div></font>"
    else:
        body = "\n".join(f"<p>{e(p)}</p>" for p in paragraphs)
    links = related_links(ctx, story)
    read_next = ""
    if links and story.variant != 2:
        items = "".join(f'<li><a href="{e(h)}">{e(t)}</a></li>' for h, t in links)
        read_next = f'<div class="read-next"><h4>Read next</h4><ul>{items}</ul></div>'
    figure = ""
    if story.variant == 1:
        figure = (
            f'<div class="photo"><img src="/images/{story.id}.jpg" alt=""><div class="photo-caption">'
            f"The waterfront on a weekday morning. (Harbour Times file photo)</div></div>"
        )
    social = '<div class="sns"><a href="#">LINE</a> <a href="#">X</a> <a href="#">Facebook</a> <a href="#">Hatena</a></div>'
    comments = "" if amp else comments_block(1, "Reader comments", "reader-comments")
    main = f"""<div class="story">
<div class="crumbs"><a href="/">Home</a> &gt; <a href="{ctx.spec.section_path(story.section)}">{story.section.title()}</a></div>
<h1 class="story-title">{e(story.title)}</h1>
{_byline(story)}
{_stamp(ctx, story)}
{social}
{figure}
<div class="story-body">
{body}
</div>
<div class="adbox">ADVERTISEMENT</div>
{read_next}
{comments}
</div>"""
    return _chrome(
        ctx, story.title, "\n".join(head), main, amp=amp, close=not story.malformed, lang=story.language
    )


def listing(ctx: Ctx, title: str, stories: list[Story], page: int, pages: int, section: str | None) -> str:
    def page_path(n: int) -> str:
        return ctx.spec.home_path(n) if section is None else ctx.spec.section_path(section, n)

    rows = "".join(
        f'<div class="headline-row"><span class="d">{local_time(ctx.spec, s.published):%Y-%m-%d}</span> '
        f'<a href="{s.path}">{e(s.title)}</a><p>{e(s.description)}</p></div>'
        for s in stories
    )
    nav = ""
    if page > 1:
        nav += f'<a rel="prev" href="{page_path(page - 1)}">&laquo; Newer</a> '
    if page < pages:
        nav += f'<a rel="next" href="{page_path(page + 1)}">Older &raquo;</a>'
    extra = ""
    if section is None and page == 1:
        extra = "".join(
            f'<li><a href="{w.path}">{e(w.title)}</a></li>' for w in ctx.spec.warts if w.kind != "page"
        )
        extra = f'<div class="pickup"><h3>Pick up</h3><ul>{extra}</ul></div>'
    main = f'<div class="list"><h2>{e(title)}</h2>{rows}<div class="pager">{nav}</div></div>{extra}'
    return _chrome(ctx, title, f'<link rel="canonical" href="{ctx.url(page_path(page))}">', main)


def page(ctx: Ctx, title: str, body_html: str, *, path: str) -> str:
    main = f'<div class="static"><h1>{e(title)}</h1>{body_html}</div>'
    return _chrome(ctx, title, f'<link rel="canonical" href="{ctx.url(path)}">', main)
