"""Cross-validation of the body chooser's models, and the inner CV that picks their ``C``.

Split from :mod:`benchmarks.train_chooser` (samples, fitting, the trainers): here the outer
5-fold figures its printout shows (:func:`cross_validate`, per fold and overall, either model's
``C`` fixed or chosen per outer fold) and the nested selection (:func:`choose_c`,
:func:`choose_c_resiliparse`) the trainers run on their own pages, so the per-fold retrains
of :mod:`benchmarks.cv` are a nested cross-validation.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Set
from typing import Any

from benchmarks.train_chooser import _fit, _matrix

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

Matrix = tuple[list[list[float]], list[float], list[str]]


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
