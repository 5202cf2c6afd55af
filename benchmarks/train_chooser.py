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
(the chooser asks it when readability's model kept trafilatura's body). Its ``C`` is smaller
(:data:`C_RESILIPARSE`): that model sees more pages that differ little, and a strong fit to
them switched more pages that lost.

``python -m benchmarks.train_chooser`` prints 5-fold cross-validated figures, counted on the
pages under the gate (the folds of
:mod:`benchmarks.cv`, per fold and overall, for the shipped ``C`` and the alternatives; for the
second model, the gain of both models applied in turn, as the extractor does), then trains on
all dev pages and writes both models with those figures inside. ``train`` and
``train_resiliparse`` are the trainers :mod:`benchmarks.cv` runs per fold (names ``chooser``
and ``chooser-resiliparse``), so ``python -m benchmarks.extraction`` scores every page with
choosers that never saw it.
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
from collections.abc import Callable, Iterable, Set
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
VERSION = 1
#: The ``C`` (inverse L2 strength on standardised features) each model may get: inside every
#: training set (each outer fold's, and all dev pages for the shipped models) an inner 5-fold CV
#: on those pages alone picks one (:func:`choose_c`), so no figure that judges a model helped
#: choose its ``C``.
GRID = (0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
#: What the inner CV maximises: "gain", the summed per-page precision + recall of the pages
#: the model switches where the extractor asks it (the benchmark's own measure), or
#: "log_loss", the weighted log-loss of its probabilities there (minimised).
OBJECTIVE = "gain"
#: Extractor 2.8's fixed ``C`` (readability's, Resiliparse's), chosen by looking at the outer
#: folds' figures: printed beside the nested choice for comparison only.
FIXED_C, FIXED_C_RESILIPARSE = 3.0, 0.3
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
    import math

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


Matrix = tuple[list[list[float]], list[float], list[str]]


def _subset(matrix: Matrix, keep: Callable[[str], bool]) -> Matrix:
    rows, gains, ids = matrix
    idx = [i for i, d in enumerate(ids) if keep(d)]
    return [rows[i] for i in idx], [gains[i] for i in idx], [ids[i] for i in idx]


def _margins(matrix: Matrix, c: float, splits: Iterable[tuple[list[int], list[int]]]) -> dict[str, float]:
    """Page id -> log-odds of the model trained on each split's first part, for its second part."""
    from pipeline.extract.chooser import FEATURES, score

    rows, gains, ids = matrix
    out: dict[str, float] = {}
    for train_idx, test_idx in splits:
        model = _fit([rows[i] for i in train_idx], [gains[i] for i in train_idx], c)
        for i in test_idx:
            out[ids[i]] = score(model, dict(zip(FEATURES, rows[i], strict=True)))
    return out


def inner_table(
    matrix: Matrix, counted: set[str], blocked: Set[str] = frozenset(), grid: Iterable[float] = GRID
) -> dict[str, dict[str, float]]:
    """Inner-CV figures of each ``C`` in ``grid`` on one training set (:func:`benchmarks.cv.inner_folds`).

    ``gain``: per-page precision + recall summed over the pages in ``counted`` (where the
    extractor asks the model) and not in ``blocked`` (taken by readability's model first) that
    the inner out-of-fold model switches; ``log_loss``: the weighted log-loss of its
    out-of-fold probabilities over the same pages, the weights as in training.
    """
    from benchmarks.cv import inner_folds

    table: dict[str, dict[str, float]] = {}
    _rows, gains, ids = matrix
    for c in grid:
        margins = _margins(matrix, c, inner_folds(ids))
        gain = loss = weight = 0.0
        for d, g in zip(ids, gains, strict=True):
            if d not in counted or d in blocked:
                continue
            gain += g if margins[d] > 0 else 0.0
            z = margins[d] if g > 0 else -margins[d]
            loss += (abs(g) + 1e-3) * math.log1p(math.exp(-z))
            weight += abs(g) + 1e-3
        table[f"{c:g}"] = {"gain": round(gain, 3), "log_loss": round(loss / max(weight, 1e-9), 4)}
    return table


def pick_c(table: dict[str, dict[str, float]], objective: str = OBJECTIVE) -> float:
    """The ``C`` of ``table`` best by ``objective`` ("gain": highest; "log_loss": lowest); ties: the smaller."""
    sign = 1.0 if objective == "gain" else -1.0
    best = max(sorted(table, key=float), key=lambda c: (sign * table[c][objective], -float(c)))
    return float(best)


def _asked_ids(docs: list[dict[str, Any]]) -> set[str]:
    return set(_matrix(docs, only_asked=True)[2])


def choose_c(docs: list[dict[str, Any]], objective: str = OBJECTIVE) -> tuple[float, dict[str, Any]]:
    """Readability's ``C`` for ``docs`` by inner CV, and its record (the table, the objective)."""
    table = inner_table(_matrix(docs), _asked_ids(docs))
    c = pick_c(table, objective)
    return c, {"C": c, "objective": objective, "inner_folds": _inner_k(), "inner_cv": table}


def choose_c_resiliparse(
    docs: list[dict[str, Any]], objective: str = OBJECTIVE, c_readability: float | None = None
) -> tuple[float, dict[str, Any]]:
    """Resiliparse's ``C`` for ``docs`` by inner CV, counted on the pages readability's model
    (its ``C`` chosen the same way, unless given) leaves to it in the inner folds."""
    from benchmarks.cv import inner_folds

    read, asked_on = _matrix(docs), _asked_ids(docs)
    c_read = c_readability if c_readability is not None else choose_c(docs, objective)[0]
    margins = _margins(read, c_read, inner_folds(read[2]))
    blocked = {d for d, m in margins.items() if m > 0 and d in asked_on}
    res = _matrix(docs, "resiliparse")
    table = inner_table(res, set(res[2]), blocked)
    c = pick_c(table, objective)
    record = {"C": c, "objective": objective, "inner_folds": _inner_k(), "readability_C": c_read}
    return c, {**record, "inner_cv": table}


def _inner_k() -> int:
    from benchmarks.cv import INNER_K

    return INNER_K


def train(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The trainer of :mod:`benchmarks.cv` (name ``chooser``): the model JSON for ``docs``, its
    ``C`` chosen by inner CV on ``docs`` (recorded under ``selection``)."""
    c, record = choose_c(docs)
    rows, gains, _ids = _matrix(docs)
    return {"version": VERSION, **_fit(rows, gains, c), "selection": record}


def train_resiliparse(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The trainer of :mod:`benchmarks.cv` (name ``chooser-resiliparse``): Resiliparse's model."""
    c, record = choose_c_resiliparse(docs)
    rows, gains, _ids = _matrix(docs, "resiliparse")
    return {"version": VERSION, **_fit(rows, gains, c), "selection": record}


CChoice = float | Callable[[int], float]


def _out_of_fold(matrix: Matrix, c: CChoice, applied: set[str] | None = None) -> dict[str, bool]:
    """Page id -> whether the model trained without the page's outer fold switches it.

    ``c``: a fixed ``C``, or the outer fold -> the ``C`` chosen on its training pages.
    ``applied``: the pages the extractor asks the model about (default: every sample's page).
    """
    from benchmarks.cv import K, fold_of

    ids = matrix[2]
    switch: dict[str, bool] = {}
    for fold in range(K):
        split = (
            [i for i, d in enumerate(ids) if fold_of(d) != fold],
            [i for i, d in enumerate(ids) if fold_of(d) == fold and (applied is None or d in applied)],
        )
        c_fold = c if isinstance(c, float | int) else c(fold)
        switch.update({d: m > 0 for d, m in _margins(matrix, c_fold, [split]).items()})
    return switch


def nested_choices(pages: list[dict[str, Any]], objective: str = OBJECTIVE) -> dict[int, tuple[float, float]]:
    """Outer fold -> (readability's, Resiliparse's) ``C`` chosen by inner CV on its training pages."""
    from benchmarks.cv import K, fold_of

    out = {}
    for fold in range(K):
        train_pages = [p for p in pages if fold_of(p["id"]) != fold]
        c_read = choose_c(train_pages, objective)[0]
        out[fold] = (c_read, choose_c_resiliparse(train_pages, objective, c_read)[0])
    return out


def nested_cv(
    pages: list[dict[str, Any]], objective: str = OBJECTIVE
) -> tuple[dict[int, tuple[float, float]], dict[str, Any], dict[str, Any]]:
    """Nested CV: the per-fold ``C`` choices, readability's model alone, both models in turn."""
    choices = nested_choices(pages, objective)

    def readability(fold: int) -> float:
        return choices[fold][0]

    def resiliparse(fold: int) -> float:
        return choices[fold][1]

    return (
        choices,
        cross_validate(pages, readability),
        cross_validate(pages, readability, resiliparse),
    )


def cross_validate(
    pages: list[dict[str, Any]],
    c: CChoice = FIXED_C,
    c_resiliparse: CChoice | None = None,
) -> dict[str, Any]:
    """Outer 5-fold figures: per-page P+R summed over switched pages.

    Readability's model alone, or (``c_resiliparse`` given) both models in turn as the
    extractor applies them: readability's when it switches, else Resiliparse's. A ``C`` is
    fixed or per outer fold (:func:`nested_choices`).
    """
    from benchmarks.cv import K, fold_of

    read = _matrix(pages)
    applied = _asked_ids(pages)
    switch = _out_of_fold(read, c, applied)
    gain_of = {d: (g, "readability") for d, g in zip(read[2], read[1], strict=True) if switch.get(d)}
    if c_resiliparse is not None:
        res = _matrix(pages, "resiliparse")
        r_switch = _out_of_fold(res, c_resiliparse)
        for d, g in zip(res[2], res[1], strict=True):
            if r_switch[d] and d not in gain_of:
                gain_of[d] = (g, "resiliparse")
    per_fold: dict[int, dict[str, Any]] = {}
    for fold in range(K):
        switched = [g for d, (g, _) in gain_of.items() if fold_of(d) == fold]
        per_fold[fold] = {
            "looked_at": sum(fold_of(d) == fold for d in applied),
            "switched": len(switched),
            "gain_p_plus_r": round(sum(switched), 3),
            "won": sum(g > 0 for g in switched),
            "lost": sum(g < 0 for g in switched),
        }
        if c_resiliparse is not None:
            per_fold[fold]["to_resiliparse"] = sum(
                fold_of(d) == fold and name == "resiliparse" for d, (_, name) in gain_of.items()
            )
    return {
        "trained_on": len(read[2]),
        "looked_at": len(applied),
        "switched": sum(f["switched"] for f in per_fold.values()),
        "gain_p_plus_r": round(sum(f["gain_p_plus_r"] for f in per_fold.values()), 3),
        "folds": per_fold,
    }


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
