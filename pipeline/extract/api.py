"""``extract_article``: raw page -> clean :class:`ExtractedArticle` (or None with a reason).

The HTML is parsed once (lxml via trafilatura's loader); metadata is read from that tree
first, then the tree is pre-cleaned and handed to trafilatura (``include_comments=False``,
which measured best), and the resulting lines go through our line cleaning. After detection
has judged that body, the learned chooser (:mod:`pipeline.extract.chooser`) may replace it with
readability's on the few pages where the two extractors picked different containers. Nothing
here touches the network or the database, so it runs unchanged in a worker process, a test, or
the benchmark. The module is past 400 lines because ``extract_outcome`` is the one place that
fixes the order of the steps (each reads what the one before left in the shared tree); the
steps themselves live in their own modules.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from lxml.html import HtmlElement

from pipeline.extract.authors import clean_authors, extract_authors, outlet_keys
from pipeline.extract.charset import decode_html
from pipeline.extract.chooser import Choice, choose
from pipeline.extract.cleaning import LineCleaner, compile_patterns, css_to_xpath, preclean_tree
from pipeline.extract.dates import Dates, extract_dates, judge_dates, parse_date
from pipeline.extract.detection import detect_article
from pipeline.extract.embedded import StateScript, find_state_scripts
from pipeline.extract.jsonbody import JsonBody, embedded_body, jsonld_body, page_title_texts
from pipeline.extract.jsonld import parse_jsonld
from pipeline.extract.language import choose_language
from pipeline.extract.metadata import PageMeta, extract_page_meta
from pipeline.extract.notices import asks_for_javascript, looks_like_js_shell, removal_notice
from pipeline.extract.paywall import page_signals, paywall_flags
from pipeline.records import BodySource, ExtractedArticle

if TYPE_CHECKING:
    from pipeline.config import Source

EXTRACTOR_VERSION = "newsflow-extract/2.3+trafilatura-2.3"
MAX_HTML_CHARS = 8_000_000

try:  # the cascade behind bare_extraction, without its defensive deep copy (trafilatura 2.3)
    from trafilatura.core import trafilatura_sequence as _sequence
except ImportError:  # pragma: no cover
    _sequence = None  # type: ignore[assignment]

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


#: Elements nested deeper than this make a page pathological: real pages stay under ~60, and
#: libxml2 silently drops everything below depth 255, which once stored a byline as the text.
MAX_DEPTH = 200
TOO_DEEP = "too_deep"


def nesting_depth(tree: HtmlElement, limit: int = MAX_DEPTH) -> int:
    """The tree's depth, counted up to ``limit`` (an iterative walk, linear in the elements)."""
    stack = [(tree, 1)]
    deepest = 0
    while stack:
        element, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest >= limit:
            return deepest
        stack.extend((child, depth + 1) for child in element)
    return deepest


def too_deep(tree: HtmlElement, limit: int = MAX_DEPTH) -> bool:
    """Whether any node sits ``limit`` or more levels deep (``nesting_depth(tree) >= limit``).

    One XPath of ``limit`` child steps, evaluated in C: each step's node set holds one depth
    level, so the cost is linear in the elements without a Python visit per element.
    """
    if limit <= 1:
        return True
    root = tree.getroottree().getroot()
    path = "/*" * (limit - 1) + "/node()[not(self::text())]"
    return bool(root.xpath(f"boolean({path})")) if root is tree else nesting_depth(tree, limit) >= limit


def _parse(html: str) -> HtmlElement | None:
    from trafilatura.utils import load_html

    if not html or not html.strip():
        return None
    try:
        tree = load_html(html[:MAX_HTML_CHARS])
    except Exception:
        return None
    return tree if isinstance(tree, HtmlElement) else None


# Recall first: trafilatura's recall mode keeps whole sections that its default (balanced)
# mode cuts when a container looks link-heavy or list-like, and it skips the readability
# comparison on long texts, so it is also the cheaper run. Its known failure is the
# opposite one: on some layouts it settles on a small container. So a short result, or one
# that covers little of the text the page offers, is re-run in the default mode and the
# longer of the two wins. Measured on WCXB dev against "default, retried in recall mode
# when short": +0.003 F1 and ~12 % less time.
FALLBACK_CHARS = 1000
FALLBACK_PAGE_SHARE = 0.3


def _run_trafilatura(tree: HtmlElement, url: str, *, favor_recall: bool) -> tuple[list[str], Any]:
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


def _size(lines: list[str]) -> int:
    return sum(len(line) for line in lines)


