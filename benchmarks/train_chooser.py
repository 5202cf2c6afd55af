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
#: The same for Resiliparse's model: 0.1 … 1.0 gain alike in the printout (both models in turn);
#: 0.3 is best, 3 and 10 switch more pages that lose.
C_RESILIPARSE = 0.3
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


def train(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The trainer of :mod:`benchmarks.cv` (name ``chooser``): the model JSON for ``docs``."""
    rows, gains, _ids = _matrix(docs)
    return {"version": VERSION, **_fit(rows, gains, C)}


def train_resiliparse(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The trainer of :mod:`benchmarks.cv` (name ``chooser-resiliparse``): Resiliparse's model."""
    rows, gains, _ids = _matrix(docs, "resiliparse")
    return {"version": VERSION, **_fit(rows, gains, C_RESILIPARSE)}


def _out_of_fold(
    rows: list[list[float]], gains: list[float], ids: list[str], c: float, applied: set[str] | None = None
) -> dict[str, bool]:
    """Page id -> whether the model trained without the page's fold switches it.

    ``applied``: the pages the extractor asks the model about (default: every sample's page).
    """
    from benchmarks.cv import K, fold_of
    from pipeline.extract.chooser import FEATURES, score

    switch: dict[str, bool] = {}
    for fold in range(K):
        train_idx = [i for i, d in enumerate(ids) if fold_of(d) != fold]
        model = _fit([rows[i] for i in train_idx], [gains[i] for i in train_idx], c)
        for i, d in enumerate(ids):
            if fold_of(d) == fold and (applied is None or d in applied):
                switch[d] = score(model, dict(zip(FEATURES, rows[i], strict=True))) > 0
    return switch


def cross_validate(
    pages: list[dict[str, Any]], c: float = C, c_resiliparse: float | None = None
) -> dict[str, Any]:
    """Outer 5-fold figures: per-page P+R summed over switched pages.

    Readability's model alone, or (``c_resiliparse`` given) both models in turn as the
    extractor applies them: readability's when it switches, else Resiliparse's.
    """
    from benchmarks.cv import K, fold_of

    rows, gains, ids = _matrix(pages)
    applied = set(_matrix(pages, only_asked=True)[2])
    switch = _out_of_fold(rows, gains, ids, c, applied)
    gain_of = {d: (g, "readability") for d, g in zip(ids, gains, strict=True) if switch.get(d)}
    if c_resiliparse is not None:
        r_rows, r_gains, r_ids = _matrix(pages, "resiliparse")
        r_switch = _out_of_fold(r_rows, r_gains, r_ids, c_resiliparse)
        for d, g in zip(r_ids, r_gains, strict=True):
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
        "trained_on": len(ids),
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
    alternatives = {}
    for c in (0.1, 0.3, 1.0, 3.0, 10.0):
        figures = cross_validate(pages, c)
        alternatives[f"C={c}"] = {k: v for k, v in figures.items() if k != "folds"}
        print(f"C={c:<4} {json.dumps(figures)}", flush=True)
    shipped = cross_validate(pages)
    model = train(pages)
    model["cv"] = {"folds": 5, "dataset": "wcxb/dev", "model_only": shipped, "alternatives": alternatives}
    model["training"] = {"C": C, "pages": shipped["trained_on"], "asked_on": shipped["looked_at"]}
    ship_model(model, args.out, write=not args.no_write)
    both_alternatives = {}
    for c in (0.1, 0.3, 1.0, 3.0, 10.0):
        figures = cross_validate(pages, C, c)
        both_alternatives[f"C={c}"] = {k: v for k, v in figures.items() if k != "folds"}
        print(f"both, resiliparse C={c:<4} {json.dumps(figures)}", flush=True)
    both = cross_validate(pages, C, C_RESILIPARSE)
    second = train_resiliparse(pages)
    second["cv"] = {
        "folds": 5,
        "dataset": "wcxb/dev",
        "both_models": both,
        "readability_only": {k: v for k, v in shipped.items() if k != "folds"},
        "alternatives": both_alternatives,
    }
    second["training"] = {"C": C_RESILIPARSE, "pages": len(_matrix(pages, "resiliparse")[2])}
    ship_model(second, args.out_resiliparse, write=not args.no_write)
    return model


if __name__ == "__main__":
    main()
