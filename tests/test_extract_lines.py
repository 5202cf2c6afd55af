"""The learned line classifier: the shipped model, its inference, and the rule fallback."""

from __future__ import annotations

from pathlib import Path

from pipeline.extract import extract_outcome
from pipeline.extract.lineclass import MODEL, probability
from pipeline.extract.linefeatures import BASE_FEATURES, FEATURES, add_context
from pipeline.extract.models import MODEL_DIR, use_model_dir

SHIPPED = MODEL_DIR / f"{MODEL}.json"


def test_no_line_model_is_shipped_until_cross_validation_accepts_one() -> None:
    """The extractor runs the rule cleaner; a model file would silently switch it over."""
    assert not SHIPPED.exists()


def test_context_features_follow_the_base_features() -> None:
    rows = [[float(i)] * len(BASE_FEATURES) for i in range(5)]
    out = add_context(rows)
    assert all(len(row) == len(FEATURES) for row in out)
    near_chars = FEATURES.index("near_log_chars")
    assert out[0][near_chars] == (1 + 2 + 3) / 3  # lines 1..3 around line 0
    assert out[2][near_chars] == (0 + 1 + 3 + 4) / 4


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
        # a short brief: detection may judge it; the body text is what is tested here
        article = extract_outcome(PAGE, "https://example.org/2026/03/12/harbour-board/").article
    finally:
        use_model_dir(None)
    assert article is not None
    paragraphs = article.text.split("\n\n")
    assert "Related Content" not in paragraphs
    assert paragraphs[0].startswith("The harbour board voted")
    assert len(paragraphs) == 3
