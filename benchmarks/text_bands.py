"""Where a second candidate body could still pay, by how much of the page our body covers.

Issue 15 asks for text F1 >= trafilatura + 0.02 on the WCXB dev pages; the body chooser
(:mod:`pipeline.extract.chooser`) brings +0.015, and any further candidate costs CPU the
extractor no longer has (speed sits at its 0.7x floor). This measures, before anything is
built, what each candidate could win and where: at the chooser's own call site (the pipeline's
pre-cleaned tree, every candidate cleaned by the same line cleaner as ours), for each article
page it records trafilatura's precision and default modes, readability, and Resiliparse (on the
raw page as the chooser runs it, and on our pre-cleaned tree serialised: ``resiliparse-tree``),
with its CPU time, then reports per band of our body's share of the page's text (the chooser's
gate measure) the hindsight gain and loss of switching to each, in summed per-page precision +
recall (Δ 7 of it ≈ +0.005 F1 over the 711 dev articles). It then cross-validates the chooser's
logistic model on the folds of :mod:`benchmarks.cv` for other gates, weightings and extra
body-shape features (and, with Resiliparse recorded, the ways of adding it as a candidate:
:func:`resiliparse_variants`), and scores two structural line trims on our final text (a
trailing or leading run of short lines without a sentence), so every figure in the README's
"rejected" list has its command:

    PYTHONPATH=. .venv/bin/python -m benchmarks.text_bands [--shared ../shared] [--limit N]
        [--candidates readability,resiliparse] [--dump bodies.json]

Shipped models are used for the pages' own extraction (detection gates the chooser's call);
only the chooser variants are cross-validated, which is what the comparison is about.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from benchmarks.text_candidates import mode_text, resiliparse_text
from pipeline.extract.chooser import resiliparse_lines

ROOT = Path(__file__).resolve().parents[1]
CANDIDATES = ("precision", "default", "readability", "resiliparse", "resiliparse-tree")
BANDS = ((0.0, 0.7), (0.7, 0.8), (0.8, 10.0))
_SENTENCE = re.compile(r"[.!?\u3002\uff01\uff1f\u0964\u061f\u06d4][\"'\u201d\u2019)\]]*$")


@contextmanager
def _recording(
    store: dict[str, dict[str, Any]], page: dict[str, Any], wanted: tuple[str, ...] = CANDIDATES
) -> Iterator[None]:
    """Record every candidate body where ``extract_outcome`` calls the chooser (then let it run)."""
    from lxml.html import tostring

    from pipeline.extract import api, chooser

    namespace = vars(api)  # the name extract_outcome looks up at call time
    original = chooser.choose

    def record(
        tree: Any,
        ours: list[str],
        page_chars: int,
        signals: dict[str, float],
        clean: Callable[[list[str]], list[str]],
        html: str = "",
    ) -> chooser.Choice:
        raw = chooser.readability_lines(copy.deepcopy(tree))
        entry: dict[str, Any] = {
            "ours": list(ours),
            "page_chars": page_chars,
            "signals": dict(signals),
            "readability": clean(raw) if raw else [],
            "superset": bool(raw) and chooser.superset(ours, raw),
        }
        for mode in ("precision", "default"):
            if mode in wanted:
                text = mode_text(tree, page["url"], mode)
                entry[mode] = clean(text.split("\n")) if text else []
        if "resiliparse" in wanted:
            start = time.process_time()
            raw = resiliparse_lines(page["html"])
            entry["resiliparse_cpu"] = time.process_time() - start
            entry["resiliparse"] = clean(raw)
        if "resiliparse-tree" in wanted:
            entry["resiliparse-tree"] = clean(
                resiliparse_text(tostring(tree, encoding="unicode")).split("\n")
            )
        store[page["id"]] = entry
        return original(tree, ours, page_chars, signals, clean, html)

    namespace["choose"] = record
    try:
        yield
    finally:
        namespace["choose"] = original


def _gain(truth: str, new: list[str], old: list[str]) -> float:
    from benchmarks.train_chooser import precision_recall

    return sum(precision_recall(truth, "\n\n".join(new))) - sum(precision_recall(truth, "\n\n".join(old)))


def bands(
    pages: dict[str, dict[str, Any]], store: dict[str, dict[str, Any]], names: tuple[str, ...] = CANDIDATES
) -> dict[str, Any]:
    """Per share band: pages, and each candidate's hindsight gain / loss over ours.

    ``oracle_all`` is the best of ours and every candidate per page; ``oracle_readability+resiliparse``
    the best of ours and those two (the three-way choice the chooser could make).
    """
    out: dict[str, Any] = {}
    for low, high in BANDS:
        ids = [
            i for i, e in store.items() if low <= sum(map(len, e["ours"])) / max(e["page_chars"], 1) < high
        ]
        row: dict[str, Any] = {"pages": len(ids)}
        best = [0.0] * len(ids)
        per_name: dict[str, list[float]] = {}
        for name in names:
            gains = [
                _gain(pages[i]["text"], store[i][name], store[i]["ours"]) if store[i][name] else 0.0
                for i in ids
            ]
            row[name] = {
                "won": round(sum(g for g in gains if g > 0), 2),
                "lost": round(sum(g for g in gains if g < 0), 2),
            }
            per_name[name] = gains
            best = [max(b, g) for b, g in zip(best, gains, strict=True)]
        row["oracle_all"] = round(sum(best), 2)
        if "readability" in per_name and "resiliparse" in per_name:
            pairs = zip(per_name["readability"], per_name["resiliparse"], strict=True)
            row["oracle_readability+resiliparse"] = round(sum(max(0.0, a, b) for a, b in pairs), 2)
        out[f"{low:.1f}-{min(high, 1.0):.1f}"] = row
    return out


#: Prefix of the body-shape measures, so none of them takes the name of a measure the chooser
#: ships (``ours-sentence-lines`` and ``ours-mean-line`` did, and replaced the shipped
#: definitions in every variant of :func:`chooser_variants` until 2026-12-08).
SHAPE = "shape-"


def _shape(prefix: str, lines: list[str]) -> dict[str, float]:
    """Line-shape measures of one body; ``prefix`` should start with :data:`SHAPE`."""
    n, chars = max(len(lines), 1), max(sum(map(len, lines)), 1)
    return {
        prefix + "short-lines": sum(len(line) < 40 for line in lines) / n,
        prefix + "list-lines": sum(line.startswith("- ") for line in lines) / n,
        prefix + "table-lines": sum(line.startswith("|") for line in lines) / n,
        prefix + "sentence-lines": sum(_SENTENCE.search(line) is not None for line in lines) / n,
        prefix + "mean-line": sum(map(len, lines)) / n / 100,
        prefix + "digits": sum(ch.isdigit() for line in lines for ch in line) / chars,
    }


def chooser_variants(pages: dict[str, dict[str, Any]], store: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Out-of-fold gain (summed P+R on switched pages) of the chooser's model, several ways."""
    from benchmarks.cv import K, fold_of
    from pipeline.extract.chooser import FEATURES, features

    samples = []
    for i, e in store.items():
        if not e["readability"] or e["superset"]:
            continue
        values = features(e["ours"], e["readability"], e["page_chars"], e["signals"])
        values.update(_shape(SHAPE + "ours-", e["ours"]) | _shape(SHAPE + "alt-", e["readability"]))
        share = sum(map(len, e["ours"])) / max(e["page_chars"], 1)
        samples.append((i, share, values, _gain(pages[i]["text"], e["readability"], e["ours"])))
    extra = sorted(set(samples[0][2]) - set(FEATURES)) if samples else []

    def run(
        gate: float, names: list[str], weight: Callable[[float], float], c: float = 3.0
    ) -> dict[str, Any]:
        rows = [s for s in samples if s[1] < gate]
        margin = _margins(rows, names, c, weight)
        chosen = [s for s in rows if margin[s[0]] > 0]
        folds = [round(sum(s[3] for s in chosen if fold_of(s[0]) == fold), 2) for fold in range(K)]
        return {
            "judged": len(rows),
            "switched": len(chosen),
            "gain": round(sum(s[3] for s in chosen), 2),
            "folds": folds,
        }

    shipped = list(FEATURES)
    return {
        "extractor 2.7 (trained and asked under 0.7)": run(0.7, shipped, lambda g: abs(g) + 1e-3),
        "gate 0.8": run(0.8, shipped, lambda g: abs(g) + 1e-3),
        "shape features": run(0.7, shipped + extra, lambda g: abs(g) + 1e-3),
        "sqrt weights": run(0.7, shipped, lambda g: math.sqrt(abs(g)) + 1e-3),
        "unweighted": run(0.7, shipped, lambda g: 1.0),
        "oracle (gate 0.7)": round(sum(max(s[3], 0.0) for s in samples if s[1] < 0.7), 2),
    }


