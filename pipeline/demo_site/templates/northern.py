"""Northern Ledger's template: a British daily with ``<time>`` elements and no JSON-LD.

Dates appear as "Mon 22 May 2023 21.40 BST" inside ``<time datetime=…>``, metadata comes
from ``article:*`` meta tags, bylines read "A and B in Kyiv", and "More stories", a support
box and a comment thread surround the body. Non-UTF-8 pages (windows-1251) reuse it.
"""

from __future__ import annotations

from pipeline.demo_site.model import Story
from pipeline.demo_site.templates.common import (
    Ctx,
    comments_block,
    e,
    local_time,
    og_meta,
    person_authors,
    related_links,
)

NAME = "Northern Ledger"


def _stamp(ctx: Ctx, story: Story) -> str:
    def one(label: str, when_utc: str, local_text: str) -> str:
        return f'<span class="{label}"><time datetime="{when_utc}">{local_text}</time></span>'

    local = local_time(ctx.spec, story.published)
    text = one("published", story.published.isoformat(), local.strftime("%a %d %b %Y %H.%M %Z"))
    modified = story.modified_for(ctx.edition)
    if modified:
        local_mod = local_time(ctx.spec, modified)
        text += " Last modified on " + one(
            "modified", modified.isoformat(), local_mod.strftime("%a %d %b %Y %H.%M %Z")
        )
    return f'<div class="dateline">{text}</div>'


def _chrome(
    ctx: Ctx, title: str, head: str, main: str, *, lang: str = "en-GB", charset: str = "utf-8"
) -> str:
    nav = "".join(
        f'<li><a href="{ctx.url(ctx.spec.section_path(s))}">{s.title() if s != "uk" else "UK"}</a></li>'
        for s in ctx.spec.sections
    )
    meta_charset = (
        f'<meta http-equiv="Content-Type" content="text/html; charset={charset}">'
        if charset != "utf-8"
        else '<meta charset="utf-8">'
    )
    return f"""<!doctype html>
<html lang="{lang}">
<head>
{meta_charset}
<title>{e(title)} | Northern Ledger</title>
{head}
<link rel="alternate" type="application/atom+xml" href="/atom.xml" title="Northern Ledger">
</head>
<body>
<div class="consent-banner"><p>Northern Ledger and our partners use cookies to improve your experience. You can change your choices at any time via Privacy settings.</p><a href="#">Yes, I'm happy</a> <a href="#">Manage my cookies</a></div>
<header role="banner"><div class="masthead"><a href="{ctx.base}/">Northern Ledger</a></div><div class="support-strip">Support independent journalism. <a href="#">Support us</a></div>
<nav aria-label="sections"><ul><li><a href="{ctx.base}/">News</a></li>{nav}</ul></nav></header>
<div class="ad-slot ad-slot--top">Advertisement</div>
<main>
{main}
</main>
<footer><div class="footer-links"><a href="/about-us">About us</a> | <a href="/contact">Contact us</a> | <a href="#">Complaints &amp; corrections</a> | <a href="#">Terms &amp; conditions</a></div>
<p>© 2023 Northern Ledger Media Group Limited or its affiliated companies. All rights reserved.</p></footer>
</body>
</html>
"""


def _byline(story: Story) -> str:
    names = person_authors(story)
    joined = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + (names[-1] if names else "")
    if not names:
        joined = " ".join(story.authors)
    where = f" in {e(story.dateline)}" if story.dateline else ""
    role = f'<span class="role">{e(story.role)}</span>' if story.role and len(names) == 1 else ""
    return f'<address class="byline" rel="author">{e(joined)}{where}</address>{role}'


