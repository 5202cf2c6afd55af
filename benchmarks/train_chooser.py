"""Train the body chooser's models (``chooser.json``, ``chooser-resiliparse.json``) on the WCXB dev pages.

Each dev article where readability found a body that is not a
:func:`~pipeline.extract.chooser.superset` of trafilatura's (readability chose a different
container) is one sample, whatever share of the page trafilatura's body covers: the model is
asked only under the gate (:func:`pipeline.extract.chooser.gated`), but the pages beyond it,
where readability's body mostly loses, teach it where readability loses (extractor 2.8: out of
fold +10.9 in summed per-page precision + recall with Resiliparse's model, against +9.1 trained on
the gated pages alone; ``benchmarks.chooser_training``). A sample holds the page-level measures
of both bodies (:func:`pipeline.extract.chooser.features`,
the extractor's own code path, collected with the chooser in ``collect_only`` mode) and the
difference in per-page shingle precision + recall (the benchmark's metric, re-implemented
below) between readability's body and trafilatura's. The model is a logistic regression on
standardised features; the label is "readability is better", each sample weighted by how much
better or worse (a page where the two bodies score alike hardly matters, a page where one of
them is the wrong container matters a lot). Log-odds above 0 switch.

The second model (:data:`pipeline.extract.chooser.RESILIPARSE_MODEL`) is trained the same way on
Resiliparse's body against trafilatura's, on every page under Resiliparse's own gate
(:data:`~pipeline.extract.chooser.RESILIPARSE_PAGE_SHARE`) where Resiliparse found a body
(the chooser asks it when readability's model kept trafilatura's body).

Each model's ``C`` comes from a fixed grid by an inner 5-fold CV on the trainer's pages only
(:mod:`benchmarks.chooser_cv`, the inner folds of :func:`benchmarks.cv.inner_folds`, as the detection and
date trainers use for their thresholds), maximising the summed gain where the extractor asks
the model; Resiliparse's is counted on the pages readability's model leaves to it. Run per
outer fold by :mod:`benchmarks.cv`, that makes the benchmark a nested cross-validation: until
extractor 2.8 both ``C`` were fixed by looking at the same outer folds' figures. The inner
table and the chosen ``C`` are recorded in each model file (``selection``). Maximising the gain
rather than minimising the weighted log-loss: the log-loss picked ``C`` from 0.3 to 30 across
the outer folds and gained less out of fold (+8.9 against +10.7, extractor 2.9's printout).

``python -m benchmarks.train_chooser`` prints 5-fold cross-validated figures, counted on the
pages under the gate (the folds of :mod:`benchmarks.cv`, per fold and overall): nested
selection by either objective, extractor 2.8's fixed ``C`` and each ``C`` of the grid for
readability's model; then trains on all dev pages (``C`` again by inner CV) and writes both
models with those figures inside. ``train`` and ``train_resiliparse`` are the trainers
:mod:`benchmarks.cv` runs per fold (names ``chooser`` and ``chooser-resiliparse``), so
``python -m benchmarks.extraction`` scores every page with choosers that never saw it.
scikit-learn is needed here only; inference is plain Python.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VERSION = 1
_TOKEN = re.compile(r"\w+")

Sample = tuple[dict[str, float], str, str]
#: page key -> {candidate: (features, ours text, candidate text)}; a candidate the chooser did not
#: judge on the page is missing
_cache: dict[str, dict[str, Sample]] = {}


def samples(page: dict[str, Any]) -> dict[str, Sample]:
    """The chooser's measures and both bodies for one dev page, per candidate it judged."""
    key = page["id"] + ":" + hashlib.sha1(page["html"].encode("utf-8", "replace")).hexdigest()
    if key not in _cache:
        from pipeline.extract.api import extract_outcome
        from pipeline.extract.chooser import collect_only

        with collect_only():
            outcome = extract_outcome(page["html"], page["url"])
        choice = outcome.choice
        found: dict[str, Sample] = {}
        if outcome.article is not None and choice is not None:
            ours = outcome.article.text
            if choice.features and choice.alternative is not None:
                found["readability"] = (choice.features, ours, "\n\n".join(choice.alternative))
            if choice.resiliparse_features and choice.resiliparse is not None:
                found["resiliparse"] = (choice.resiliparse_features, ours, "\n\n".join(choice.resiliparse))
        _cache[key] = found
    return _cache[key]


@functools.cache
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


def asked(values: dict[str, float], ours: str) -> bool:
    """Whether the extractor asks readability's model on this sample's page (its gate).

    The training samples cover every band of our body's share of the page (``collect_only``
    ignores the gate); the extractor applies the model only under
    :data:`~pipeline.extract.chooser.GATE_PAGE_SHARE`, so the cross-validated figures count
    switches there only. The page's characters come back from the measure ``log-page-chars``,
    ours from the joined text (lines joined by a blank line).
    """
    from pipeline.extract.chooser import gated

    lines = ours.split("\n\n")
    return gated(sum(map(len, lines)), round(math.expm1(values["log-page-chars"])))


