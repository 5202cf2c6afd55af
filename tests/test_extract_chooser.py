"""The body chooser (trafilatura vs readability vs Resiliparse) on hand-written pages and made-up models.

The shipped models' behaviour on real pages is measured by ``benchmarks.extraction`` (cross-
validated); here: readability's and Resiliparse's lines keep paragraph breaks, the gate and the
superset rule decide which pages are judged at all, a model switches only when it says so,
Resiliparse is asked only when readability's model kept trafilatura's body, training mode never
switches, and a model for other measures is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from lxml.html import HtmlElement, fromstring

from pipeline.extract.chooser import (
    FEATURES,
    GATE_PAGE_SHARE,
    MODEL_NAME,
    RESILIPARSE_MODEL,
    RESILIPARSE_PAGE_SHARE,
    check_model,
    choose,
    collect_only,
    features,
    gated,
    readability_lines,
    resiliparse_lines,
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


def page() -> str:
    paragraphs = "".join(f"<p>{p}</p>" for p in STORY)
    teasers = "".join(f'<li><a href="/t{i}">{t}</a></li>' for i, t in enumerate(TEASERS))
    return (
        "<html><body><header><a href='/'>The Ledger</a></header>"
        f"<div class='main'><article><h1>Terminal approved</h1>{paragraphs}</article></div>"
        f"<aside><ul>{teasers}</ul></aside><footer>© The Ledger</footer></body></html>"
    )


def tree() -> HtmlElement:
    return fromstring(page())


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


def with_model(
    tmp_path: Path, data: dict[str, object] | None, resiliparse: dict[str, object] | None = None
) -> None:
    for name, found in ((MODEL_NAME, data), (RESILIPARSE_MODEL, resiliparse)):
        path = tmp_path / f"{name}.json"
        if found is not None:
            path.write_text(json.dumps(found), encoding="utf-8")
        else:
            path.unlink(missing_ok=True)
    use_model_dir(tmp_path)


def identity(lines: list[str]) -> list[str]:
    return lines


def test_readability_lines_keep_paragraphs() -> None:
    lines = readability_lines(tree())
    assert lines[-len(STORY) :] == STORY


def test_resiliparse_lines_are_the_story_one_block_a_line() -> None:
    lines = resiliparse_lines(page())
    assert lines[-len(STORY) :] == STORY  # the article container, not the teasers or footer
    assert not any(t in lines for t in TEASERS)
    assert resiliparse_lines("") == []


def test_only_pages_with_little_of_the_page_are_gated() -> None:
    assert gated(500, 2000)
    assert not gated(1900, 2000)
    assert not gated(0, 2000)
    # readability's gate is wider than Resiliparse's: between them only readability is asked
    assert RESILIPARSE_PAGE_SHARE < GATE_PAGE_SHARE
    assert gated(1500, 2000) and not gated(1500, 2000, RESILIPARSE_PAGE_SHARE)


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


def test_resiliparse_is_asked_when_readability_keeps_ours(tmp_path: Path) -> None:
    page_chars = 5000
    try:
        with_model(tmp_path, model(-5.0), model(5.0))
        switched = choose(tree(), TEASERS, page_chars, {}, identity, page())
        assert switched.chosen == "resiliparse" and switched.lines[-len(STORY) :] == STORY
        assert switched.resiliparse_score is not None and switched.resiliparse_score > 0
        assert set(switched.resiliparse_features) == set(FEATURES)
        assert switched.score is not None and switched.score < 0  # readability was judged first
        no_html = choose(tree(), TEASERS, page_chars, {}, identity)  # Resiliparse needs the page
        assert no_html.chosen == "trafilatura" and no_html.resiliparse is None
        with_model(tmp_path, model(5.0), model(5.0))
        first = choose(tree(), TEASERS, page_chars, {}, identity, page())
        assert first.chosen == "readability" and first.resiliparse is None  # not even run
        with_model(tmp_path, model(-5.0), model(-5.0))
        kept = choose(tree(), TEASERS, page_chars, {}, identity, page())
        assert kept.chosen == "trafilatura" and kept.lines == TEASERS and kept.resiliparse
        with_model(tmp_path, model(-5.0), model(5.0))
        whole = choose(tree(), STORY, len("".join(STORY)), {}, identity, page())
        assert whole.chosen == "trafilatura" and whole.resiliparse is None  # not gated
        # between the two gates readability's model is asked, Resiliparse is not
        ours_chars = sum(map(len, TEASERS))
        between = round(ours_chars / ((GATE_PAGE_SHARE + RESILIPARSE_PAGE_SHARE) / 2))
        middle = choose(tree(), TEASERS, between, {}, identity, page())
        assert middle.chosen == "trafilatura" and middle.features and middle.resiliparse is None
    finally:
        use_model_dir(None)


def test_without_a_model_readability_never_runs(tmp_path: Path) -> None:
    try:
        with_model(tmp_path, None)
        choice = choose(tree(), TEASERS, 5000, {}, identity)
        assert choice.chosen == "trafilatura" and choice.alternative is None
        with collect_only():  # training: measures on gated pages, never a switch
            collected = choose(tree(), TEASERS, 5000, {}, identity, page())
        assert collected.chosen == "trafilatura" and collected.alternative
        assert set(collected.features) == set(FEATURES)
        assert collected.resiliparse and set(collected.resiliparse_features) == set(FEATURES)
        # training measures readability's body beyond the gate too (the model learns where
        # readability loses), Resiliparse's only under its own gate
        with collect_only():
            whole = choose(tree(), TEASERS, sum(map(len, TEASERS)), {}, identity, page())
        assert whole.alternative and set(whole.features) == set(FEATURES) and whole.resiliparse is None
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


def test_shipped_models_are_small_and_cross_validated() -> None:
    from benchmarks.chooser_cv import GRID, pick_c

    for name in (MODEL_NAME, RESILIPARSE_MODEL):
        path = MODEL_DIR / f"{name}.json"
        assert path.stat().st_size < 20_000
        shipped = load_model(name)
        assert shipped is not None
        check_model(shipped)
        assert isinstance(shipped["version"], int)
        # C picked by inner CV on the dev pages (nested in the benchmark), not by the outer folds
        selection = shipped["selection"]
        assert selection["C"] == pick_c(selection["inner_cv"], selection["objective"])
        assert len(selection["inner_cv"]) == len(GRID)
        # Chosen because switching gained on the folds the model did not see.
        if name == MODEL_NAME:
            assert shipped["cv"]["model_only"]["gain_p_plus_r"] > 0
        else:  # both models in turn gained more than readability's alone, in every fold
            both, alone = shipped["cv"]["both_models"], shipped["cv"]["readability_only"]
            assert both["gain_p_plus_r"] > alone["gain_p_plus_r"]
            assert all(fold["gain_p_plus_r"] > 0 for fold in both["folds"].values())