def article(ctx: Ctx, story: Story, *, amp: bool = False) -> str:
    head = "\n".join(
        [
            f'<link rel="canonical" href="{ctx.story_url(story)}">',
            f'<meta name="description" content="{e(story.description)}">',
            f'<meta name="author" content="{e(", ".join(story.authors))}">',
            og_meta(ctx, story, NAME),
        ]
    )
    paragraphs = story.paragraphs_for(ctx.edition)
    body = "\n".join(f"<p>{e(p)}</p>" for p in paragraphs)
    if story.paywall:
        body += (
            '\n<div class="paywall-gate"><h3>This article is for subscribers</h3>'
            "<p>Subscribe to continue reading. Get unlimited access to Northern Ledger journalism from £1 a week.</p>"
            '<a href="#">Subscribe now</a> <a href="#">Already a subscriber? Sign in</a></div>'
        )
    links = related_links(ctx, story, absolute=True)
    more = ""
    if links:
        items = "".join(f'<li><a href="{e(h)}">{e(t)}</a></li>' for h, t in links)
        more = f'<aside class="more-stories"><h2>More stories</h2><ul>{items}</ul></aside>'
    kicker = "UK news" if story.section == "uk" else f"{story.section.title()} news"
    main = f"""<article>
<header class="content-header"><a class="kicker" href="{ctx.url(ctx.spec.section_path(story.section))}">{kicker}</a>
<h1>{e(story.title)}</h1>
<div class="standfirst">{e(story.description)}</div></header>
<div class="meta">{_byline(story)}{_stamp(ctx, story)}
<div class="share"><a href="#">Share on Facebook</a> <a href="#">Share on Twitter</a> <a href="#">Share via Email</a></div></div>
<div class="article-body" itemprop="articleBody">
{body}
</div>
<div class="contributions-epic"><p>… we have a small favour to ask. Millions turn to the Northern Ledger for open, independent, quality news every day. If you can, please support us from just £2.</p><a href="#">Support the Northern Ledger</a></div>
<div class="newsletter"><h3>Sign up to First Edition</h3><p>Our free daily newsletter: the day's top stories sent direct to you every weekday morning.</p></div>
{more}
{comments_block(3, "Comments (42)")}
</article>"""
    lang = "ru" if story.language == "ru" else "en-GB"
    charset = "windows-1251" if story.charset == "windows-1251" else "utf-8"
    return _chrome(ctx, story.title, head, main, lang=lang, charset=charset)


def listing(ctx: Ctx, title: str, stories: list[Story], page: int, pages: int, section: str | None) -> str:
    def page_url(n: int) -> str:
        path = ctx.spec.home_path(n) if section is None else ctx.spec.section_path(section, n)
        return ctx.url(path)

    cards = "".join(
        f'<li class="fc-item"><a class="fc-item__link" href="{ctx.story_url(s)}"><span class="fc-item__headline">'
        f'{e(s.title)}</span></a><div class="fc-item__standfirst">{e(s.description)}</div>'
        f'<time datetime="{s.published.isoformat()}">{local_time(ctx.spec, s.published):%d %b %Y}</time></li>'
        for s in stories
    )
    nav = ""
    if page > 1:
        nav += f'<a rel="prev" href="{page_url(page - 1)}">Newer</a> '
    if page < pages:
        nav += f'<a rel="next" href="{page_url(page + 1)}">Older</a>'
    rail = ""
    if section is None and page == 1:
        items = "".join(
            f'<li><a href="{ctx.url(w.path)}">{e(w.title)}</a></li>'
            for w in ctx.spec.warts
            if w.kind != "page" or "latest" in w.path
        )
        rail = f'<aside class="most-viewed"><h2>Most viewed</h2><ol>{items}</ol></aside>'
    main = f'<section class="fc-container"><h1>{e(title)}</h1><ul>{cards}</ul><div class="pagination">{nav}</div></section>{rail}'
    return _chrome(ctx, title, f'<link rel="canonical" href="{page_url(page)}">', main)


def page(ctx: Ctx, title: str, body_html: str, *, path: str) -> str:
    main = f'<div class="content"><h1>{e(title)}</h1>{body_html}</div>'
    return _chrome(ctx, title, f'<link rel="canonical" href="{ctx.url(path)}">', main)
