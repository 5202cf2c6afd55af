"""Experiment: train the line classifier (``benchmarks/lineclass.py``) on the WCXB dev pages.

Every line trafilatura keeps on a dev article page is a sample: its features come from
:func:`benchmarks.lineclass.candidate_rows` (the extractor's own code path, so training
and run time cannot drift) and its label says whether the line's words belong to the
reviewed main text (most of its 4-token shingles, or the whole token run for short lines).
Samples are weighted by the square root of their token count: the benchmark scores shingles,
so long lines matter more, but a page of many short lines must still count.

The model is scikit-learn gradient boosting with shallow trees, exported to JSON as arrays
(``lineclass.probability`` walks them in plain Python). Registered in ``benchmarks.cv`` as
"lines" (``benchmarks.train_lines:train``), ``python -m benchmarks.extraction`` would score
every page with a model trained on the other folds only.

    PYTHONPATH=. .venv/bin/python -m benchmarks.train_lines [--shared ../shared] [--out lines.json]

writes the model trained on all dev pages, with its per-fold line-level figures inside.

Status (issue 15): rejected by cross-validation, so the classifier and its features live here
in ``benchmarks/`` and the extractor (``pipeline/extract/api.py``) has no hook for it. The one
complete 5-fold run (WCXB dev, 711 articles, gradient boosting over the base features,
sqrt-token weights, threshold 0.5) gave F1 0.9424 against 0.9426 for the rule cleaner on the
same candidate lines (precision 0.9383 vs 0.9334, recall 0.9467 vs 0.9519; "without" snippet
rate 0.032 vs 0.044, "with" 0.861 vs 0.867): no gain, so the rules stay. A second run with
the neighbourhood features, per-page token weights and scikit-learn's histogram boosting
(200 trees, depth 4) gave F1 0.9408 / 0.9400 / 0.9390 at thresholds 0.4 / 0.5 / 0.6
(precision up to 0.940, recall down to 0.938-0.945): worse. Trafilatura's unfiltered
recall-mode lines score 0.9402, so a perfect line filter is capped near recall 0.952; the
lines it drops wrongly cost more than the boilerplate it removes. The features also cost
about 0.57x trafilatura's own CPU time per page (speed would fall to ~0.57x). Register the
trainer and ship a model only when ``python -m benchmarks.extraction`` shows a
cross-validated gain at acceptable speed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VERSION = "lines/1"
THRESHOLD = 0.5
PARAMS: dict[str, Any] = {
    "max_iter": 200,
    "max_depth": 4,
    "learning_rate": 0.1,
    "min_samples_leaf": 20,
    "random_state": 0,
}
_TOKEN = re.compile(r"\w+")

#: page id -> (feature rows, labels, weights); features depend only on the page.
_CACHE: dict[str, tuple[list[list[float]], list[int], list[float]]] = {}


def _label(line: str, truth_shingles: set[tuple[str, ...]], truth_joined: str) -> tuple[int, float] | None:
    tokens = _TOKEN.findall(line)
    if not tokens:
        return None
    weight = len(tokens) ** 0.5
    if len(tokens) < 4:
        return int(f" {' '.join(tokens)} " in truth_joined), weight
    shingles = [tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3)]
    inside = sum(s in truth_shingles for s in shingles)
    return int(inside * 2 >= len(shingles)), weight


def page_samples(page: dict[str, Any]) -> tuple[list[list[float]], list[int], list[float]]:
    """Feature rows, labels and weights of one dev article page (cached per page id)."""
    cached = _CACHE.get(page["id"])
    if cached is not None:
        return cached
    from benchmarks.lineclass import candidate_rows
    from pipeline.extract import htmlbody, parsing
    from pipeline.extract.cleaning import preclean_tree
    from pipeline.extract.jsonld import parse_jsonld
    from pipeline.extract.metadata import extract_page_meta

    rows: list[list[float]] = []
    labels: list[int] = []
    weights: list[float] = []
    tree = parsing.parse_html(page["html"]) if page["page_type"] == "article" and page["text"] else None
    if tree is not None and parsing.nesting_depth(tree) < parsing.MAX_DEPTH:
        meta = extract_page_meta(tree, parse_jsonld(tree), page["url"])
        precleaned = preclean_tree(tree, [], page["url"])
        raw, body = htmlbody.body_lines(tree, page["url"], precleaned.page_chars)
        lines, features = candidate_rows(tree, raw, body, meta.title)
        truth_tokens = _TOKEN.findall(page["text"])
        truth_shingles = {tuple(truth_tokens[i : i + 4]) for i in range(max(0, len(truth_tokens) - 3))}
        truth_joined = f" {' '.join(truth_tokens)} "
        for line, row in zip(lines, features, strict=True):
            labelled = _label(line, truth_shingles, truth_joined)
            if labelled is None:
                continue
            rows.append(row)
            labels.append(labelled[0])
            weights.append(labelled[1])
    _CACHE[page["id"]] = (rows, labels, weights)
    return rows, labels, weights


def _export(model: Any) -> list[dict[str, list[Any]]]:
    """HistGradientBoosting trees as arrays: feature, threshold, left, right (-1: leaf), value."""
    trees: list[dict[str, list[Any]]] = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        trees.append(
            {
                "f": [int(x) for x in nodes["feature_idx"]],
                "t": [round(float(x), 6) for x in nodes["num_threshold"]],
                "l": [-1 if is_leaf else int(x) for x, is_leaf in zip(nodes["left"], leaf, strict=True)],
                "r": [-1 if is_leaf else int(x) for x, is_leaf in zip(nodes["right"], leaf, strict=True)],
                "v": [
                    round(float(x), 6) if is_leaf else 0.0
                    for x, is_leaf in zip(nodes["value"], leaf, strict=True)
                ],
            }
        )
    return trees


def _fit(pages: list[dict[str, Any]]) -> Any:
    import numpy as np
    from sklearn.ensemble import HistGradientBoostingClassifier

    rows: list[list[float]] = []
    labels: list[int] = []
    weights: list[float] = []
    for page in pages:
        r, y, w = page_samples(page)
        rows += r
        labels += y
        weights += w
    from threadpoolctl import threadpool_limits

    model = HistGradientBoostingClassifier(**PARAMS)
    # One thread: OpenMP workers spin at barriers on a busy machine (measured 20x slower on 2 cores).
    with threadpool_limits(limits=1):
        model.fit(np.array(rows), np.array(labels), sample_weight=np.array(weights))
    return model


def train(pages: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON model trained on ``pages`` (the ``benchmarks.cv`` trainer contract)."""
    from benchmarks.linefeatures import FEATURES

    model = _fit(pages)
    return {
        "version": VERSION,
        "features": list(FEATURES),
        "init": round(float(model._baseline_prediction.ravel()[0]), 6),
        "rate": 1.0,
        "threshold": THRESHOLD,
        "trees": _export(model),
    }


