"""Which pages readability's chooser model learns from, and how its choice is used (out of fold).

Extractor 2.7 trained readability's model only on the pages it asks it about (our body under
70 % of the page's text). This compares, on the candidate bodies ``benchmarks.text_bands
--dump`` recorded (every article page at the chooser's call site, readability's and
Resiliparse's bodies cleaned like ours), with the folds of :mod:`benchmarks.cv`:

- the pages readability's model is trained on (under 70 %, under 80 %, every band) against the
  gate under which the extractor asks it (70 %, 75 %, 80 %, 90 %, every page) and its ``C``;
  Resiliparse's model second, as shipped (under 70 %, ``C`` 0.3);
- mixing instead of switching: readability's or Resiliparse's body with the lines of ours
  before (after) the first (last) line it shares with ours, i.e. a headline or lead outside
  readability's container, with the models retrained on the mixed body;
- extra body-shape measures in readability's model, and Resiliparse asked under 80 % too;
- other learners in place of the logistic models (random forests, boosted stumps and depth-2
  trees, regularised by leaf size and learning rate).

Figures are summed per-page precision + recall over the switched pages against our body, in
total and per fold (Δ 7 ≈ +0.005 text F1 over the 711 dev articles).

    PYTHONPATH=. .venv/bin/python -m benchmarks.text_bands --candidates readability,resiliparse \\
        --dump /tmp/bodies.json
    PYTHONPATH=. .venv/bin/python -m benchmarks.chooser_training /tmp/bodies.json [--shared ../shared]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.text_bands import SHAPE, _margins, _shape

ROOT = Path(__file__).resolve().parents[1]
Row = tuple[str, float, dict[str, float], float, list[str]]
Body = Callable[[list[str], list[str]], list[str]]
_WS = re.compile(r"\s+")


class Bench:
    """The dump's bodies, the dev texts, and cached per-page precision + recall."""

    def __init__(self, store: dict[str, dict[str, Any]], truths: dict[str, str]) -> None:
        self.store, self.truths = store, truths
        self._pr: dict[tuple[str, tuple[str, ...]], float] = {}

    def pr(self, page: str, lines: list[str]) -> float:
        from benchmarks.train_chooser import precision_recall

        key = (page, tuple(lines))
        if key not in self._pr:
            self._pr[key] = sum(precision_recall(self.truths[page], "\n\n".join(lines)))
        return self._pr[key]

    def share(self, page: str) -> float:
        entry = self.store[page]
        chars: int = entry["page_chars"]
        return sum(map(len, entry["ours"])) / max(chars, 1)

    def rows(self, candidate: str, below: float, body: Body | None = None) -> list[Row]:
        """Samples of ``candidate`` on pages under ``below`` (readability: not a superset)."""
        from pipeline.extract.chooser import features

        out = []
        for page, e in self.store.items():
            alt = e.get(candidate) or []
            if not alt or self.share(page) >= below or (candidate == "readability" and e["superset"]):
                continue
            new = body(e["ours"], alt) if body else alt
            values = features(e["ours"], alt, e["page_chars"], e["signals"])
            values.update(_shape(SHAPE + "ours-", e["ours"]) | _shape(SHAPE + "alt-", alt))  # for ``shape``
            gain = self.pr(page, new) - self.pr(page, e["ours"])
            out.append((page, self.share(page), values, gain, new))
        return out

    def score(self, picks: dict[str, list[str]]) -> dict[str, Any]:
        from benchmarks.cv import K, fold_of

        gains = {p: self.pr(p, lines) - self.pr(p, self.store[p]["ours"]) for p, lines in picks.items()}
        folds = [round(sum(g for p, g in gains.items() if fold_of(p) == k), 2) for k in range(K)]
        return {"switched": len(picks), "gain": round(sum(gains.values()), 2), "folds": folds}


def _logistic(c: float, shape: bool = False) -> Callable[[list[Row]], dict[str, float]]:
    """Out-of-fold margins of the shipped logistic model (``shape``: with 12 body-shape measures)."""
    from pipeline.extract.chooser import FEATURES

    def margins(rows: list[Row]) -> dict[str, float]:
        extra = sorted(set(rows[0][2]) - set(FEATURES)) if shape and rows else []
        return _margins([r[:4] for r in rows], [*FEATURES, *extra], c)

    return margins


def _learner(make: Callable[[], Any]) -> Callable[[list[Row]], dict[str, float]]:
    """Out-of-fold margins (probability − ½) of a scikit-learn classifier, weighted as shipped."""

    def margins(rows: list[Row]) -> dict[str, float]:
        import numpy as np

        from benchmarks.cv import K, fold_of
        from pipeline.extract.chooser import FEATURES

        out: dict[str, float] = {}
        for fold in range(K):
            train = [r for r in rows if fold_of(r[0]) != fold]
            test = [r for r in rows if fold_of(r[0]) == fold]
            model = make()
            model.fit(
                np.array([[r[2][n] for n in FEATURES] for r in train]),
                np.array([int(r[3] > 0) for r in train]),
                sample_weight=np.array([abs(r[3]) + 1e-3 for r in train]),
            )
            probs = model.predict_proba(np.array([[r[2][n] for n in FEATURES] for r in test]))[:, 1]
            out.update({r[0]: float(p) - 0.5 for r, p in zip(test, probs, strict=True)})
        return out

    return margins


