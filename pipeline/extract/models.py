"""The extractor's learned models: small JSON files in ``pipeline/extract/models/``.

Each model is trained by a script in ``benchmarks/`` on the WCXB dev pages and shipped as a
versioned JSON file (weights, feature names, threshold, the training figures), never as a
pickle: a JSON model is reviewable in a diff, executes no code when loaded and needs neither
scikit-learn nor the dev pages at run time.

The cross-validated benchmark (``benchmarks.cv``) trains one model per fold and points the
extractor at them with :func:`use_model_dir`, so every dev page is scored by a model that
never saw it. Without an override the shipped files are used; a missing file means "no
model" and the caller falls back to its rules.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

MODEL_DIR = Path(__file__).with_name("models")

_override: Path | None = None


def use_model_dir(path: Path | None) -> None:
    """Read models from ``path`` (a fold's models) instead of the shipped ones; None restores."""
    global _override
    _override = path
    load_model.cache_clear()


def model_path(name: str) -> Path:
    return (_override or MODEL_DIR) / f"{name}.json"


@cache
def load_model(name: str) -> dict[str, Any] | None:
    """The model ``name`` as a dict, or None when there is no such file."""
    path = model_path(name)
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{path}: a model file holds one JSON object")
    return data


def check_logistic(model: dict[str, Any], features: Sequence[str], what: str) -> None:
    """Raise ValueError unless ``model`` is a logistic model over exactly ``features``.

    A model file trained on other features than the code computes (a stale file after a
    feature was added or renamed) would score garbage silently; it is refused instead.
    """
    if model.get("kind") != "logistic":
        raise ValueError(f"{what} model kind {model.get('kind')!r} is not 'logistic'")
    if model.get("features") != list(features):
        raise ValueError(
            f"{what} model features {model.get('features')} differ from the code's {list(features)}; retrain it"
        )
    for key in ("mean", "scale", "weights"):
        if len(model.get(key) or []) != len(features):
            raise ValueError(f"{what} model: '{key}' needs {len(features)} numbers")


def contributions(model: dict[str, Any], values: dict[str, float]) -> dict[str, float]:
    """Each feature's share of the log-odds (weight x standardised value), by feature name."""
    return {
        name: float(w) * (values[name] - float(m)) / (float(s) or 1.0)
        for name, m, s, w in zip(
            model["features"], model["mean"], model["scale"], model["weights"], strict=True
        )
    }


def log_odds(model: dict[str, Any], values: dict[str, float]) -> float:
    """The logistic model's log-odds for ``values`` minus its threshold (positive: yes)."""
    return (
        float(model["intercept"])
        + sum(contributions(model, values).values())
        - float(model.get("threshold", 0.0))
    )
