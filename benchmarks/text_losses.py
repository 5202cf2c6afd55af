"""Per-page loss analysis of our text against plain trafilatura on the WCXB dev articles.

The aggregate F1 hides where we lose: this runs ours (cross-validated, like
``benchmarks.extraction``) and plain ``trafilatura.extract`` on every dev article, scores each
page with the official per-page shingle metric, and lists the pages where ours is below
trafilatura (a regression against the baseline extractor: the kind of fault whose fix carries
to pages we have not seen) and the pages where both are weak. For each listed page it prints
the lines one body has and the other lacks, which is what the causes are read from
(pre-clean, a line rule, the recall-mode choice, the chooser, duplicate removal, a leak).

    PYTHONPATH=. .venv/bin/python -m benchmarks.text_losses [--shared ../shared] [--folds 0,1]
        [--save out.json] [--load out.json ...] [--against base.json ...] [--top 30] [--diff]

``--save`` keeps the per-page texts so the analysis can be re-read without re-extracting;
``--folds`` runs part of the folds (two processes on two cores); ``--against`` compares the
run with an earlier saved one of the code before a change: summed per-page precision + recall
gained per fold (each fold extracted with models trained without it) and the pages that moved.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def page_f1(ee: Any, truth: str, text: str) -> tuple[float, float, float]:
    """Per-page precision, recall, F1 as the official scorer computes them."""
    from benchmarks.text_candidates import scores

    return scores(ee, *ee.shingle_tp_fp_fn(ee.tokens(truth), ee.tokens(text)))


def extract_all(pages: list[dict[str, Any]], folds: list[int]) -> dict[str, dict[str, Any]]:
    """Ours (fold models) and plain trafilatura's text for every article page of ``folds``."""
    from benchmarks.cv import fold_models, fold_of
    from benchmarks.extraction import _traf_text
    from pipeline.extract import extract_outcome

    out: dict[str, dict[str, Any]] = {}
    for fold in folds:
        todo = [p for p in pages if fold_of(p["id"]) == fold and p["page_type"] == "article"]
        with fold_models(pages, fold):
            for page in todo:
                outcome = extract_outcome(page["html"], page["url"])
                article = outcome.article
                out[page["id"]] = {
                    "fold": fold,
                    "ours": article.text if article is not None else "",
                    "removed": list(article.removed_lines) if article is not None else [],
                    "chosen": outcome.choice.chosen if outcome.choice is not None else None,
                    "trafilatura": _traf_text(page["html"], page["url"]),
                }
        print(f"fold {fold}: {len(todo)} articles", file=sys.stderr, flush=True)
    return out


def _lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def diff(ours: str, theirs: str) -> tuple[list[str], list[str]]:
    """Lines only trafilatura has, lines only we have (whole normalised lines)."""
    a, b = _lines(ours), _lines(theirs)
    sa, sb = set(a), set(b)
    return [line for line in b if line not in sa], [line for line in a if line not in sb]


