"""The body chooser (trafilatura vs readability) on hand-written trees and made-up models.

The shipped model's behaviour on real pages is measured by ``benchmarks.extraction`` (cross-
validated); here: readability's lines keep paragraph breaks, the gate and the superset rule
decide which pages are judged at all, a model switches only when it says so, training mode
never switches, and a model for other measures is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml.html import HtmlElement, fromstring

from pipeline.extract.chooser import (
    FEATURES,
    MODEL_NAME,
    check_model,
    choose,
    collect_only,
    features,
    gated,
    readability_lines,
    superset,
)
from pipeline.extract.models import MODEL_DIR, load_model, use_model_dir

STORY = [
    "The harbour authority approved a new container terminal on Tuesday, ending two years of dispute.",
    "Work on the quay is due to start in the spring and to take three years, the authority said.",
    "Residents had objected to night-time traffic; the plan now limits lorries to daytime hours.",
    "The terminal is expected to double the port's capacity and to create about 400 jobs locally.",
]
TEASERS = [
    "Top ten cheap flights this winter",
    "Ferry fares: what changes in May",
    "Our newsletter, every morning",
]


def tree() -> HtmlElement:
    paragraphs = "".join(f"<p>{p}</p>" for p in STORY)
    teasers = "".join(f'<li><a href="/t{i}">{t}</a></li>' for i, t in enumerate(TEASERS))
    html = (
        "<html><body><header><a href='/'>The Ledger</a></header>"
        f"<div class='main'><article><h1>Terminal approved</h1>{paragraphs}</article></div>"
        f"<aside><ul>{teasers}</ul></aside><footer>© The Ledger</footer></body></html>"
    )
    return fromstring(html)


def model(intercept: float) -> dict[str, object]:
    return {
        "version": 1,
        "kind": "logistic",
        "features": list(FEATURES),
        "mean": [0.0] * len(FEATURES),
        "scale": [1.0] * len(FEATURES),
        "weights": [0.0] * len(FEATURES),
        "intercept": intercept,
        "threshold": 0.0,
    }


def with_model(tmp_path: Path, data: dict[str, object] | None) -> None:
    if data is not None:
        (tmp_path / f"{MODEL_NAME}.json").write_text(json.dumps(data), encoding="utf-8")
    use_model_dir(tmp_path)


def identity(lines: list[str]) -> list[str]:
    return lines


def test_readability_lines_keep_paragraphs() -> None:
    lines = readability_lines(tree())
    assert lines[-len(STORY) :] == STORY


def test_only_pages_with_little_of_the_page_are_gated() -> None:
    assert gated(500, 2000)
    assert not gated(1900, 2000)
    assert not gated(0, 2000)


def test_a_superset_body_is_never_judged() -> None:
    assert superset(STORY[:2], ["Section: Business", *STORY])
    assert superset([" ".join(STORY[:2])], STORY)  # lines joined differently: still contained
    assert not superset(TEASERS, STORY)
    other = features(TEASERS, STORY, 1000, {})
    assert other["ours-in-alt"] == 0.0 and set(other) == set(FEATURES)


def test_the_model_decides_when_the_bodies_differ(tmp_path: Path) -> None:
    page_chars = 5000  # trafilatura's teaser "body" covers little of the page: gated
    try:
        with_model(tmp_path, model(5.0))
        switched = choose(tree(), TEASERS, page_chars, {}, identity)
        assert switched.chosen == "readability" and switched.lines[-len(STORY) :] == STORY
        assert switched.score is not None and switched.score > 0
        with_model(tmp_path, model(-5.0))
        kept = choose(tree(), TEASERS, page_chars, {}, identity)
        assert kept.chosen == "trafilatura" and kept.lines == TEASERS and kept.alternative
        same = choose(tree(), STORY[1:3], page_chars, {}, identity)  # readability's holds it all
        assert same.chosen == "trafilatura" and same.alternative and not same.features
    finally:
        use_model_dir(None)


def test_without_a_model_readability_never_runs(tmp_path: Path) -> None:
    try:
        with_model(tmp_path, None)
        choice = choose(tree(), TEASERS, 5000, {}, identity)
        assert choice.chosen == "trafilatura" and choice.alternative is None
        with collect_only():  # training: measures on gated pages, never a switch
            collected = choose(tree(), TEASERS, 5000, {}, identity)
        assert collected.chosen == "trafilatura" and collected.alternative
        assert set(collected.features) == set(FEATURES)
    finally:
        use_model_dir(None)


def test_a_model_for_other_measures_is_refused(tmp_path: Path) -> None:
    stale = {**model(0.0), "features": [*FEATURES[:-1], "word-count"]}
    with pytest.raises(ValueError, match="differ from the code's"):
        check_model(stale)
    try:
        with_model(tmp_path, stale)
        with pytest.raises(ValueError):
            choose(tree(), TEASERS, 5000, {}, identity)
    finally:
        use_model_dir(None)


def test_shipped_model_is_small_and_cross_validated() -> None:
    path = MODEL_DIR / f"{MODEL_NAME}.json"
    assert path.stat().st_size < 20_000
    shipped = load_model(MODEL_NAME)
    assert shipped is not None
    check_model(shipped)
    assert isinstance(shipped["version"], int)
    # Chosen because switching gained on the folds the model did not see.
    assert shipped["cv"]["model_only"]["gain_p_plus_r"] > 0
