"""Is this page an article? A small learned model over language-independent page signals.

Listing/section/tag pages and product collections must not become "articles": they would
fill the database with link lists. But a genuine article thrown away is worse (it is lost
for good, while a listing that slips through is one odd row), so the model's threshold is
chosen for article recall (see ``benchmarks/train_detection.py``): the score is the
logistic model's log-odds minus that threshold, positive meaning article.

The model is a regularised logistic regression over :data:`pipeline.extract.signals.SIGNALS`
(declared types, text units and sentences rather than whitespace words, link density,
teaser headings, article cards, URL shape, date, title length), shipped as
``pipeline/extract/models/detection.json`` and evaluated here in plain Python. Linear and
monotone in each signal, it cannot learn a dev-set quirk such as "exactly 7 paragraphs".
Without a model file the hand-weighted vote :func:`rule_score` over the same signals decides.

Certain vetoes (a removal notice, a JavaScript shell, an empty body) are not the model's
business: :func:`pipeline.extract.api.extract_outcome` applies them around it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from lxml.html import HtmlElement

from pipeline.extract.models import check_logistic, contributions, load_model, log_odds
from pipeline.extract.signals import SIGNALS, page_signals

MODEL_NAME = "detection"
#: Signals named in the reasons: those that moved the score most, in the decision's direction.
REASONS_SHOWN = 4
#: The spread of :func:`rule_score` (its standard deviation over the 900 WCXB dev pages,
#: 2026-12-07: 2.26), its unit in :func:`score_units` when no model file is installed.
RULE_SCORE_SPREAD = 2.26


@dataclass(frozen=True)
class Detection:
    is_article: bool
    #: log-odds above the article threshold (positive: article)
    score: float
    #: the strongest signals for the decision, e.g. ``("jsonld-listing -1.9", "teaser-headings -1.2")``
    reasons: tuple[str, ...]
    signals: dict[str, float] = field(default_factory=dict)


def check_model(model: dict[str, Any]) -> None:
    """Raise ValueError unless ``model`` is a logistic model over exactly :data:`SIGNALS`."""
    check_logistic(model, SIGNALS, "detection")


def model_score(model: dict[str, Any], signals: dict[str, float]) -> tuple[float, dict[str, float]]:
    """Log-odds of "article" minus the model's threshold, and the per-signal contributions."""
    return log_odds(model, signals), contributions(model, signals)


def score_spread() -> float:
    """The unit of the active detector's score: the spread of its scores on its training pages.

    ``train_detection`` stores it in the model file (``score_spread``, the standard deviation
    of the model's log-odds over the pages it was trained on). Without a model file the
    hand-weighted :func:`rule_score` decides, whose spread is :data:`RULE_SCORE_SPREAD`.
    A model file without it predates the field and is refused: reading its score in raw
    log-odds would silently shift every model that reads the score.
    """
    model = load_model(MODEL_NAME)
    if model is None:
        return RULE_SCORE_SPREAD
    spread = model.get("score_spread")
    if not isinstance(spread, int | float) or not spread > 0:
        raise ValueError(
            "detection model has no positive 'score_spread'; retrain it (benchmarks.train_detection)"
        )
    return float(spread)


def score_units(score: float) -> float:
    """The detector's score (log-odds above its threshold) in units of its training spread.

    The form in which other models (the date-confidence model) read the detector's verdict.
    The raw log-odds depend on the detector's regularisation: a retrain with a weaker L2
    penalty (C 0.01 to 0.1, extractor 2.5) spread them about 1.75 times as wide, and a model
    reading them raw silently misread every page until it too was retrained. Divided by the
    spread the file itself records, a detector scaled by any constant gives the same value;
    the threshold stays the zero point, because "above or below the article cut" is what the
    score means. A probability would not do: a logistic model's probabilities shrink or sharpen
    with its regularisation exactly as its log-odds do.
    """
    return score / score_spread()


