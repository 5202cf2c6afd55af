"""Date confidence: is the publication date we found the page's own, or one we would invent?

A page that shows no publication date still shows dates: an "Updated" line, the date of an
event in its first paragraph, a copyright year's day, a JSON-LD ``datePublished`` the CMS
filled with the template's creation. Taking the first of them invents a date for about one
dateless page in five (WCXB dev), while dropping whole kinds of evidence (every "Updated"
dateline) loses more correct dates than invented ones. Whether a date is trustworthy depends
on where it came from and whether other sources agree, so a small learned model decides:
a logistic regression over :data:`FEATURES`, which describe the evidence and never the
language or the site (the label words are the dateline reader's, in many languages).

The model ships as ``pipeline/extract/models/dates.json`` (trained and cross-validated by
``python -m benchmarks.train_dates``); its threshold, chosen by an inner cross-validation,
maximises the correct dates kept minus four times the invented dates kept. A page whose
JSON-LD declares a news type (:data:`pipeline.extract.jsonld.NEWS_TYPES`) is not judged: its publisher calls it a dated
story, and the dev set (mostly guides, blogs and service pages among its dateless pages) could
not teach the model otherwise. Without the file every date found is kept (the rules alone
decide), so the extractor works without the model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.extract.dateshown import TEXT_DATE_MAX_OFFSET, Dateline
from pipeline.extract.detection import score_units
from pipeline.extract.models import check_logistic, load_model, log_odds

MODEL_NAME = "dates"

#: The sources of a publication date, in the order :func:`pipeline.extract.dates.extract_dates`
#: tries them; each feature ``src-*`` is 1 for the one that gave the date.
SOURCES = ("url", "meta", "time-near", "time-elsewhere", "text", "jsonld")

FEATURES: tuple[str, ...] = (
    *(f"src-{name}" for name in SOURCES),
    # how many other sources name the same day / another day (log1p of the count)
    "agree",
    "disagree",
    # the page declares a date in its markup (meta, JSON-LD or <time>), whichever won
    "declared",
    # the page declares itself an article (JSON-LD article type or og:type article)
    "declared-article",
    "headline",
    # a written dateline (when it gave the date): labelled, labelled "updated", how far into
    # the visible text (0..1 of the dateline window), shortly after the headline, before it
    "text-labelled",
    "text-updated",
    "text-offset",
    "text-after-headline",
    "text-before-headline",
    # a modification date later than the publication date: log1p(days), and whether any
    "modified-gap",
    "modified",
    # the page has a byline; the article detector's score above its threshold in units of the
    # spread of the detector's training scores (clipped; see :func:`article_units`): evergreen
    # guides, topic and service pages carry dates without being dated news
    "byline",
    "article-score-sd",
)
#: The article score (in detector spreads) is clipped to this range: beyond it a page is plainly
#: one kind or the other (about -3.6 and 7.2 log-odds of extractor 2.5's detector, spread 3.58).
ARTICLE_SCORE_RANGE = (-1.0, 2.0)
#: A written date at most this many characters after the headline's end stands next to it.
NEAR_HEADLINE_CHARS = 400


@dataclass(frozen=True)
class Evidence:
    """Every candidate publication date the page offers, and which one won."""

    candidates: dict[str, datetime | None]
    source: str
    published: datetime
    modified: datetime | None
    dateline: Dateline | None
    declared_article: bool
    headline: bool
    #: the JSON-LD declares a news type (:data:`pipeline.extract.jsonld.NEWS_TYPES`): the model does not judge the date
    news: bool = False


def features(ev: Evidence, has_author: bool, article_score: float | None) -> dict[str, float]:
    """The model's features for one page's chosen publication date."""
    day = ev.published.date()
    others = [v for k, v in ev.candidates.items() if k != ev.source and v is not None]
    out = {f"src-{name}": float(ev.source == name) for name in SOURCES}
    out["agree"] = math.log1p(sum(v.date() == day for v in others))
    out["disagree"] = math.log1p(sum(v.date() != day for v in others))
    out["declared"] = float(
        any(ev.candidates.get(k) is not None for k in ("meta", "jsonld", "time-near", "time-elsewhere"))
    )
    out["declared-article"] = float(ev.declared_article)
    out["headline"] = float(ev.headline)
    line = ev.dateline if ev.source == "text" else None
    after = line.after_headline if line is not None else None
    out["text-labelled"] = float(line is not None and line.labelled)
    out["text-updated"] = float(line is not None and line.updated)
    out["text-offset"] = min(1.0, line.offset / TEXT_DATE_MAX_OFFSET) if line is not None else 0.0
    out["text-after-headline"] = float(after is not None and 0 <= after <= NEAR_HEADLINE_CHARS)
    out["text-before-headline"] = float(after is not None and after < 0)
    gap = (ev.modified - ev.published).total_seconds() / 86400 if ev.modified is not None else 0.0
    out["modified-gap"] = math.log1p(max(0.0, gap))
    out["modified"] = float(ev.modified is not None)
    out["byline"] = float(has_author)
    out["article-score-sd"] = article_units(article_score)
    return out


def article_units(article_score: float | None) -> float:
    """The detector's verdict as the date model reads it: its score in its own spread, clipped.

    The date model is trained on one detector and must keep reading the next one right. The
    detector's raw log-odds do not allow that (their scale is the detector's regularisation:
    extractor 2.5's retrain spread them 1.75 times as wide, and the date model's cap on them
    had to be moved and the model retrained by hand). The score divided by the spread the
    detection file records (:func:`pipeline.extract.detection.score_units`) is the same for a
    detector scaled by any constant, so a detector retrain no longer rescales this feature.
    None (the page was not judged) reads as the threshold, 0.
    """
    if article_score is None:
        return 0.0
    low, high = ARTICLE_SCORE_RANGE
    return min(high, max(low, score_units(article_score)))


def check_model(model: dict[str, Any]) -> None:
    """Raise ValueError unless ``model`` is a logistic model over exactly :data:`FEATURES`."""
    check_logistic(model, FEATURES, "date")


def score(model: dict[str, Any], values: dict[str, float]) -> float:
    """Log-odds that the date is the page's own, minus the model's threshold (>= 0: keep it).

    The model may cap the article score lower than :data:`ARTICLE_SCORE_RANGE` does
    (``article_score_max``, in detector spreads like the feature): past "plainly an article"
    the score says nothing more about dates.
    """
    capped = min(values["article-score-sd"], article_score_max(model))
    return log_odds(model, {**values, "article-score-sd": capped})


def article_score_max(model: dict[str, Any]) -> float:
    return float(model.get("article_score_max", ARTICLE_SCORE_RANGE[1]))


def confidence(ev: Evidence, has_author: bool, article_score: float | None) -> float | None:
    """The shipped (or the fold's) model's score for ``ev``; None when no model is installed."""
    model = load_model(MODEL_NAME)
    if model is None:
        return None
    check_model(model)
    return score(model, features(ev, has_author, article_score))
