"""The line-classifier experiment (``benchmarks/lineclass.py``) and the extractor's rule cleaner.

Cross-validation rejected the classifier, so the extractor has no hook for it: no model file
in ``pipeline/extract/models`` changes what it keeps.
"""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.lineclass import MODEL, probability
from benchmarks.linefeatures import BASE_FEATURES, FEATURES, add_context
from pipeline.extract import extract_outcome
from pipeline.extract.models import MODEL_DIR, use_model_dir

SHIPPED = MODEL_DIR / f"{MODEL}.json"


def test_no_line_model_is_shipped_and_the_extractor_does_not_import_the_experiment() -> None:
    """The classifier lives in benchmarks/: nothing in pipeline/extract reads a lines model."""
    assert not SHIPPED.exists()
    package = Path(__file__).resolve().parents[1] / "pipeline" / "extract"
    for path in package.glob("*.py"):
        source = path.read_text(encoding="utf-8")
        assert "lineclass" not in source and "linefeatures" not in source, path


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


def test_the_rule_cleaner_runs_whatever_the_model_directory_holds(tmp_path: Path) -> None:
    # a valid line model that drops every line, were the extractor to read one
    dropping = {"features": list(FEATURES), "init": -30.0, "rate": 1.0, "threshold": 0.5, "trees": []}
    (tmp_path / f"{MODEL}.json").write_text(json.dumps(dropping))
    use_model_dir(tmp_path)
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
