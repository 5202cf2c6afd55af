"""When a body read from JSON replaces the HTML one, and what it fills in.

Bodies in JSON are a fallback: a JSON body (JSON-LD ``articleBody``, then framework state)
replaces the HTML one only when it is at least :data:`JSON_BODY_MIN_GAIN` times longer, i.e.
when trafilatura found nothing, a teaser, or a fragment of the declared article. A page whose
HTML body trafilatura found is never touched, whatever its JSON says, and a state script too
short to hold such a body is not even parsed. The readers themselves live in
:mod:`pipeline.extract.jsonbody`; this module only decides between the bodies.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lxml.html import HtmlElement

from pipeline.extract.authors import clean_authors, outlet_keys
from pipeline.extract.cleaning import LineCleaner
from pipeline.extract.dates import Dates, parse_date
from pipeline.extract.embedded import StateScript
from pipeline.extract.htmlbody import drop_headline, size
from pipeline.extract.jsonbody import JsonBody, embedded_body, jsonld_body, page_title_texts
from pipeline.extract.metadata import PageMeta
from pipeline.records import BodySource

JSON_BODY_MIN_GAIN = 2.0
#: Framework state (a parse and a walk of up to megabytes) is read only when the HTML gave less
#: than this; JSON-LD, already parsed, is compared on every page that declares a body.
STATE_BELOW_HTML_CHARS = 2000


@dataclass
class Body:
    """The body kept, where it came from, and the JSON object it came from (if any)."""

    lines: list[str]
    source: BodySource
    #: the HTML body's characters as compared with the JSON one (0 when the JSON body is the
    #: HTML one's own text in paragraphs: then any JSON body wins)
    html_chars: int
    found: JsonBody | None = None


def _json_body(
    tree: HtmlElement,
    nodes: list[dict[str, Any]],
    meta: PageMeta,
    scripts: list[StateScript],
    html_chars: int,
) -> JsonBody | None:
    """The body from JSON-LD ``articleBody``, else the framework state, when it beats the HTML."""
    needed = JSON_BODY_MIN_GAIN * html_chars
    big_scripts = [s for s in scripts if len(s.text) >= needed] if html_chars < STATE_BELOW_HTML_CHARS else []
    if not big_scripts and not any("articleBody" in node for node in nodes):
        return None
    titles = page_title_texts(tree, meta.meta, meta.title)
    found = jsonld_body(nodes, titles, meta.site_names)
    if found is not None and found.chars >= needed:
        return found
    found = embedded_body(big_scripts, titles, meta.site_names) if big_scripts else None
    return found if found is not None and found.chars >= needed else None


def _same_words(a: list[str], b: list[str]) -> bool:
    return " ".join(" ".join(a).split()) == " ".join(" ".join(b).split())


def choose_body(
    tree: HtmlElement,
    nodes: list[dict[str, Any]],
    meta: PageMeta,
    scripts: list[StateScript],
    lines: list[str],
    cleaner: LineCleaner,
) -> Body:
    """The HTML body ``lines``, or the JSON body when it is longer (see the module docstring)."""
    html_chars = size(lines)
    found = _json_body(tree, nodes, meta, scripts, html_chars)
    if found is None and lines and any("articleBody" in node for node in nodes):
        # trafilatura's own last resort reads JSON-LD articleBody as one flat paragraph: say
        # so, and keep the paragraphs the JSON has.
        declared = jsonld_body(nodes, [], meta.site_names)
        if declared is not None and len(declared.lines) > len(lines) and _same_words(declared.lines, lines):
            found, html_chars = declared, 0
    if found is not None:
        json_lines = drop_headline(cleaner, cleaner.clean(found.lines), meta.title or found.title)
        if size(json_lines) > html_chars:
            source: BodySource = "embedded_state" if found.source == "embedded_state" else "jsonld"
            return Body(json_lines, source, html_chars, found)
    return Body(lines, "html", html_chars)


def fill_from_json(
    found: JsonBody, meta: PageMeta, authors: list[str], dates: Dates
) -> tuple[str | None, list[str], Dates]:
    """Title, authors and dates the JSON object declares, for those the page itself lacks."""
    title = meta.title or found.title
    if not authors and found.authors:
        authors = clean_authors(found.authors, outlet_keys(meta.site_names))
    published, modified = parse_date(found.published), parse_date(found.modified)
    if dates.published is None and published is not None:
        dates = replace(dates, published=published, published_from="embedded")
    if dates.modified is None and modified is not None:
        dates = replace(dates, modified=modified, modified_from="embedded")
    return title, authors, dates