# Bodies in JSON are a fallback: a JSON body (JSON-LD ``articleBody``, then framework state)
# replaces the HTML one only when it is at least JSON_BODY_MIN_GAIN times longer, i.e. when
# trafilatura found nothing, a teaser, or a fragment of the declared article. A page whose
# HTML body trafilatura found is never touched, whatever its JSON says, and a state script
# too short to hold such a body is not even parsed.
JSON_BODY_MIN_GAIN = 2.0
#: Framework state (a parse and a walk of up to megabytes) is read only when the HTML gave less
#: than this; JSON-LD, already parsed, is compared on every page that declares a body.
STATE_BELOW_HTML_CHARS = 2000
#: Below this many characters of HTML text a page with framework markers is a JavaScript shell.
SHELL_TEXT_CHARS = 200
SHELL_REASON = "JavaScript shell: no body text in the HTML or its embedded JSON"


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


def _fill_from_json(
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


def _body_lines(tree: HtmlElement, url: str, page_chars: int) -> tuple[list[str], Any]:
    """Trafilatura's body lines (and output body): recall mode, default mode when that looks truncated."""
    lines, body = _run_trafilatura(tree, url, favor_recall=True)
    size = _size(lines)
    if size < FALLBACK_CHARS or size < FALLBACK_PAGE_SHARE * page_chars:
        balanced, balanced_body = _run_trafilatura(tree, url, favor_recall=False)
        if _size(balanced) > size:
            return balanced, balanced_body
    return lines, body


def _clean_body(
    tree: HtmlElement, url: str, page_chars: int, title: str | None, cleaner: LineCleaner
) -> list[str]:
    """Trafilatura's body lines through the rule cleaner, without a repeated headline.

    A learned line classifier was tried in this place and rejected by cross-validation
    (``benchmarks/train_lines.py``); it lives in ``benchmarks/`` as an experiment.
    """
    raw, _body = _body_lines(tree, url, page_chars)
    return _drop_headline(cleaner, cleaner.clean(raw), title)


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
    tree = _parse(html)
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
    lines = _clean_body(tree, url, precleaned.page_chars, meta.title, cleaner)

    title = meta.title
    body_source: BodySource = "html"
    html_chars = _size(lines)
    found = _json_body(tree, nodes, meta, state_scripts, html_chars)
    if found is None and lines and any("articleBody" in node for node in nodes):
        # trafilatura's own last resort reads JSON-LD articleBody as one flat paragraph: say
        # so, and keep the paragraphs the JSON has.
        declared = jsonld_body(nodes, [], meta.site_names)
        if declared is not None and len(declared.lines) > len(lines) and _same_words(declared.lines, lines):
            found, html_chars = declared, 0
    if found is not None:
        json_lines = _drop_headline(cleaner, cleaner.clean(found.lines), meta.title or found.title)
        if _size(json_lines) > html_chars:
            lines, body_source = (
                json_lines,
                "embedded_state" if found.source == "embedded_state" else "jsonld",
            )
            title, authors, dates = _fill_from_json(found, meta, authors, dates)
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
            lambda raw: _drop_headline(alt_cleaner, alt_cleaner.clean(raw), title_for_alt),
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


#: Text this short with no sentence in it is page furniture, not a body.
FURNITURE_MAX_CHARS = 400
FURNITURE_REASON = "no body text: only headline, byline and page furniture (no sentence)"
_SENTENCE_END = re.compile(r"[.!?;:\u3002\uff01\uff1f\u0964\u061f\u06d4][\"'\u201d\u2019)\]]*(?:\s|$)")
#: Scripts that end sentences with a space, not a mark (Thai, Lao, Tibetan, Myanmar, Khmer):
#: no sentence end proves nothing there.
_UNPUNCTUATED_SCRIPT = re.compile(r"[\u0e00-\u0eff\u0f00-\u0fff\u1000-\u109f\u1780-\u17ff]")


def is_furniture_only(text: str) -> bool:
    """Short text without a single sentence end: a headline, a byline, share buttons.

    Every body, even a one-paragraph brief, ends a sentence somewhere; chrome (section label,
    headline, "By …", dates, "Facebook Twitter Email Print") never does. Text mostly in a
    script that does not mark sentence ends is never judged furniture.
    """
    if len(text) > FURNITURE_MAX_CHARS or _SENTENCE_END.search(text) is not None:
        return False
    letters = sum(1 for ch in text if ch.isalpha())
    return len(_UNPUNCTUATED_SCRIPT.findall(text)) * 3 < max(letters, 1)


def _same_words(a: list[str], b: list[str]) -> bool:
    return " ".join(" ".join(a).split()) == " ".join(" ".join(b).split())


def _drop_headline(cleaner: LineCleaner, lines: list[str], title: str | None) -> list[str]:
    """The headline repeated as the first body line is not body text."""
    if lines and title and lines[0].casefold() == title.casefold():
        cleaner.removed.append(lines[0])
        return lines[1:]
    return lines


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
