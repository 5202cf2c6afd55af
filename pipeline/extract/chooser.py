"""A learned choice between whole bodies: trafilatura's (cleaned), readability's and Resiliparse's.

Trafilatura and readability fail on different pages: on some layouts trafilatura settles on a
container that also holds a product table, a teaser list or a second article, where
readability's paragraph scoring keeps only the story, and the other way round. Rules that
switched on a length ratio lost more pages than they won (README, "What cross-validation and
measurement rejected"), so the choice is a small logistic regression over page-level measures
of both bodies: their lengths and shares of the page's text, how much of each the other one
contains (word 4-gram overlap), paragraph shape and sentence density, and the detector's
link and teaser signals. None of them names a phrase or a site, so the model carries to other
languages; it is trained and cross-validated by ``benchmarks/train_chooser.py`` and ships as
``models/chooser.json``.

A third, independent candidate: when readability's model keeps trafilatura's body (or
readability found nothing new), Resiliparse's main-content text (its own C++ parse of the raw
HTML, its own container heuristics) is judged by a second logistic model over the same
measures (``models/chooser-resiliparse.json``, trained by the same script). Resiliparse and
readability are wrong on different pages: on the dev pages under the gate, choosing with
hindsight between the three bodies is worth twice what readability alone is, and the two models
applied in turn gained +7.4 in summed per-page precision + recall out of fold against +4.4 for
readability alone (``benchmarks.train_chooser``'s printout; README, benchmark section). Unlike
readability's, Resiliparse's body is judged even when it contains trafilatura's: that was the
better setting in cross-validation.

Cost: readability runs on the page's tree only after everything else is done with it (it
mutates the tree), on article pages whose trafilatura body covers less than
:data:`GATE_PAGE_SHARE` (80 %) of the page's text. A body covering almost the whole page leaves
nothing else for readability to find, and skipping those pages keeps the extractor within its
speed budget. Readability's model is trained on every band of that share, the pages beyond the
gate included (extractor 2.8): they teach it where readability's body loses, and out of fold the
model so trained switched fewer losing pages under the gate than one trained on the gated pages
alone (README, benchmark section). Resiliparse costs about a tenth of a trafilatura run (a
quarter of readability's cost) and runs only under the narrower :data:`RESILIPARSE_PAGE_SHARE`
(70 %), when readability was not chosen; as a candidate beyond it it lost out of fold. Without a
model file the extractor keeps trafilatura's body (and still reports the measures, which is how
the trainer collects them: in ``collect_only`` mode readability is measured on every page with a
body, Resiliparse under its gate).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from lxml.html import HtmlElement

from pipeline.extract.models import check_logistic, load_model, log_odds

#: Readability runs only when trafilatura's body is below this share of the page's text.
GATE_PAGE_SHARE = 0.8
#: Resiliparse is asked only below this share (beyond it, it lost out of fold).
RESILIPARSE_PAGE_SHARE = 0.7
#: A readability body holding this share of trafilatura's characters (whole lines) is the same
#: story with more around it; it is never chosen (see :func:`superset`).
SUPERSET_SHARE = 0.95
MODEL_NAME = "chooser"
#: the second model: Resiliparse's body against trafilatura's (same measures)
RESILIPARSE_MODEL = "chooser-resiliparse"

_TOKEN = re.compile(r"\w+")
_WS = re.compile(r"\s+")
_SENT_END = re.compile(r"[.!?\u3002\uff01\uff1f\u0964\u061f\u06d4][\"'\u201d\u2019)\]]*(?:\s|$)")
_BLOCKS = ("p", "div", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "tr", "dd", "dt", "br")

#: Detection signals (``pipeline.extract.signals``) the chooser also weighs.
SIGNAL_FEATURES: tuple[str, ...] = (
    "link-density",
    "teaser-headings",
    "article-cards",
    "linked-paragraphs",
    "price-marks",
    "long-paragraphs",
    "sentence-paragraphs",
    "headline-links",
    "teaser-cards",
)
TEXT_FEATURES: tuple[str, ...] = (
    "log-ours-chars",
    "log-alt-chars",
    "log-page-chars",
    "ours-page-share",
    "alt-page-share",
    "log-alt-ours-ratio",
    "ours-in-alt",
    "alt-in-ours",
    "log-ours-lines",
    "ours-mean-line",
    "ours-sentence-lines",
    "alt-sentence-density",
    "ours-sentence-density",
)
FEATURES: tuple[str, ...] = TEXT_FEATURES + SIGNAL_FEATURES

_collect_only = False


@contextmanager
def collect_only() -> Iterator[None]:
    """Compute the candidates and their measures but never switch (for training).

    Readability's on every page with a body (its model learns from every band), Resiliparse's
    under :data:`RESILIPARSE_PAGE_SHARE`.
    """
    global _collect_only
    before, _collect_only = _collect_only, True
    try:
        yield
    finally:
        _collect_only = before


@dataclass
class Choice:
    """The lines to keep, which body they came from, and the measures behind the decision."""

    lines: list[str]
    chosen: str  # "trafilatura" | "readability" | "resiliparse"
    alternative: list[str] | None = None
    #: the model's inputs; empty when the page was not judged (not gated, or a superset body)
    features: dict[str, float] = field(default_factory=dict)
    score: float | None = None
    #: Resiliparse's cleaned body and the second model's inputs and score (when it was judged)
    resiliparse: list[str] | None = None
    resiliparse_features: dict[str, float] = field(default_factory=dict)
    resiliparse_score: float | None = None


def gated(ours_chars: int, page_chars: int, share: float = GATE_PAGE_SHARE) -> bool:
    """Whether the page is worth a second extractor (see the module docstring).

    ``share``: the gate, readability's by default (:data:`RESILIPARSE_PAGE_SHARE` for Resiliparse).
    """
    return ours_chars > 0 and ours_chars < share * max(page_chars, 1)


def readability_lines(tree: HtmlElement) -> list[str]:
    """Readability's body as paragraph lines (mutates ``tree``; call it last).

    Readability serialises its result to a string; the sanitised element itself is read instead
    (it is the same tree), which saves parsing that string again.
    """
    from trafilatura.readability_lxml import Document

    class _Kept(Document):
        __slots__ = ("article",)

        def sanitize(self, node: HtmlElement, candidates: Any) -> str:
            self.article = node
            return str(super().sanitize(node, candidates))

    document = _Kept(tree)
    document.article = None
    try:
        document.summary()
    except Exception:
        return []
    root = document.article
    if root is None:
        return []
    for el in root.iter(*_BLOCKS):  # block boundaries become line breaks
        el.tail = "\n" + (el.tail or "")
        if el.tag != "br":
            el.text = "\n" + (el.text or "")
    return [" ".join(line.split()) for line in (root.text_content() or "").split("\n") if line.strip()]


def resiliparse_lines(html: str) -> list[str]:
    """Resiliparse's main-content text of the raw page as lines ([] when it finds none or fails).

    One block per line, so our line cleaning can judge its lines; no list bullets, alt texts,
    link targets, form fields, noscript or comment sections: the reference texts and
    trafilatura's body leave them out, and a body that had them would lose for its format, not
    its content.
    """
    from resiliparse.extract.html2text import extract_plain_text  # a dependency, imported on first use
    from resiliparse.parse.html import HTMLTree

    try:
        text = extract_plain_text(
            HTMLTree.parse(html),
            preserve_formatting=True,
            main_content=True,
            list_bullets=False,
            alt_texts=False,
            links=False,
            form_fields=False,
            noscript=False,
            comments=False,
        )
    except Exception:  # a third opinion only: a page its C++ code refuses keeps the other bodies
        return []
    return [" ".join(line.split()) for line in str(text).split("\n") if line.strip()]


def _shingles(text: str) -> set[tuple[str, ...]]:
    tokens = _TOKEN.findall(text.casefold())
    if len(tokens) < 4:
        return {tuple(tokens)} if tokens else set()
    return set(zip(tokens, tokens[1:], tokens[2:], tokens[3:], strict=False))


def features(
    ours: list[str], alternative: list[str], page_chars: int, signals: dict[str, float]
) -> dict[str, float]:
    """The model's inputs for one page (the same function at training and run time)."""
    ours_text, alt_text = "\n".join(ours), "\n".join(alternative)
    o_chars, a_chars, page = len(ours_text), len(alt_text), max(page_chars, 1)
    o_sh, a_sh = _shingles(ours_text), _shingles(alt_text)
    common = len(o_sh & a_sh)
    lines = max(len(ours), 1)
    out = {
        "log-ours-chars": math.log1p(o_chars),
        "log-alt-chars": math.log1p(a_chars),
        "log-page-chars": math.log1p(page),
        "ours-page-share": o_chars / page,
        "alt-page-share": a_chars / page,
        "log-alt-ours-ratio": math.log((a_chars + 1) / (o_chars + 1)),
        "ours-in-alt": common / max(len(o_sh), 1),
        "alt-in-ours": common / max(len(a_sh), 1),
        "log-ours-lines": math.log1p(len(ours)),
        "ours-mean-line": o_chars / lines / 100,
        "ours-sentence-lines": sum(_SENT_END.search(line) is not None for line in ours) / lines,
        "alt-sentence-density": len(_SENT_END.findall(alt_text)) * 100 / max(a_chars, 1),
        "ours-sentence-density": len(_SENT_END.findall(ours_text)) * 100 / max(o_chars, 1),
    }
    out.update({name: float(signals.get(name, 0.0)) for name in SIGNAL_FEATURES})
    return out