def report(
    ee: Any, pages: dict[str, dict[str, Any]], store: dict[str, dict[str, Any]], top: int, show: bool
) -> None:
    rows = []
    for pid, entry in store.items():
        truth = pages[pid]["text"]
        po, ro, fo = page_f1(ee, truth, entry["ours"])
        pt, rt, ft = page_f1(ee, truth, entry["trafilatura"])
        rows.append((fo - ft, pid, fo, ft, po, ro, pt, rt))
    rows.sort()
    losses = [r for r in rows if r[0] < -1e-9]
    gains = [r for r in rows if r[0] > 1e-9]
    print(
        f"pages {len(rows)}: ours worse on {len(losses)} (sum {sum(r[0] for r in losses):+.2f} F1), "
        f"better on {len(gains)} (sum {sum(r[0] for r in gains):+.2f})"
    )
    print(
        f"summed per-page P ours {sum(r[4] for r in rows):.2f} traf {sum(r[6] for r in rows):.2f}; "
        f"R ours {sum(r[5] for r in rows):.2f} traf {sum(r[7] for r in rows):.2f}"
    )
    print("\n== ours below trafilatura ==")
    for delta, pid, _fo, _ft, po, ro, pt, rt in losses[:top]:
        entry = store[pid]
        print(
            f"{pid} fold {entry['fold']} dF1 {delta:+.3f}  ours P {po:.2f} R {ro:.2f}  "
            f"traf P {pt:.2f} R {rt:.2f}  chosen {entry['chosen']}  {pages[pid]['url'][:80]}"
        )
        if show:
            only_theirs, only_ours = diff(entry["ours"], entry["trafilatura"])
            for line in only_theirs[:12]:
                print(f"   - {line[:160]}")
            for line in only_ours[:12]:
                print(f"   + {line[:160]}")
    weak = sorted((r for r in rows if r[2] < 0.7 and r[3] < 0.7), key=lambda r: r[2])
    print(f"\n== both weak (F1 < 0.7): {len(weak)} pages, ours lose {sum(1 - r[2] for r in weak):.2f} ==")
    for _delta, pid, _fo, _ft, po, ro, pt, rt in weak[:top]:
        print(f"{pid} ours P {po:.2f} R {ro:.2f} traf P {pt:.2f} R {rt:.2f}  {pages[pid]['url'][:80]}")


def compare(
    ee: Any, pages: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], old: dict[str, dict[str, Any]]
) -> None:
    """Per fold, summed per-page precision + recall of ``new`` minus ``old`` (same pages only)."""
    folds: dict[int, float] = {}
    moved = []
    for pid, entry in new.items():
        if pid not in old:
            continue
        truth = pages[pid]["text"]
        after, before = page_f1(ee, truth, entry["ours"]), page_f1(ee, truth, old[pid]["ours"])
        delta = after[0] + after[1] - before[0] - before[1]
        folds[entry["fold"]] = folds.get(entry["fold"], 0.0) + delta
        if abs(delta) > 1e-9:
            moved.append((delta, pid, old[pid]["chosen"], entry["chosen"]))
    print(
        f"P+R gained per fold: {', '.join(f'{f}: {g:+.2f}' for f, g in sorted(folds.items()))}; "
        f"total {sum(folds.values()):+.2f} on {len(moved)} pages that moved"
    )
    for delta, pid, was, now in sorted(moved):
        print(f"  {pid} {delta:+.3f} chosen {was} -> {now}")


def main(argv: list[str] | None = None) -> None:
    from benchmarks.cv import K, load_dev_pages
    from benchmarks.extraction import _load_tool

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--folds", default=",".join(str(i) for i in range(K)))
    parser.add_argument("--save", type=Path, default=None)
    parser.add_argument("--load", type=Path, nargs="*", default=[])
    parser.add_argument("--against", type=Path, nargs="*", default=[], help="saved runs of the code before")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--diff", action="store_true", help="print the lines each body lacks")
    args = parser.parse_args(argv)
    sys.setrecursionlimit(10_000)
    pages = load_dev_pages(args.shared / "data" / "wcxb")
    store: dict[str, dict[str, Any]] = {}
    for path in args.load:
        store.update(json.loads(path.read_text(encoding="utf-8")))
    if not args.load:
        store = extract_all(pages, [int(f) for f in args.folds.split(",")])
    if args.save:
        args.save.write_text(json.dumps(store), encoding="utf-8")
    ee = _load_tool(args.shared / "tools" / "extract_eval.py")
    by_id = {p["id"]: p for p in pages}
    if args.against:
        old: dict[str, dict[str, Any]] = {}
        for path in args.against:
            old.update(json.loads(path.read_text(encoding="utf-8")))
        compare(ee, by_id, store, old)
        return
    report(ee, by_id, store, args.top, args.diff)


if __name__ == "__main__":
    main()