def rule_score(signals: dict[str, float]) -> tuple[float, dict[str, float]]:
    """The fallback vote when no model is shipped: declared types, prose, structure, URL."""
    prose = signals["long-paragraphs"] >= math.log1p(2) and signals["sentences"] >= math.log1p(5)
    # A brief: a few sentences, mostly in sentence-ending paragraphs (not a list of teasers).
    brief = signals["sentences"] >= math.log1p(2) and signals["sentence-paragraphs"] >= 0.5
    parts = {
        "body-in-json": 2.0 * signals["body-in-json"],
        "jsonld-article": 2.0 * signals["jsonld-article"],
        "jsonld-listing": -2.0 * signals["jsonld-listing"],
        "og-article": 1.0 * signals["og-article"] - 0.5 * signals["og-other"],
        "text-units": 1.0
        if prose
        else (0.0 if brief else -2.0 if signals["text-units"] < math.log1p(150) else -0.5),
        "link-density": -1.5 if signals["link-density"] > 0.5 else 0.0,
        "teaser-headings": -1.0 if signals["teaser-headings"] >= math.log1p(12) else 0.0,
        "article-cards": -1.5 if signals["article-cards"] >= math.log1p(5) else 0.0,
        "listing-url": -1.0 * signals["listing-url"],
        "article-url": 0.5 * signals["article-url"],
        "dated": 0.5 * signals["dated"],
    }
    return sum(parts.values()), parts


#: A date in the path, then a last segment with a letter in it: a post filed by date.
_ARCHIVED_POST = re.compile(r"/(?:19|20)\d{2}/\d{1,2}/(?:\d{1,2}/)?[^/]*[^\W\d_][^/]*/?$")


def archived_post(url: str) -> bool:
    """Whether ``url``'s path files a post under its date (``/2025/12/16/slug.html``)."""
    return _ARCHIVED_POST.search(urlsplit(url).path) is not None


def thin_undeclared(signals: dict[str, float], url: str | None = None) -> str | None:
    """Why a page that declares nothing (no JSON-LD article, no og:article, no JSON body) is too
    thin or too listing-like to be an article whatever the model says, else None.

    The model's threshold is set for article recall on dev pages whose "articles" include
    about and contact pages; a news site's about page, video stub or section front (a few
    sentences, no declaration) must not be stored. A real news brief declares itself (every
    news CMS writes og:type or JSON-LD), so it is not touched. Dev pages: 5 of 711 articles, 62
    of 189 listings (many of them already below the threshold).
    """
    if signals["jsonld-article"] or signals["og-article"] or signals["body-in-json"]:
        return None
    # A dated brief whose every paragraph is a sentence reads as news, not as a stub or a menu.
    brief = signals["dated"] and signals["sentence-paragraphs"] >= 0.8
    if not brief and signals["sentences"] < math.log1p(5) and signals["long-paragraphs"] < math.log1p(2):
        return "thin-undeclared"
    # A listing segment above a dated path ending in a slug is the archive the post is filed
    # under ("/archives/2025/12/16/vibe_coding.html"), not a listing: the model decides such
    # a page, the veto does not.
    if (
        signals["listing-url"]
        and signals["long-paragraphs"] < math.log1p(5)
        and not (url is not None and archived_post(url))
    ):
        return "listing-url-undeclared"
    return None


def _reasons(score: float, parts: dict[str, float]) -> tuple[str, ...]:
    sign = 1.0 if score > 0 else -1.0
    ranked = sorted((p for p in parts.items() if p[1] * sign > 0.05), key=lambda p: -abs(p[1]))
    return tuple(f"{name} {value:+.1f}" for name, value in ranked[:REASONS_SHOWN])


def detect_article(
    tree: HtmlElement,
    nodes: list[dict[str, Any]],
    url: str,
    og_type: str | None,
    text: str,
    has_date: bool,
    title: str | None = None,
    body_source: str = "html",
) -> Detection:
    """Score the page's signals; a positive score means article (see the module docstring)."""
    signals = page_signals(tree, nodes, url, og_type, text, has_date, title, body_source)
    model = load_model(MODEL_NAME)
    if model is not None:
        check_model(model)
        score, parts = model_score(model, signals)
    else:
        score, parts = rule_score(signals)
    score = round(score, 4)
    veto = thin_undeclared(signals, url) if score > 0.0 else None
    if veto is not None:
        return Detection(False, -0.01, (veto, *_reasons(-1.0, parts)), signals)
    return Detection(score > 0.0, score, _reasons(score, parts), signals)
