"""Cross-validation of the extractor's learned models on the WCXB dev pages.

Every learned model (``pipeline.extract.models``) registers a trainer here. The benchmark
splits the dev pages into :data:`K` folds by a hash of the page id (stable across runs and
machines), trains every model on the other folds, and extracts the fold's pages with those
models only, so each figure comes from pages the models never saw.

A trainer is ``train(docs) -> dict``: it gets the dev pages as :class:`DevPage` dicts and
returns the JSON-able model. The same trainer, run on all pages, writes the shipped file
(see each model's training script).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

K = 5
#: Folds of the inner cross-validation a trainer runs inside its training pages (thresholds of
#: the detection and date models, ``C`` of the chooser's models).
INNER_K = 5

#: model name -> "module:function" of its trainer (imported only when cross-validating).
#: The line classifier ("lines": "benchmarks.train_lines:train", an experiment in benchmarks/)
#: is not registered: its cross-validated figures did not beat the rule cleaner.
#: Trained in this order, each with the models before it active (the date model's features
#: include the article detector's score).
TRAINERS: dict[str, str] = {
    "detection": "benchmarks.train_detection:train",
    "dates": "benchmarks.train_dates:train",
    "chooser": "benchmarks.train_chooser:train",
    "chooser-resiliparse": "benchmarks.train_chooser:train_resiliparse",
}

Trainer = Callable[[list[dict[str, Any]]], dict[str, Any]]


def fold_of(doc_id: str, k: int = K) -> int:
    return int(hashlib.sha1(doc_id.encode()).hexdigest(), 16) % k


def inner_folds(ids: Sequence[str], k: int = INNER_K) -> Iterator[tuple[list[int], list[int]]]:
    """Train and test positions in ``ids`` of each inner fold, inside one training set.

    The inner folds hash salted ids, so they cut across the outer folds: inside an outer
    fold's training pages every inner fold still holds about a fifth of them.
    """
    folds = [fold_of("inner:" + d, k) for d in ids]
    for inner in range(k):
        yield (
            [i for i, f in enumerate(folds) if f != inner],
            [i for i, f in enumerate(folds) if f == inner],
        )


def load_dev_pages(dataset: Path) -> list[dict[str, Any]]:
    """All dev pages with their ground truth, one dict each (a ``DevPage``).

    Keys: ``id``, ``url``, ``html``, ``page_type`` ("article" or a listing/collection kind),
    ``text`` (the reviewed main text; "" for non-articles), ``with``/``without`` (snippets that
    must / must not be in the text), ``title``, ``author``, ``date``.
    """
    split = dataset / "dev"
    meta = json.loads((dataset / "metadata.json").read_text(encoding="utf-8")).get("files", {})
    pages = []
    for path in sorted((split / "ground-truth").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        truth = data.get("ground_truth") or {}
        page_type = (meta.get(path.stem) or {}).get("page_type") or (
            ((data.get("_internal") or {}).get("page_type") or {}).get("primary") or ""
        )
        raw = gzip.decompress((split / "html" / f"{path.stem}.html.gz").read_bytes())
        pages.append(
            {
                "id": path.stem,
                "url": data.get("url") or "",
                "html": raw.decode("utf-8", errors="replace"),
                "page_type": page_type,
                "text": truth.get("main_content") or "",
                "with": truth.get("with") or [],
                "without": truth.get("without") or [],
                "title": truth.get("title"),
                "author": truth.get("author"),
                "date": truth.get("publish_date"),
            }
        )
    return pages


def trainer(name: str) -> Trainer:
    module, func = TRAINERS[name].split(":")
    found: Trainer = getattr(importlib.import_module(module), func)
    return found


@contextmanager
def fold_models(pages: list[dict[str, Any]], fold: int, k: int = K) -> Iterator[Path | None]:
    """Train every registered model without ``fold``'s pages; the extractor uses them inside."""
    from pipeline.extract.models import use_model_dir

    if not TRAINERS:
        yield None
        return
    train = [p for p in pages if fold_of(p["id"], k) != fold]
    with tempfile.TemporaryDirectory(prefix=f"newsflow-cv{fold}-") as tmp:
        use_model_dir(Path(tmp))  # no model yet: each trainer sees only the fold's models before it
        try:
            for name in TRAINERS:
                model = trainer(name)(train)
                (Path(tmp) / f"{name}.json").write_text(json.dumps(model), encoding="utf-8")
                use_model_dir(Path(tmp))  # clears the model cache
            yield Path(tmp)
        finally:
            use_model_dir(None)
