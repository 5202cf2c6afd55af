"""Train the body chooser (``pipeline/extract/models/chooser.json``) on the WCXB dev pages.

Each dev article whose trafilatura body the chooser looks at (:func:`pipeline.extract.chooser.gated`
and not :func:`~pipeline.extract.chooser.superset`: readability chose a different container) is one sample: the page-level measures of both bodies (:func:`pipeline.extract.chooser.features`,
the extractor's own code path, collected with the chooser in ``collect_only`` mode) and the
difference in per-page shingle precision + recall (the benchmark's metric, re-implemented
below) between readability's body and trafilatura's. The model is a logistic regression on
standardised features; the label is "readability is better", each sample weighted by how much
better or worse (a page where the two bodies score alike hardly matters, a page where one of
them is the wrong container matters a lot). Log-odds above 0 switch.

``python -m benchmarks.train_chooser`` prints 5-fold cross-validated figures (the folds of
:mod:`benchmarks.cv`, per fold and overall, for the shipped ``C`` and the alternatives), then
trains on all dev pages and writes the model with those figures inside. ``train`` is the
trainer :mod:`benchmarks.cv` runs per fold (name ``chooser``), so ``python -m
benchmarks.extraction`` scores every page with a chooser that never saw it.
scikit-learn is needed here only; inference is plain Python.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VERSION = 1
#: Inverse L2 strength on standardised features: the best of the CV printout (0.1 … 10; 3 and 10 tie).
C = 3.0
_TOKEN = re.compile(r"\w+")

#: page key -> (features, ours text, alternative text) or None when the chooser skipped the page
_cache: dict[str, tuple[dict[str, float], str, str] | None] = {}


def sample(page: dict[str, Any]) -> tuple[dict[str, float], str, str] | None:
    """The chooser's measures and both bodies for one dev page (None: not looked at)."""
    key = page["id"] + ":" + hashlib.sha1(page["html"].encode("utf-8", "replace")).hexdigest()
    if key not in _cache:
        from pipeline.extract.api import extract_outcome
        from pipeline.extract.chooser import collect_only

        with collect_only():
            outcome = extract_outcome(page["html"], page["url"])
        choice = outcome.choice
        if outcome.article is None or choice is None or not choice.features or choice.alternative is None:
            _cache[key] = None
        else:
            _cache[key] = (choice.features, outcome.article.text, "\n\n".join(choice.alternative))
    return _cache[key]


def precision_recall(truth: str, text: str) -> tuple[float, float]:
    """Per-page shingle precision and recall (the article-extraction-benchmark definition)."""

    def shingles(s: str) -> Counter[tuple[str, ...]]:
        tokens = _TOKEN.findall(s)
        if 0 < len(tokens) < 4:
            return Counter([tuple(tokens)])
        return Counter(tuple(tokens[i : i + 4]) for i in range(len(tokens) - 3))

    want, got = shingles(truth), shingles(text)
    tp = sum((want & got).values())
    fp = sum((got - want).values())
    fn = sum((want - got).values())
    if fp == 0 and fn == 0:
        return 1.0, 1.0
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return precision, recall


def _matrix(pages: list[dict[str, Any]]) -> tuple[list[list[float]], list[float], list[str]]:
    from pipeline.extract.chooser import FEATURES

    rows, gains, ids = [], [], []
    for page in pages:
        if page["page_type"] != "article":
            continue
        found = sample(page)
        if found is None:
            continue
        values, ours, alternative = found
        rows.append([values[name] for name in FEATURES])
        gains.append(
            sum(precision_recall(page["text"], alternative)) - sum(precision_recall(page["text"], ours))
        )
        ids.append(page["id"])
    return rows, gains, ids


def _fit(rows: list[list[float]], gains: list[float], c: float) -> dict[str, Any]:
    """A logistic model of "readability's body is better", each page weighted by what it is worth."""
    from benchmarks.logistic import fit_logistic
    from pipeline.extract.chooser import FEATURES

    labels = [int(g > 0) for g in gains]
    weights = [abs(g) + 1e-3 for g in gains]
    return fit_logistic(rows, labels, FEATURES, c, sample_weight=weights, max_iter=5000)


def train(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The trainer of :mod:`benchmarks.cv` (name ``chooser``): the model JSON for ``docs``."""
    rows, gains, _ids = _matrix(docs)
    return {"version": VERSION, **_fit(rows, gains, C)}


def cross_validate(pages: list[dict[str, Any]], c: float = C) -> dict[str, Any]:
    """Outer 5-fold figures of the chooser alone: per-page P+R summed over switched pages."""
    from benchmarks.cv import K, fold_of
    from pipeline.extract.chooser import FEATURES, score

    rows, gains, ids = _matrix(pages)
    per_fold: dict[int, dict[str, float]] = {}
    for fold in range(K):
        train_idx = [i for i, d in enumerate(ids) if fold_of(d) != fold]
        model = _fit([rows[i] for i in train_idx], [gains[i] for i in train_idx], c)
        switched = [
            i
            for i, d in enumerate(ids)
            if fold_of(d) == fold and score(model, dict(zip(FEATURES, rows[i], strict=True))) > 0
        ]
        per_fold[fold] = {
            "looked_at": sum(fold_of(d) == fold for d in ids),
            "switched": len(switched),
            "gain_p_plus_r": round(sum(gains[i] for i in switched), 3),
            "won": sum(gains[i] > 0 for i in switched),
            "lost": sum(gains[i] < 0 for i in switched),
        }
    return {
        "looked_at": len(ids),
        "switched": sum(f["switched"] for f in per_fold.values()),
        "gain_p_plus_r": round(sum(f["gain_p_plus_r"] for f in per_fold.values()), 3),
        "folds": per_fold,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the ../shared folder")
    parser.add_argument("--out", type=Path, default=ROOT / "pipeline" / "extract" / "models" / "chooser.json")
    parser.add_argument("--no-write", action="store_true", help="print the CV figures only")
    args = parser.parse_args(argv)
    import sys

    from benchmarks.cv import load_dev_pages
    from benchmarks.logistic import ship_model

    sys.setrecursionlimit(10_000)
    pages = load_dev_pages(args.shared / "data" / "wcxb")
    alternatives = {}
    for c in (0.1, 0.3, 1.0, 3.0, 10.0):
        figures = cross_validate(pages, c)
        alternatives[f"C={c}"] = {k: v for k, v in figures.items() if k != "folds"}
        print(f"C={c:<4} {json.dumps(figures)}", flush=True)
    shipped = cross_validate(pages)
    model = train(pages)
    model["cv"] = {"folds": 5, "dataset": "wcxb/dev", "model_only": shipped, "alternatives": alternatives}
    model["training"] = {"C": C, "pages": shipped["looked_at"]}
    ship_model(model, args.out, write=not args.no_write)
    return model


if __name__ == "__main__":
    main()
