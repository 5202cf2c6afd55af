"""Fit a standardised logistic regression and export it as the extractor's model JSON.

The detection, date and body-chooser models are all this shape (see
:mod:`pipeline.extract.models`, which scores them at run time without scikit-learn): the
standardisation is folded in as ``mean``/``scale``, and the threshold starts at 0 for the
training script to move.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def fit_logistic(
    rows: Sequence[Sequence[float]],
    labels: Sequence[int],
    features: Sequence[str],
    c: float,
    *,
    sample_weight: Sequence[float] | None = None,
    max_iter: int = 2000,
) -> dict[str, Any]:
    """The model dict of an L2 logistic regression (inverse strength ``c``) on standardised rows."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    x = np.asarray(rows, dtype=float)
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale == 0] = 1.0
    clf = LogisticRegression(C=c, max_iter=max_iter)
    clf.fit((x - mean) / scale, np.asarray(labels), sample_weight=sample_weight)
    return {
        "kind": "logistic",
        "features": list(features),
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "weights": [round(float(v), 6) for v in clf.coef_[0]],
        "intercept": round(float(clf.intercept_[0]), 6),
        "threshold": 0.0,
    }


def ship_model(
    model: dict[str, Any], out: Path, *, write: bool, summary: dict[str, Any] | None = None
) -> None:
    """Print a trained model's weights (and the shipped CV ``summary``), then write it to ``out``.

    The common tail of the ``train_*`` scripts: the printout is what a reviewer compares
    with the committed model before accepting the new file.
    """
    weights = dict(zip(model["features"], model["weights"], strict=True))
    if summary is not None:
        print("shipped:", json.dumps(summary), flush=True)
    print("weights:", json.dumps(weights, indent=1), flush=True)
    if write:
        out.write_text(json.dumps(model, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {out}")