def cv_figures(pages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Line-level accuracy per fold (weighted), each fold scored by a model that never saw it."""
    from benchmarks.cv import K, fold_of
    from benchmarks.lineclass import probability

    figures = []
    for fold in range(K):
        model = train([p for p in pages if fold_of(p["id"]) != fold])
        right = total = 0.0
        kept_true = kept = true = 0.0
        for page in pages:
            if fold_of(page["id"]) != fold:
                continue
            rows, labels, weights = page_samples(page)
            for row, label, weight in zip(rows, labels, weights, strict=True):
                keep = probability(model, row) >= model["threshold"]
                right += weight * (keep == bool(label))
                total += weight
                kept += weight * keep
                true += weight * label
                kept_true += weight * (keep and label)
        figures.append(
            {
                "fold": fold,
                "accuracy": round(right / max(total, 1e-9), 4),
                "precision": round(kept_true / max(kept, 1e-9), 4),
                "recall": round(kept_true / max(true, 1e-9), 4),
            }
        )
        print(figures[-1], file=sys.stderr, flush=True)
    return figures


def main(argv: list[str] | None = None) -> None:
    from benchmarks.cv import load_dev_pages

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "lines.json")
    args = parser.parse_args(argv)
    sys.setrecursionlimit(10_000)
    pages = load_dev_pages(args.shared / "data" / "wcxb")
    figures = cv_figures(pages)
    model = train(pages)
    model["cv_line_figures"] = figures
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(model, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
