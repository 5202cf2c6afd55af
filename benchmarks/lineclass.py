"""Experiment (not in the extractor): a learned line classifier over trafilatura's body lines.

Trafilatura (recall mode) finds the body container well but keeps what sits inside or next
to it: teasers, credits, consent placeholders, navigation glued to the text. Instead of a
growing list of phrases tuned on the dev pages, a small gradient-boosted tree model over the
line features of :mod:`benchmarks.linefeatures` keeps or drops each line. It is trained by
``benchmarks/train_lines.py`` with 5-fold cross-validation on the WCXB dev pages (trees as
arrays in a ``lines.json``); inference is plain Python.

Cross-validation rejected it (see ``benchmarks/train_lines.py`` for the figures), so it was
moved out of ``pipeline/extract``: the extractor runs the rule cleaner only. To try a new
variant, train it with ``train_lines.py``, call :func:`classify_lines` from
``pipeline.extract.htmlbody.clean_body`` and register ``"lines": "benchmarks.train_lines:train"``
in ``benchmarks.cv.TRAINERS`` so ``python -m benchmarks.extraction`` scores it per fold.

Per-source rules stay hard rules (they are the operator's word, and site-learned lines are
evidence from the source itself): ``drop_patterns`` and learned boilerplate are removed
before the model sees the lines.
"""

from __future__ import annotations

import math
from typing import Any

from lxml.html import HtmlElement

from benchmarks.linefeatures import FEATURES, index_page, line_features, output_tags
from pipeline.extract.cleaning import LineCleaner, line_hash, normalise_line
from pipeline.extract.models import load_model

MODEL = "lines"


def _tree_value(tree: dict[str, list[Any]], row: list[float]) -> float:
    feature, threshold, left, right, value = tree["f"], tree["t"], tree["l"], tree["r"], tree["v"]
    node = 0
    while left[node] != -1:
        node = left[node] if row[feature[node]] <= threshold[node] else right[node]
    return float(value[node])


def probability(model: dict[str, Any], row: list[float]) -> float:
    """P(line is article text) from the boosted trees (log-odds sum, then the logistic)."""
    score = float(model["init"]) + float(model["rate"]) * sum(_tree_value(t, row) for t in model["trees"])
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, score))))


def candidate_rows(
    tree: HtmlElement, raw_lines: list[str], body: object, title: str | None
) -> tuple[list[str], list[list[float]]]:
    """Normalised non-empty lines and their feature rows (shared with the trainer)."""
    lines = [line for line in (normalise_line(raw) for raw in raw_lines) if line]
    return lines, line_features(lines, index_page(tree), output_tags(body), title)


def _site_rule(cleaner: LineCleaner, line: str) -> bool:
    if cleaner.learned and line_hash(line) in cleaner.learned:
        return True
    return any(p.search(line) for p in cleaner.drop_patterns)


def classify_lines(
    tree: HtmlElement, raw_lines: list[str], body: object, title: str | None, cleaner: LineCleaner
) -> list[str] | None:
    """The lines the model keeps (dropped ones go to ``cleaner.removed``); None without a model."""
    model = load_model(MODEL)
    if model is None or tuple(model.get("features", ())) != FEATURES:
        return None
    lines, rows = candidate_rows(tree, raw_lines, body, title)
    threshold = float(model["threshold"])
    kept: list[str] = []
    for line, row in zip(lines, rows, strict=True):
        if _site_rule(cleaner, line) or probability(model, row) < threshold:
            cleaner.removed.append(line)
        else:
            kept.append(line)
    return cleaner._drop_repeated_runs(kept)
