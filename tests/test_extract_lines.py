"""The learned line classifier: the shipped model, its inference, and the rule fallback."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.extract import extract_article
from pipeline.extract.lineclass import MODEL, probability
from pipeline.extract.linefeatures import FEATURES
from pipeline.extract.models import MODEL_DIR, use_model_dir

SHIPPED = MODEL_DIR / f"{MODEL}.json"


def test_shipped_model_is_small_versioned_and_matches_the_features() -> None:
    assert SHIPPED.stat().st_size < 200_000
    model = json.loads(SHIPPED.read_text(encoding="utf-8"))
    assert model["version"].startswith("lines/")
    assert tuple(model["features"]) == FEATURES
    assert len(model["cv_line_figures"]) == 5
    assert all(fold["accuracy"] > 0.8 for fold in model["cv_line_figures"])
    for tree in model["trees"]:
        assert len(tree["f"]) == len(tree["t"]) == len(tree["l"]) == len(tree["r"]) == len(tree["v"])


def test_probability_walks_each_tree_to_a_leaf() -> None:
    stump = {"f": [0, 0, 0], "t": [1.5, 0.0, 0.0], "l": [1, -1, -1], "r": [2, -1, -1], "v": [0.0, -2.0, 2.0]}
    model = {"init": 0.0, "rate": 1.0, "trees": [stump, stump]}
    assert probability(model, [1.0]) < 0.05  # left leaf twice: log-odds -4
    assert probability(model, [2.0]) > 0.95  # right leaf twice: log-odds +4
    assert probability({"init": 0.0, "rate": 1.0, "trees": []}, [0.0]) == 0.5


PAGE = """<html><head><title>Harbour board votes to close the east pier</title></head><body>
<nav><a href="/">Home</a> <a href="/news">News</a></nav>
<article><h1>Harbour board votes to close the east pier</h1>
<p>The harbour board voted on Tuesday to close the east pier for repairs, after engineers found
corrosion in three of its steel supports during a routine inspection last month.</p>
<p>Fishing boats that use the pier will move to the west basin until the work is finished, which
the board expects to take most of the summer and cost about four million euros.</p>
<p>Related Content</p>
<p>Local skippers said the move would add half an hour to every trip, but most agreed that the
repairs could not wait another winter.</p>
</article></body></html>"""


def test_without_a_model_file_the_rule_cleaner_still_runs(tmp_path: Path) -> None:
    use_model_dir(tmp_path)  # an empty model directory: no line model
    try:
        article = extract_article(PAGE, "https://example.org/2026/03/12/harbour-board/")
    finally:
        use_model_dir(None)
    assert article is not None
    paragraphs = article.text.split("\n\n")
    assert "Related Content" not in paragraphs
    assert paragraphs[0].startswith("The harbour board voted")
    assert len(paragraphs) == 3