def _matrix(
    pages: list[dict[str, Any]], candidate: str = "readability", only_asked: bool = False
) -> tuple[list[list[float]], list[float], list[str]]:
    """Features, gains and page ids of ``candidate``'s samples (``only_asked``: under the gate only)."""
    from pipeline.extract.chooser import FEATURES

    rows, gains, ids = [], [], []
    for page in pages:
        if page["page_type"] != "article":
            continue
        found = samples(page).get(candidate)
        if found is None:
            continue
        values, ours, alternative = found
        if only_asked and not asked(values, ours):
            continue
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
    """The trainer of :mod:`benchmarks.cv` (name ``chooser``): the model JSON for ``docs``, its
    ``C`` chosen by inner CV on ``docs`` (recorded under ``selection``)."""
    from benchmarks.chooser_cv import choose_c

    c, record = choose_c(docs)
    rows, gains, _ids = _matrix(docs)
    return {"version": VERSION, **_fit(rows, gains, c), "selection": record}


def train_resiliparse(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The trainer of :mod:`benchmarks.cv` (name ``chooser-resiliparse``): Resiliparse's model."""
    from benchmarks.chooser_cv import choose_c_resiliparse

    c, record = choose_c_resiliparse(docs)
    rows, gains, _ids = _matrix(docs, "resiliparse")
    return {"version": VERSION, **_fit(rows, gains, c), "selection": record}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the ../shared folder")
    parser.add_argument("--out", type=Path, default=ROOT / "pipeline" / "extract" / "models" / "chooser.json")
    parser.add_argument(
        "--out-resiliparse",
        type=Path,
        default=ROOT / "pipeline" / "extract" / "models" / "chooser-resiliparse.json",
    )
    parser.add_argument("--no-write", action="store_true", help="print the CV figures only")
    args = parser.parse_args(argv)
    import sys

    from benchmarks.chooser_cv import (
        FIXED_C,
        FIXED_C_RESILIPARSE,
        GRID,
        OBJECTIVE,
        cross_validate,
        nested_cv,
    )
    from benchmarks.cv import load_dev_pages
    from benchmarks.logistic import ship_model

    sys.setrecursionlimit(10_000)
    pages = load_dev_pages(args.shared / "data" / "wcxb")

    def brief(figures: dict[str, Any]) -> dict[str, Any]:
        folds = [f["gain_p_plus_r"] for f in figures["folds"].values()]
        return {**{k: v for k, v in figures.items() if k != "folds"}, "per_fold": folds}

    nested: dict[str, Any] = {}
    runs = {}
    for objective in ("gain", "log_loss"):
        choices, model_only, both = nested_cv(pages, objective)
        runs[objective] = (choices, model_only, both)
        nested[objective] = {
            "C_per_fold": [list(choices[f]) for f in sorted(choices)],
            "readability_only": brief(model_only),
            "both_models": brief(both),
        }
        print(f"nested, {objective}: {json.dumps(nested[objective])}", flush=True)
    fixed = {
        "readability_only": brief(cross_validate(pages, FIXED_C)),
        "both_models": brief(cross_validate(pages, FIXED_C, FIXED_C_RESILIPARSE)),
    }
    print(f"fixed C {FIXED_C} / {FIXED_C_RESILIPARSE} (2.8): {json.dumps(fixed)}", flush=True)
    alternatives = {}
    for c in GRID:
        alternatives[f"C={c:g}"] = brief(cross_validate(pages, c))
        print(f"fixed C={c:<4} {json.dumps(alternatives[f'C={c:g}'])}", flush=True)
    choices, model_only, both = runs[OBJECTIVE]
    model = train(pages)
    model["cv"] = {
        "folds": 5,
        "dataset": "wcxb/dev",
        "C": "nested: chosen per outer fold by inner CV on its training pages",
        "C_per_fold": [choices[f][0] for f in sorted(choices)],
        "model_only": model_only,
        "nested_objectives": nested,
        "fixed_C": {"2.8 (3.0 / 0.3)": fixed, "readability_only": alternatives},
    }
    model["training"] = {"pages": model_only["trained_on"], "asked_on": model_only["looked_at"]}
    ship_model(model, args.out, write=not args.no_write)
    second = train_resiliparse(pages)
    second["cv"] = {
        "folds": 5,
        "dataset": "wcxb/dev",
        "C_per_fold": [choices[f][1] for f in sorted(choices)],
        "both_models": both,
        "readability_only": brief(model_only),
    }
    second["training"] = {"pages": len(_matrix(pages, "resiliparse")[2])}
    ship_model(second, args.out_resiliparse, write=not args.no_write)
    return model


if __name__ == "__main__":
    main()