def superset(ours: list[str], alternative: list[str]) -> bool:
    """Whether readability's body holds (nearly) all of trafilatura's: then it is never chosen.

    When readability's body contains trafilatura's and more, the extra is page chrome around the
    same story (a section label, a standfirst box, a teaser) about as often as it is missed story
    text: on the dev pages such switches summed to +2.85 against -3.44 in per-page precision +
    recall even with hindsight (measured with 4-gram containment >= 0.95, gate at 80 %), and on
    the demo network they add the section label. So only pages where the two extractors chose
    different containers are judged, which is where one of them is wrong and the measures can
    tell which. A line-containment test (whitespace ignored), cheap enough to run before any
    other measure.
    """
    haystack = _WS.sub("", " ".join(alternative)).casefold()
    total = sum(len(line) for line in ours)
    found = sum(len(line) for line in ours if _WS.sub("", line).casefold() in haystack)
    return found >= SUPERSET_SHARE * max(total, 1)


def check_model(model: dict[str, Any]) -> None:
    """Refuse a model trained on other measures than the code computes (a stale file)."""
    check_logistic(model, FEATURES, MODEL_NAME)


def score(model: dict[str, Any], values: dict[str, float]) -> float:
    """Log-odds that the alternative body is the better one, minus the model's threshold."""
    return log_odds(model, values)


