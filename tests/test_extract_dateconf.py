"""The date-confidence model: a date the page offers is published only when it looks like its own.

Mechanism tests use hand-written models in a temporary model folder (deterministic whatever
the shipped weights); the shipped model is checked for shape and on clear-cut pages.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from lxml.html import fromstring

from pipeline.extract import extract_outcome
from pipeline.extract.dateconf import ARTICLE_SCORE_RANGE, FEATURES, check_model, features
from pipeline.extract.dates import date_evidence, extract_dates, judge_dates
from pipeline.extract.dateshown import text_dateline
from pipeline.extract.detection import score_spread
from pipeline.extract.jsonld import parse_jsonld
from pipeline.extract.models import MODEL_DIR, load_model, use_model_dir

BODY = " ".join(
    [
        "The council met on Monday evening and voted on the plan after a long debate in the chamber.",
        "Residents who spoke at the meeting asked for more time to study the proposal in detail.",
    ]
    * 10
)


def _model(intercept: float, weights: dict[str, float] | None = None) -> dict[str, object]:
    n = len(FEATURES)
    return {
        "kind": "logistic",
        "features": list(FEATURES),
        "mean": [0.0] * n,
        "scale": [1.0] * n,
        "weights": [(weights or {}).get(name, 0.0) for name in FEATURES],
        "intercept": intercept,
        "threshold": 0.0,
    }


@pytest.fixture
def model_dir(tmp_path: Path) -> Iterator[Path]:
    use_model_dir(tmp_path)
    yield tmp_path
    use_model_dir(None)


def _install(folder: Path, model: dict[str, object]) -> None:
    shipped_detection = MODEL_DIR / "detection.json"
    (folder / "detection.json").write_text(shipped_detection.read_text(encoding="utf-8"), encoding="utf-8")
    (folder / "dates.json").write_text(json.dumps(model), encoding="utf-8")
    use_model_dir(folder)  # clears the cache


STORY = (
    "<html lang='en'><head><title>Council votes on the plan</title></head><body><main>"
    "<h1>Council votes on the plan</h1><p class='byline'>By Jane Roe</p>"
    "<p>Last updated: March 3, 2025</p>"
    f"<p>{BODY}</p></main></body></html>"
)


def test_a_withheld_date_is_not_published_but_still_counts_for_detection(model_dir: Path) -> None:
    _install(model_dir, _model(-5.0))
    outcome = extract_outcome(STORY, "https://news.example/council-plan")
    assert outcome.article is not None and outcome.status == "ok"
    assert outcome.article.published_at is None and outcome.article.published_from is None
    assert outcome.signals["dated"] == 1.0  # the page shows a date: detection is unchanged


def test_a_page_declaring_news_keeps_its_date_whatever_the_model(model_dir: Path) -> None:
    _install(model_dir, _model(-5.0))
    ld = (
        '<script type="application/ld+json">{"@type": "ReportageNewsArticle", "headline": "Council votes on'
        ' the plan", "datePublished": "2025-03-03T08:00:00Z"}</script>'
    )
    article = extract_outcome(
        STORY.replace("</head>", f"{ld}</head>"), "https://news.example/council-plan"
    ).article
    assert article is not None and article.published_at is not None
    assert article.published_at.date() == date(2025, 3, 3)


def test_a_confident_date_is_kept(model_dir: Path) -> None:
    _install(model_dir, _model(5.0))
    article = extract_outcome(STORY, "https://news.example/council-plan").article
    assert article is not None and article.published_at is not None
    assert (article.published_at.date(), article.published_from) == (date(2025, 3, 3), "text")


def test_without_a_model_every_date_found_is_kept(model_dir: Path) -> None:
    # An empty model folder: no detection model either, the rules decide both.
    article = extract_outcome(STORY, "https://news.example/council-plan").article
    assert article is not None and article.published_at is not None


def test_judging_needs_evidence_and_a_date() -> None:
    tree = fromstring(f"<html><body><h1>H</h1><p>{BODY}</p></body></html>")
    found = extract_dates(tree, [], "https://example.org/story", tree.find(".//h1"))
    assert found.published is None and judge_dates(found, True, 3.0) == found


def test_a_model_for_other_features_is_refused(model_dir: Path) -> None:
    broken = _model(0.0)
    broken["features"] = ["src-url"]
    _install(model_dir, broken)
    with pytest.raises(ValueError, match="differ from the code's"):
        extract_outcome(STORY, "https://news.example/council-plan")


def test_the_shipped_model_matches_the_features() -> None:
    model = load_model("dates")
    assert model is not None
    check_model(model)
    assert model["version"] >= 1 and "cv" in model and (MODEL_DIR / "dates.json").stat().st_size < 16_000


def test_features_describe_agreement_and_the_dateline() -> None:
    ld = '<script type="application/ld+json">{"@type": "NewsArticle", "datePublished": "2025-03-03T08:00:00Z"}</script>'
    html = (
        f"<html><head>{ld}<meta property='article:published_time' content='2025-03-03T08:00:00Z'></head>"
        f"<body><h1>Council votes</h1><p>Updated March 5, 2025</p><p>{BODY}</p></body></html>"
    )
    tree = fromstring(html)
    dates, evidence = date_evidence(
        tree, parse_jsonld(tree), "https://news.example/2025/03/03/council", tree.find(".//h1")
    )
    assert evidence is not None and evidence.source == "url"
    values = features(evidence, True, 4.0)
    assert set(values) == set(FEATURES)
    assert (
        values["src-url"] == 1.0 and values["agree"] > 0 and values["disagree"] > 0
    )  # meta/JSON-LD agree, text not
    assert values["declared"] == 1.0 and values["declared-article"] == 1.0
    # the detector's score in units of its training spread (the shipped detector's, here)
    assert values["byline"] == 1.0 and values["article-score-sd"] == pytest.approx(4.0 / score_spread())
    assert features(evidence, False, 99.0)["article-score-sd"] == ARTICLE_SCORE_RANGE[1]  # clipped
    assert dates.published is not None and dates.published.date() == date(2025, 3, 3)


def test_the_dateline_says_where_it_sits_and_how_it_is_labelled() -> None:
    html = f"<html><body><h1>Council votes</h1><p>Last updated: 5 March 2025</p><p>{BODY}</p></body></html>"
    tree = fromstring(html)
    line = text_dateline(tree, tree.find(".//h1"))
    assert line is not None and line.value.date() == date(2025, 3, 5)
    assert (
        line.labelled and line.updated and line.after_headline is not None and 0 <= line.after_headline < 40
    )
    for label in ("Aktualisiert am", "Обновлено", "更新", "Publicado el"):
        html = f"<html><body><h1>H</h1><p>{label} 2025-03-05</p><p>{BODY}</p></body></html>"
        found = text_dateline(fromstring(html))
        assert found is not None and found.updated == (label != "Publicado el"), label
