"""The body from the HTML: trafilatura's lines for the pre-cleaned tree, through our line cleaner.

Recall first: trafilatura's recall mode keeps whole sections that its default (balanced)
mode cuts when a container looks link-heavy or list-like, and it skips the readability
comparison on long texts, so it is also the cheaper run. Its known failure is the opposite
one: on some layouts it settles on a small container. So a result that covers little of the
text the page offers (or is empty) is re-run in the default mode and the longer of the two
wins. Measured on WCXB dev against "default, retried in recall mode when short": +0.003 F1
and ~12 % less time.

Shortness alone is no sign of a truncated body: a news brief is short and so is all the text
its page offers. Until extractor 2.4 a result under 1,000 characters was re-run too; on the
WCXB dev articles that fired on 3 pages with a fair share of the page's text (30-36 %) and the
default mode never found more, while on short pages (the demo network's briefs, 40-70 % of
their page's text) it ran trafilatura twice on most pages: 12.7 against 7.9 ms of CPU per page.
"""

from __future__ import annotations

from typing import Any

from lxml.html import HtmlElement

from pipeline.extract.cleaning import LineCleaner

try:  # the cascade behind bare_extraction, without its defensive deep copy (trafilatura 2.3)
    from trafilatura.core import trafilatura_sequence as _sequence
except ImportError:  # pragma: no cover
    _sequence = None  # type: ignore[assignment]

FALLBACK_PAGE_SHARE = 0.3


def run_trafilatura(tree: HtmlElement, url: str, *, favor_recall: bool) -> tuple[list[str], Any]:
    """Trafilatura's text lines for ``tree`` and its output body (which element made each line).

    Trafilatura may prune ``tree`` in place (comment sections).

    ``bare_extraction`` deep-copies a tree it is handed; we own this one and only ever need
    it pruned the same way again, so the cascade is run directly (saves a copy per page).
    """
    from trafilatura.settings import Extractor
    from trafilatura.xml import xmltotxt

    try:
        options = Extractor(
            output_format="python",
            fast=False,  # fast mode skips the fallbacks: measured worse on both F1 and boilerplate
            recall=favor_recall,
            comments=False,
            tables=True,
            images=False,
            links=False,
            url=url,
        )
        if _sequence is None:  # a trafilatura without the internal helper (tested)
            return _run_bare_extraction(tree, url, options)
        body, text, _comments, _comment_text = _sequence(tree, options, url)
        if len(text) < options.min_output_size:
            return [], None
        return (xmltotxt(body, options.formatting) or "").split("\n"), body
    except Exception:
        return [], None


def _run_bare_extraction(tree: HtmlElement, url: str, options: Any) -> tuple[list[str], Any]:
    from trafilatura import bare_extraction

    document = bare_extraction(tree, url=url, options=options)
    # bare_extraction already serialised the body to text (python output format): reuse it.
    return (getattr(document, "text", None) or "").split("\n"), getattr(document, "body", None)


def size(lines: list[str]) -> int:
    """Characters in ``lines`` (the measure every body comparison uses)."""
    return sum(len(line) for line in lines)


def body_lines(tree: HtmlElement, url: str, page_chars: int) -> tuple[list[str], Any]:
    """Trafilatura's body lines (and output body): recall mode, default mode when that looks truncated."""
    lines, body = run_trafilatura(tree, url, favor_recall=True)
    chars = size(lines)
    if not chars or chars < FALLBACK_PAGE_SHARE * page_chars:
        balanced, balanced_body = run_trafilatura(tree, url, favor_recall=False)
        if size(balanced) > chars:
            return balanced, balanced_body
    return lines, body


def clean_body(
    tree: HtmlElement, url: str, page_chars: int, title: str | None, cleaner: LineCleaner
) -> list[str]:
    """Trafilatura's body lines through the rule cleaner, without a repeated headline.

    A learned line classifier was tried in this place and rejected by cross-validation
    (``benchmarks/train_lines.py``); it lives in ``benchmarks/`` as an experiment.
    """
    raw, _body = body_lines(tree, url, page_chars)
    return drop_headline(cleaner, cleaner.clean(raw), title)


def drop_headline(cleaner: LineCleaner, lines: list[str], title: str | None) -> list[str]:
    """The headline repeated as the first body line is not body text."""
    if lines and title and lines[0].casefold() == title.casefold():
        cleaner.removed.append(lines[0])
        return lines[1:]
    return lines