def _margins(
    rows: list[tuple[str, float, dict[str, float], float]],
    names: list[str],
    c: float,
    weight: Callable[[float], float] = lambda gain: abs(gain) + 1e-3,
) -> dict[str, float]:
    """Out-of-fold log-odds per page id of the chooser's logistic model.

    Trained as the shipped one (``weight``: each sample's weight from its gain, the shipped
    ``|gain|``); the rows are ``(page id, page share, measures, gain of switching)``.
    """
    from benchmarks.cv import K, fold_of
    from benchmarks.logistic import fit_logistic
    from pipeline.extract.models import log_odds

    out: dict[str, float] = {}
    for fold in range(K):
        train = [s for s in rows if fold_of(s[0]) != fold]
        model = fit_logistic(
            [[s[2][n] for n in names] for s in train],
            [int(s[3] > 0) for s in train],
            names,
            c,
            sample_weight=[weight(s[3]) for s in train],
            max_iter=5000,
        )
        out.update({s[0]: log_odds(model, s[2]) for s in rows if fold_of(s[0]) == fold})
    return out


def resiliparse_variants(
    pages: dict[str, dict[str, Any]], store: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """Resiliparse as the chooser's candidate, several ways (out of fold, summed P+R per fold).

    Extractor 2.7: readability's model first (C 3), then Resiliparse's (C 0.3) on the gated pages.
    Also: Resiliparse beyond the gate, alone, without its superset pages, a best-margin pick,
    its agreement as votes in readability's model, and (with hindsight) our body cut to the
    lines Resiliparse also has.
    """
    from benchmarks.cv import K, fold_of
    from pipeline.extract.chooser import FEATURES, _shingles, features, superset

    def overlap(a: list[str], b: list[str]) -> float:
        sa = _shingles("\n".join(a))
        return len(sa & _shingles("\n".join(b))) / max(len(sa), 1)

    read, res = [], []
    for i, e in store.items():
        share = sum(map(len, e["ours"])) / max(e["page_chars"], 1)
        if e["readability"] and not e["superset"]:
            values = features(e["ours"], e["readability"], e["page_chars"], e["signals"])
            values["ours-in-res"] = overlap(e["ours"], e["resiliparse"])
            values["alt-in-res"] = overlap(e["readability"], e["resiliparse"])
            read.append((i, share, values, _gain(pages[i]["text"], e["readability"], e["ours"])))
        if e["resiliparse"]:
            values = features(e["ours"], e["resiliparse"], e["page_chars"], e["signals"])
            values["superset"] = float(superset(e["ours"], e["resiliparse"]))
            res.append((i, share, values, _gain(pages[i]["text"], e["resiliparse"], e["ours"])))
    shipped = list(FEATURES)

    def score(picks: dict[str, float]) -> dict[str, Any]:
        folds = [round(sum(g for i, g in picks.items() if fold_of(i) == k), 2) for k in range(K)]
        return {"switched": len(picks), "gain": round(sum(picks.values()), 2), "folds": folds}

    def alone(rows: list[Any], c: float, names: list[str] = shipped) -> dict[str, Any]:
        margin = _margins(rows, names, c)
        return score({s[0]: s[3] for s in rows if margin[s[0]] > 0})

    def both(c: float, best: bool = False, keep_superset: bool = True) -> dict[str, Any]:
        gated = [s for s in read if s[1] < 0.7]
        second = [s for s in res if s[1] < 0.7 and (keep_superset or not s[2]["superset"])]
        m_read, m_res = _margins(gated, shipped, 3.0), _margins(second, shipped, c)
        picks = {s[0]: s[3] for s in gated if m_read[s[0]] > 0}
        for s in second:
            if m_res[s[0]] > 0 and (s[0] not in picks or (best and m_res[s[0]] > m_read[s[0]])):
                picks[s[0]] = s[3]
        return score(picks)

    out: dict[str, Any] = {f"both in turn, resiliparse C={c}": both(c) for c in (0.1, 0.3, 1.0, 3.0)}
    out["both, best margin"] = both(0.3, best=True)
    out["both, resiliparse supersets not judged"] = both(0.3, keep_superset=False)
    out["readability alone"] = alone([s for s in read if s[1] < 0.7], 3.0)
    out["readability + resiliparse votes"] = alone(
        [s for s in read if s[1] < 0.7], 3.0, [*shipped, "ours-in-res", "alt-in-res"]
    )
    for low, high in BANDS:
        rows = [s for s in res if low <= s[1] < high]
        out[f"resiliparse alone {low:.1f}-{min(high, 1.0):.1f}"] = {
            **alone(rows, 0.3),
            "oracle": round(sum(max(s[3], 0.0) for s in rows), 2),
        }
    out["resiliparse alone 0.7-1.0"] = alone([s for s in res if s[1] >= 0.7], 0.3)
    for low, high in BANDS:  # our lines with >= half their 4-grams in Resiliparse's body
        gains = []
        for i, e in store.items():
            share = sum(map(len, e["ours"])) / max(e["page_chars"], 1)
            if e["resiliparse"] and low <= share < high:
                kept = [line for line in e["ours"] if overlap([line], e["resiliparse"]) >= 0.5]
                if kept and kept != e["ours"]:
                    gains.append(_gain(pages[i]["text"], kept, e["ours"]))
        out[f"our lines resiliparse has, hindsight {low:.1f}-{min(high, 1.0):.1f}"] = {
            "won": round(sum(g for g in gains if g > 0), 2),
            "lost": round(sum(g for g in gains if g < 0), 2),
        }
    return out


def _sentence(line: str) -> bool:
    return _SENTENCE.search(line) is not None and len(line.split()) >= 6


def trims(pages: dict[str, dict[str, Any]], texts: dict[str, str]) -> dict[str, Any]:
    """Drop a trailing (leading) run of short lines after the last (before the first) sentence."""

    def tail(lines: list[str], most: int) -> list[str]:
        last = max((k for k, line in enumerate(lines) if _sentence(line)), default=-1)
        rest = lines[last + 1 :]
        return lines[: last + 1] if last >= 0 and rest and all(len(x) < most for x in rest) else lines

    def head(lines: list[str], most: int) -> list[str]:
        first = next((k for k, line in enumerate(lines) if _sentence(line)), None)
        lead = lines[:first] if first is not None else []
        return lines[first:] if lead and all(len(x) < most for x in lead) else lines

    out: dict[str, Any] = {}
    for name, trim in (("tail", tail), ("head", head)):
        for most in (30, 60, 100):
            gains = []
            for i, text in texts.items():
                lines = [line for line in text.split("\n\n") if line.strip()]
                new = trim(lines, most)
                if new != lines:
                    gains.append(_gain(pages[i]["text"], new, lines))
            out[f"{name} < {most} chars"] = {
                "changed": len(gains),
                "won": sum(g > 0 for g in gains),
                "lost": sum(g < 0 for g in gains),
                "gain": round(sum(gains), 2),
            }
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument(
        "--candidates",
        default=",".join(CANDIDATES),
        help="comma-separated subset of " + ", ".join(CANDIDATES),
    )
    parser.add_argument(
        "--dump", type=Path, default=None, help="write every page's candidate bodies here (JSON)"
    )
    args = parser.parse_args(argv)
    from benchmarks.cv import load_dev_pages
    from pipeline.extract.api import extract_outcome

    wanted = tuple(name for name in CANDIDATES if name in args.candidates.split(","))

    sys.setrecursionlimit(10_000)
    dev = [p for p in load_dev_pages(args.shared / "data" / "wcxb") if p["page_type"] == "article"]
    pages = {p["id"]: p for p in dev[: args.limit]}
    store: dict[str, dict[str, Any]] = {}
    texts: dict[str, str] = {}
    for page in pages.values():
        with _recording(store, page, wanted):
            outcome = extract_outcome(page["html"], page["url"])
        texts[page["id"]] = outcome.article.text if outcome.article is not None else ""
    result = {
        "articles": len(pages),
        "at_chooser": len(store),
        "bands": bands(pages, store, wanted),
        "chooser": chooser_variants(pages, store) if "readability" in wanted else {},
        "resiliparse": resiliparse_variants(pages, store)
        if {"readability", "resiliparse"} <= set(wanted)
        else {},
        "trims": trims(pages, texts),
    }
    if "resiliparse" in wanted:
        cpu = sorted(e["resiliparse_cpu"] for e in store.values())
        result["resiliparse_ms_per_page"] = {
            "median": round(1000 * cpu[len(cpu) // 2], 2),
            "mean": round(1000 * sum(cpu) / len(cpu), 2),
        }
    if args.dump is not None:
        args.dump.write_text(json.dumps({"pages": list(pages), "store": store}), encoding="utf-8")
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
