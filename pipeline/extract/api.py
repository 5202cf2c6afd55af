"""``extract_article``: raw page -> clean :class:`ExtractedArticle` (or None with a reason).

The HTML is parsed once (:mod:`pipeline.extract.parsing`, trafilatura's loader with a faster
class lookup); metadata is read from that tree first, then the tree is pre-cleaned and handed
to trafilatura (:mod:`pipeline.extract.htmlbody`, ``include_comments=False``, which measured
best), and the resulting lines go through our line cleaning; a body read from JSON may replace
them (:mod:`pipeline.extract.jsonfallback`). After detection has judged that body, the learned
chooser (:mod:`pipeline.extract.chooser`) may replace it with readability's or Resiliparse's on
the few pages where the extractors picked different containers. Nothing here touches the network or the
database, so it runs unchanged in a worker process, a test, or the benchmark. This module only
fixes the order of the steps (each reads what the one before left in the shared tree) and says
what the outcome is; the steps live in their own modules.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pipeline.extract.authors import extract_authors, outlet_keys
from pipeline.extract.charset import decode_html
from pipeline.extract.chooser import Choice, choose
from pipeline.extract.cleaning import LineCleaner, compile_patterns, css_to_xpath, preclean_tree
from pipeline.extract.dates import extract_dates, judge_dates
from pipeline.extract.detection import detect_article
from pipeline.extract.embedded import find_state_scripts
from pipeline.extract.htmlbody import clean_body, drop_headline
from pipeline.extract.jsonfallback import choose_body, fill_from_json
from pipeline.extract.jsonld import parse_jsonld
from pipeline.extract.language import choose_language
from pipeline.extract.metadata import extract_page_meta
from pipeline.extract.notices import (
    FURNITURE_REASON,
    SHELL_REASON,
    SHELL_TEXT_CHARS,
    asks_for_javascript,
    is_furniture_only,
    looks_like_js_shell,
    removal_notice,
)
from pipeline.extract.parsing import MAX_DEPTH, TOO_DEEP, parse_html, too_deep
from pipeline.extract.paywall import page_signals, paywall_flags
from pipeline.records import ExtractedArticle

if TYPE_CHECKING:
    from pipeline.config import Source

EXTRACTOR_VERSION = "newsflow-extract/2.9+trafilatura-2.3"

# trafilatura logs every discarded page at WARNING; those are expected outcomes here.
logging.getLogger("trafilatura").setLevel(logging.ERROR)
logging.getLogger("htmldate").setLevel(logging.ERROR)


@dataclass
class Outcome:
    """What happened to one page: the article, or why there is none."""

    article: ExtractedArticle | None
    status: str  # ok | not_article | empty | removed | error (pathological HTML)
    reason: str | None = None
    detection: tuple[str, ...] = field(default_factory=tuple)
    #: the article detector's score (positive: article); None when the page was not judged
    score: float | None = None
    #: the detector's page signals (its model's features), for training and diagnosis
    signals: dict[str, float] = field(default_factory=dict)
    #: the body chooser's decision and measures (None when it did not look at the page)
    choice: Choice | None = None


def extract_outcome(
    html: str | bytes,
    url: str,
    source: Source | None = None,
    *,
    content_type: str | None = None,
    learned: Collection[str] = frozenset(),
) -> Outcome:
    """Full extraction with the reason when there is no article. Never raises on bad input."""
    if isinstance(html, bytes):
        html, _encoding = decode_html(html, content_type)
    tree = parse_html(html)
    if tree is None:
        return Outcome(None, "empty", "no parsable HTML")
    if too_deep(tree):
        return Outcome(
            None,
            "error",
            f"{TOO_DEEP}: HTML nested {MAX_DEPTH} or more elements deep (pathological page, not extracted)",
        )

    nodes = parse_jsonld(tree)
    meta = extract_page_meta(tree, nodes, url)
    authors = extract_authors(tree, nodes, outlet_keys(meta.site_names), meta.headline_el)
    dates = extract_dates(tree, nodes, url, meta.headline_el)

    state_scripts = find_state_scripts(tree)  # before the pre-clean drops scripts and noscript
    asks_js = asks_for_javascript(tree)
    paywall = page_signals(tree, nodes)  # before the pre-clean drops the gate's markup

    overrides = source.extraction if source is not None else None
    drop_xpaths = css_to_xpath(overrides.drop_selectors) if overrides else []
    precleaned = preclean_tree(tree, drop_xpaths, url)
    cleaner = LineCleaner(
        drop_patterns=compile_patterns(overrides.drop_patterns) if overrides else [],
        learned=learned if (overrides is None or overrides.learn_boilerplate) else frozenset(),
    )
    body = choose_body(
        tree,
        nodes,
        meta,
        state_scripts,
        clean_body(tree, url, precleaned.page_chars, meta.title, cleaner),
        cleaner,
    )
    lines, body_source, html_chars = body.lines, body.source, body.html_chars
    title = meta.title
    if body.found is not None:
        title, authors, dates = fill_from_json(body.found, meta, authors, dates)
    text = "\n\n".join(lines)
    is_paywalled, is_complete = paywall_flags(
        paywall, lines, cleaner.removed, body_from_json=body_source != "html"
    )

    detection = detect_article(
        tree, nodes, url, meta.og_type, text, dates.published is not None, title, body_source=body_source
    )
    # Judged after detection, which counts the date the page shows whatever the model says.
    dates = judge_dates(dates, bool(authors), detection.score)
    # Judged before the chooser: readability mutates the tree, and detection, the removal
    # notice and the shell test keep seeing trafilatura's body (their figures do not move).
    notice = removal_notice(tree, lines) if body_source == "html" else None
    # A client-rendered page whose body is neither in the HTML nor in its JSON (fetched
    # later by XHR): named as such, so the quality gate can report the cause.
    shell = (
        body_source == "html"
        and html_chars < SHELL_TEXT_CHARS
        and looks_like_js_shell(tree, bool(state_scripts), asks_js)
    )
    choice = None
    if body_source == "html" and text and detection.is_article and notice is None and not shell:
        title_for_alt = title  # bound for the lambda (mypy: str | None, not narrowed later)
        alt_cleaner = LineCleaner(drop_patterns=cleaner.drop_patterns, learned=cleaner.learned)
        choice = choose(
            tree,
            lines,
            precleaned.page_chars,
            detection.signals,
            lambda raw: drop_headline(alt_cleaner, alt_cleaner.clean(raw), title_for_alt),
            html,
        )
        if choice.chosen != "trafilatura":
            lines = choice.lines
            text = "\n\n".join(lines)
    article = ExtractedArticle(
        url=url,
        canonical_url=meta.canonical_url,
        title=title,
        text=text,
        authors=authors,
        published_at=dates.published,
        published_from=dates.published_from,
        modified_at=dates.modified,
        modified_from=dates.modified_from,
        language=choose_language(
            meta.language, f"{title or ''}\n{text}", source.language if source else None
        ),
        description=meta.description,
        section=meta.section,
        tags=meta.tags,
        image_url=meta.image_url,
        is_article=detection.is_article,
        is_paywalled=is_paywalled,
        is_complete=is_complete,
        body_source=body_source,
        extractor_version=EXTRACTOR_VERSION,
        removed_lines=[*precleaned.removed, *cleaner.removed][:200],
        links=precleaned.links,
    )
    if notice is not None:
        article.is_article = False
        return Outcome(
            article,
            "removed",
            f"story-removed notice: '{notice}'",
            detection.reasons,
            detection.score,
            detection.signals,
        )
    if not text:
        return Outcome(
            article,
            "empty",
            SHELL_REASON if shell else "no main text found",
            detection.reasons,
            detection.score,
            detection.signals,
        )
    if shell:
        article.is_article = False
        return Outcome(
            article,
            "not_article",
            f"{SHELL_REASON} ({', '.join(detection.reasons)})",
            detection.reasons,
            detection.score,
            detection.signals,
        )
    if not detection.is_article:
        reason = f"not an article page (score {detection.score:+.2f}): " + ", ".join(detection.reasons)
        return Outcome(article, "not_article", reason, detection.reasons, detection.score, detection.signals)
    if is_furniture_only(text):
        # An article page whose CMS rendered the chrome around an empty body container:
        # trafilatura falls back to headline, byline and share buttons. Storing that would
        # overwrite the story; "empty" makes it a lost article the quality gate reports.
        return Outcome(
            article, "empty", FURNITURE_REASON, detection.reasons, detection.score, detection.signals, choice
        )
    return Outcome(article, "ok", None, detection.reasons, detection.score, detection.signals, choice)


def extract_article(
    html: str | bytes,
    url: str,
    source: Source | None = None,
    *,
    content_type: str | None = None,
    learned: Collection[str] = frozenset(),
) -> ExtractedArticle | None:
    """The clean article, or None for non-article/empty pages (see :func:`extract_outcome`)."""
    outcome = extract_outcome(html, url, source, content_type=content_type, learned=learned)
    return outcome.article if outcome.status == "ok" else None
