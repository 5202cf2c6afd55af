"""Metadata faults (issue 15): dates of other stories, invented dates, languages, CJK word counts.

Each row is a page shaped like the one that failed, through the real extractor and the real
load preparation (no database needed for these: the fault was in the values, not the I/O).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from pipeline.extract import extract_outcome
from pipeline.extract.dateconf import ARTICLE_SCORE_RANGE
from pipeline.load.prepare import StagedRow, prepare

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lang"
BODY = " ".join(
    [
        "The council met on Monday evening and voted on the plan after a long debate in the chamber.",
        "Residents who spoke at the meeting asked for more time to study the proposal in detail.",
        "Officials said the first works would begin in the spring if the budget is approved in time.",
    ]
    * 8
)


def test_a_related_storys_time_before_the_article_no_longer_dates_it() -> None:
    # Was: the first <time> of the page (a "Read also" teaser) became the article's date.
    html = (FIXTURES / "ru_article.html").read_text(encoding="utf-8")
    article = extract_outcome(html, "https://news.example/local/most").article
    assert article is not None and article.published_at is not None
    assert article.published_at.date() == date(2026, 12, 7)


def test_an_evergreen_page_is_not_given_its_jsonld_creation_date() -> None:
    # Was: a maintained guide showing no date got the 2015 creation date of its WebPage node.
    ld = (
        '<script type="application/ld+json">{"@context": "https://schema.org", "@graph": [{"@type": "WebPage",'
        ' "datePublished": "2015-06-04T18:42:54+00:00", "dateModified": "2024-08-05T10:00:00+00:00"}]}</script>'
    )
    html = (
        f"<html lang='en'><head><title>Web courses defined</title>{ld}</head><body><main>"
        f"<h1>Web courses defined</h1><p>{BODY}</p></main></body></html>"
    )
    article = extract_outcome(html, "https://college.example/online-learning/web-courses-defined/").article
    assert article is not None
    assert article.published_at is None and article.published_from is None
    assert article.modified_at is not None and article.modified_from == "jsonld"


def test_a_template_language_the_text_contradicts_is_not_stored() -> None:
    # Was: lang="en" left in a CMS template made a Russian article "en".
    html = (FIXTURES / "ru_article.html").read_text(encoding="utf-8")
    article = extract_outcome(html, "https://news.example/local/most").article
    assert article is not None and article.language == "ru"


def test_a_chinese_article_has_a_real_word_count() -> None:
    # Was: len(text.split()) counted a Chinese article as a handful of "words".
    html = (FIXTURES / "zh_article.html").read_text(encoding="utf-8")
    article = extract_outcome(html, "https://news.example/city/renovation.html").article
    assert article is not None
    now = datetime(2026, 12, 8, tzinfo=UTC)
    staged = StagedRow(
        record_id=1,
        fetch_id=1,
        source_id=1,
        fetched_at=now,
        fetch_url=article.url,
        final_url=None,
        fetch_canonical_url=None,
        extractor_version=article.extractor_version,
        payload=article.model_dump(mode="json"),
    )
    row = prepare(staged, now, run_pk=1).row
    assert len(article.text.split()) < 10
    assert row["word_count"] > 250


GUIDE = " ".join(
    [
        "A heat pump moves warmth from the outside air into the house, even on cold days.",
        "Pick a unit sized for the floor area and the insulation of the rooms it serves.",
        "Installers quote for the unit, the pipework and any electrical upgrade you need.",
    ]
)


def test_a_guide_whose_only_date_is_last_updated_is_not_given_a_publication_date() -> None:
    # Was: a short service/topic page with no byline and no date in its markup got its
    # "Last updated" line as its publication date (an invented date: the page has none).
    html = (
        "<html lang='en'><head><title>Heat pumps explained: costs and choices | Energy Help</title></head>"
        "<body><nav><a href='/'>Home</a> <a href='/topics'>Topics</a></nav><main>"
        "<h1>Heat pumps explained: costs and choices</h1><p>Last updated: 3 March 2025</p>"
        f"<p>{GUIDE}</p><ul><li><a href='/topics/solar'>Solar panels</a></li>"
        "<li><a href='/topics/grants'>Grants</a></li></ul></main></body></html>"
    )
    outcome = extract_outcome(html, "https://energyhelp.example/guides/heat-pumps-explained")
    assert outcome.status == "ok" and outcome.article is not None  # still an article
    assert outcome.article.published_at is None and outcome.article.published_from is None
    assert outcome.signals["dated"] == 1.0  # detection still sees the date the page shows


def test_a_story_keeps_its_date_declared_everywhere_or_shown_under_its_byline() -> None:
    ld = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Council votes on the plan",'
        ' "datePublished": "2025-03-03T08:00:00Z", "author": {"@type": "Person", "name": "Jane Roe"}}</script>'
    )
    declared = (
        "<html lang='en'><head><title>Council votes on the plan</title><meta property='og:type' content='article'>"
        f"<meta property='article:published_time' content='2025-03-03T08:00:00Z'>{ld}</head><body><article>"
        "<h1>Council votes on the plan</h1><p class='byline'>By Jane Roe</p>"
        f"<time datetime='2025-03-03T08:00:00Z'>3 March 2025</time><p>{BODY}</p></article></body></html>"
    )
    shown = (
        "<html lang='en'><head><title>Council votes on the plan</title></head><body><article>"
        "<h1>Council votes on the plan</h1><p class='byline'>By Jane Roe</p><p>Updated March 5, 2025</p>"
        f"<p>{BODY}</p></article></body></html>"
    )
    for html, day in ((declared, date(2025, 3, 3)), (shown, date(2025, 3, 5))):
        article = extract_outcome(html, "https://news.example/local/council-plan").article
        assert article is not None and article.published_at is not None
        assert article.published_at.date() == day


def _date_model_input(
    folder: Path, detection: dict[str, object], html: str, url: str
) -> tuple[float, dict[str, float], float]:
    """The detector's raw score, the date model's features and its confidence with ``detection``."""
    from lxml.html import fromstring

    from pipeline.extract.dateconf import confidence, features
    from pipeline.extract.dates import date_evidence
    from pipeline.extract.jsonld import parse_jsonld
    from pipeline.extract.models import MODEL_DIR, use_model_dir

    folder.mkdir()
    (folder / "detection.json").write_text(json.dumps(detection), encoding="utf-8")
    (folder / "dates.json").write_text(
        (MODEL_DIR / "dates.json").read_text(encoding="utf-8"), encoding="utf-8"
    )
    use_model_dir(folder)
    try:
        outcome = extract_outcome(html, url)
        assert outcome.article is not None and outcome.score is not None
        tree = fromstring(html)
        _, evidence = date_evidence(tree, parse_jsonld(tree), url, tree.find(".//h1"))
        assert evidence is not None
        has_author = bool(outcome.article.authors)
        judged = confidence(evidence, has_author, outcome.score)
        assert judged is not None
        return outcome.score, features(evidence, has_author, outcome.score), judged
    finally:
        use_model_dir(None)


@pytest.mark.parametrize("factor", [0.5, 1.75, 3.0])
def test_a_detector_retrain_that_rescales_its_scores_does_not_move_the_date_model(
    tmp_path: Path, factor: float
) -> None:
    # Was: the date model read the detector's raw log-odds. Extractor 2.5's detector (weaker
    # regularisation) spread them 1.75x as wide, and the date model silently misread every page
    # until its cap was moved and it was retrained by hand. Now it reads the score in units of
    # the spread of the detector's training scores, which the detection file records: a detector
    # whose every log-odds (weights, intercept, threshold, recorded spread) is scaled by a
    # constant gives the date model the same input and the same verdict.
    from pipeline.extract.models import MODEL_DIR

    shipped = json.loads((MODEL_DIR / "detection.json").read_text(encoding="utf-8"))
    scaled = {
        **shipped,
        **{key: shipped[key] * factor for key in ("intercept", "threshold", "score_spread")},
        "weights": [w * factor for w in shipped["weights"]],
    }
    html = (
        "<html lang='en'><head><title>A short guide to the new bins</title></head><body><main>"
        "<h1>A short guide to the new bins</h1><p>Last updated: March 3, 2025</p>"
        f"<p>{BODY}</p></main></body></html>"
    )
    url = "https://council.example/guides/new-bins"
    raw, values, judged = _date_model_input(tmp_path / "shipped", shipped, html, url)
    raw_scaled, values_scaled, judged_scaled = _date_model_input(tmp_path / "scaled", scaled, html, url)
    assert raw_scaled == pytest.approx(factor * raw, abs=1e-3)  # the detector's scale did change
    low, high = ARTICLE_SCORE_RANGE
    assert low < values["article-score-sd"] < high  # not pinned by the clip, which would hide a change
    assert values_scaled == pytest.approx(values, abs=1e-3)
    assert judged_scaled == pytest.approx(judged, abs=1e-3)


def test_a_detection_file_without_its_spread_is_refused_by_the_date_model(tmp_path: Path) -> None:
    # A detection file from before the spread was recorded would be read in raw log-odds: refused.
    from pipeline.extract.models import MODEL_DIR

    shipped = json.loads((MODEL_DIR / "detection.json").read_text(encoding="utf-8"))
    stale = {k: v for k, v in shipped.items() if k != "score_spread"}
    html = f"<html><body><main><h1>Council votes</h1><p>March 3, 2025</p><p>{BODY}</p></main></body></html>"
    with pytest.raises(ValueError, match="score_spread"):
        _date_model_input(tmp_path / "stale", stale, html, "https://news.example/council")