def two_models(
    bench: Bench,
    *,
    train_below: float = 0.7,
    ask_below: float = 0.7,
    res_below: float = 0.7,
    read_margins: Callable[[list[Row]], dict[str, float]] | None = None,
    res_margins: Callable[[list[Row]], dict[str, float]] | None = None,
    read_body: Body | None = None,
    res_body: Body | None = None,
) -> dict[str, Any]:
    """Readability's model (trained under ``train_below``, asked under ``ask_below``), then
    Resiliparse's (trained and asked under ``res_below``)."""
    read = bench.rows("readability", train_below, read_body)
    res = bench.rows("resiliparse", res_below, res_body)
    m_read = (read_margins or _logistic(3.0))(read)
    m_res = (res_margins or _logistic(0.3))(res)
    picks = {r[0]: r[4] for r in read if r[1] < ask_below and m_read[r[0]] > 0}
    for r in res:
        if r[0] not in picks and m_res[r[0]] > 0:
            picks[r[0]] = r[4]
    return bench.score(picks)


def _norm(line: str) -> str:
    return _WS.sub("", line).casefold()


def lead_mix(ours: list[str], alt: list[str], most: int = 99) -> list[str]:
    """``alt`` after our lines before the first of ours it has (at most ``most`` of them)."""
    hay = _norm(" ".join(alt))
    lead = []
    for line in ours:
        if _norm(line) in hay:
            break
        lead.append(line)
    else:
        return alt
    return lead + alt if len(lead) <= most else alt


def tail_mix(ours: list[str], alt: list[str]) -> list[str]:
    """``alt`` followed by our lines after the last of ours it has."""
    return lead_mix(ours[::-1], alt[::-1])[::-1]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dump", type=Path, help="a benchmarks.text_bands --dump file")
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    args = parser.parse_args(argv)
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier

    from benchmarks.cv import load_dev_pages

    sys.setrecursionlimit(10_000)
    store = json.loads(args.dump.read_text(encoding="utf-8"))["store"]
    truths = {p["id"]: p["text"] for p in load_dev_pages(args.shared / "data" / "wcxb") if p["id"] in store}
    bench = Bench(store, truths)
    out: dict[str, Any] = {}
    for train in (0.7, 0.8, 10.0):
        for ask in (0.7, 0.75, 0.8, 0.9, 10.0):
            if ask <= train or train == 10.0:
                key = f"readability trained < {min(train, 1.0)}, asked < {min(ask, 1.0)}"
                out[key] = two_models(bench, train_below=train, ask_below=ask)
    for c in (1.0, 10.0):
        out[f"every band, asked < 0.8, C {c}"] = two_models(
            bench, train_below=10.0, ask_below=0.8, read_margins=_logistic(c)
        )
    out["every band, asked < 0.8, with body-shape measures"] = two_models(
        bench, train_below=10.0, ask_below=0.8, read_margins=_logistic(3.0, shape=True)
    )
    out["every band, asked < 0.8, Resiliparse < 0.8"] = two_models(
        bench, train_below=10.0, ask_below=0.8, res_below=0.8
    )
    out["trained < 0.8, asked < 0.8, Resiliparse < 0.8"] = two_models(
        bench, train_below=0.8, ask_below=0.8, res_below=0.8
    )
    for name, body in (("lead", lead_mix), ("lead <= 3 lines", lambda o, a: lead_mix(o, a, 3))):
        out[f"{name} mix on readability, retrained"] = two_models(
            bench, train_below=10.0, ask_below=0.8, read_body=body
        )
        out[f"{name} mix on both, retrained"] = two_models(
            bench, train_below=10.0, ask_below=0.8, read_body=body, res_body=body
        )
    out["tail mix on readability, retrained"] = two_models(
        bench, train_below=10.0, ask_below=0.8, read_body=tail_mix
    )
    learners = {
        "random forest (leaf 10)": lambda: RandomForestClassifier(
            300, min_samples_leaf=10, max_features=0.5, random_state=0
        ),
        "boosted stumps": lambda: GradientBoostingClassifier(
            n_estimators=100, max_depth=1, learning_rate=0.05, subsample=0.7, random_state=0
        ),
        "boosted depth 2": lambda: GradientBoostingClassifier(
            n_estimators=100,
            max_depth=2,
            learning_rate=0.05,
            subsample=0.7,
            min_samples_leaf=10,
            random_state=0,
        ),
    }
    for name, make in learners.items():
        out[f"{name}, both models"] = two_models(
            bench, train_below=10.0, ask_below=0.8, read_margins=_learner(make), res_margins=_learner(make)
        )
        out[f"{name} for Resiliparse only"] = two_models(
            bench, train_below=10.0, ask_below=0.8, res_margins=_learner(make)
        )
    print(json.dumps(out, indent=1))
    return out


if __name__ == "__main__":
    main()