def _model(name: str) -> dict[str, Any] | None:
    model = None if _collect_only else load_model(name)
    if model is not None:
        check_model(model)
    return model


def choose(
    tree: HtmlElement,
    ours: list[str],
    page_chars: int,
    signals: dict[str, float],
    clean: Callable[[list[str]], list[str]],
    html: str = "",
) -> Choice:
    """Trafilatura's lines, or readability's or Resiliparse's when a model says they are better.

    ``clean`` is the line cleaning trafilatura's lines went through, applied to the other bodies
    too so they are compared (and output) alike. ``html`` is the raw page, Resiliparse's input
    (its own parse: an independent view of the page); without it only readability is judged.
    Readability's model is asked first (as it was trained: on every judged page), then
    Resiliparse's.
    """
    ours_chars = sum(len(line) for line in ours)
    if not (_collect_only and ours_chars > 0) and not gated(ours_chars, page_chars):
        return Choice(ours, "trafilatura")
    model, res_model = _model(MODEL_NAME), _model(RESILIPARSE_MODEL)
    if model is None and res_model is None and not _collect_only:
        return Choice(ours, "trafilatura")
    choice = _readability_choice(tree, ours, page_chars, signals, clean, model)
    if (
        choice.chosen != "trafilatura"
        or not html
        or (res_model is None and not _collect_only)
        or not gated(ours_chars, page_chars, RESILIPARSE_PAGE_SHARE)
    ):
        return choice
    choice.resiliparse = clean(resiliparse_lines(html))
    if not choice.resiliparse:
        return choice
    choice.resiliparse_features = features(ours, choice.resiliparse, page_chars, signals)
    if res_model is not None:
        choice.resiliparse_score = score(res_model, choice.resiliparse_features)
        if choice.resiliparse_score > 0:
            choice.lines, choice.chosen = choice.resiliparse, "resiliparse"
    return choice


def _readability_choice(
    tree: HtmlElement,
    ours: list[str],
    page_chars: int,
    signals: dict[str, float],
    clean: Callable[[list[str]], list[str]],
    model: dict[str, Any] | None,
) -> Choice:
    """The readability stage of :func:`choose` (``model`` None: measure only, never switch)."""
    if model is None and not _collect_only:
        return Choice(ours, "trafilatura")
    raw = readability_lines(tree)
    if not raw or superset(ours, raw):
        return Choice(ours, "trafilatura", raw)
    alternative = clean(raw)
    values = features(ours, alternative, page_chars, signals)
    if model is None or not alternative:
        return Choice(ours, "trafilatura", alternative, values)
    margin = score(model, values)
    if margin > 0:
        return Choice(alternative, "readability", alternative, values, margin)
    return Choice(ours, "trafilatura", alternative, values, margin)
