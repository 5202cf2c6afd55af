"""Extraction benchmark: ``extract_article`` vs plain trafilatura on the WCXB dev split, same run.

Text (article pages): shingle precision/recall/F1 (the article-extraction-benchmark metric),
the WCXB "with"/"without" snippet rates and docs/s, for ours against
``trafilatura.extract(include_comments=False)``. Metadata (article pages) and article
detection (all pages): title exact, authors exact-set and invented-author rate, publish day
and invented-date rate, detection precision/recall/F1 against trafilatura's own
``bare_extraction(with_metadata=True)``.

Scoring is delegated to the held-out scorers in ``../shared/tools`` (``extract_eval.py`` and
``meta_eval.py``) so the numbers are the project's official ones; the dataset and the tools
are read from ``../shared`` and never copied. Speed is this process's CPU time per page
(``time.process_time``: other processes on a shared machine do not count), measured
interleaved (ours and trafilatura alternate page by page) so cache and frequency effects hit
both alike; docs/s are pages per CPU second.

Learned models are cross-validated (``benchmarks.cv``): the dev pages are split into folds and
each fold is extracted with models trained on the other folds only; ``--no-cv`` uses the
shipped models everywhere (optimistic: they were trained on these pages).

    .venv/bin/python -m benchmarks.extraction [--shared ../shared] [--limit N] [--json out.json]

Data: WCXB (Web Content eXtraction Benchmark) v1.0 by Murrough Foley, CC-BY-4.0.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"


def _load_tool(path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _ours() -> Callable[[str, str], Any]:
    from pipeline.extract import extract_outcome

    return extract_outcome


def _traf_text(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url, include_comments=False) or ""


def _traf_meta(html: str, url: str) -> dict[str, Any]:
    import trafilatura

    doc = trafilatura.bare_extraction(html, url=url, with_metadata=True, include_comments=False)
    if doc is None:
        return {"title": None, "authors": None, "published": None, "is_article": False}
    data = doc.as_dict() if hasattr(doc, "as_dict") else dict(doc)
    author = data.get("author")
    pagetype = data.get("pagetype")
    return {
        "title": data.get("title"),
        "authors": [a.strip() for a in author.split(";")] if author else [],
        "published": data.get("date"),
        "is_article": (pagetype == "article") if pagetype else None,
    }


@dataclass
class OursResult:
    """One page through ``extract_outcome`` (with the fold's models when cross-validating)."""

    text: str
    title: str | None
    authors: list[str]
    published: str | None
    is_article: bool
    seconds: float


def run_pages(
    pages: list[dict[str, Any]], cv: bool
) -> tuple[dict[str, OursResult], dict[str, tuple[str, float]]]:
    """Ours and plain trafilatura on every page, interleaved page by page (load hits both alike).

    With ``cv`` each fold's pages are extracted by models trained on the other folds only.
    """
    from benchmarks.cv import K, fold_models, fold_of

    ours = _ours()
    ours(pages[0]["html"], pages[0]["url"])  # warm-up: imports, caches
    from pipeline.extract.language import detect_language

    # py3langid's model loads once per process (~1 s CPU) on the first page whose language is
    # undeclared: a worker pays it once, so it is not charged to whichever dev page comes first.
    detect_language("Ein kurzer Text, damit das Sprachmodell einmal geladen wird, bevor gemessen wird.")
    _traf_text(pages[0]["html"], pages[0]["url"])
    mine: dict[str, OursResult] = {}
    theirs: dict[str, tuple[str, float]] = {}
    folds = range(K) if cv else [None]
    for fold in folds:
        todo = [p for p in pages if fold is None or fold_of(p["id"]) == fold]
        with fold_models(pages, fold) if fold is not None else nullcontext():
            for page in todo:
                started = time.process_time()
                outcome = ours(page["html"], page["url"])
                elapsed = time.process_time() - started
                article = outcome.article
                mine[page["id"]] = OursResult(
                    text=article.text if article is not None else "",
                    title=article.title if article is not None else None,
                    authors=article.authors if article is not None else [],
                    published=article.published_at.isoformat()
                    if article is not None and article.published_at
                    else None,
                    is_article=outcome.status == "ok",
                    seconds=elapsed,
                )
                if page["page_type"] == "article":
                    started = time.process_time()
                    text = _traf_text(page["html"], page["url"])
                    theirs[page["id"]] = (text, time.process_time() - started)
    return mine, theirs


def text_benchmark(
    ee: ModuleType,
    pages: list[dict[str, Any]],
    mine: dict[str, OursResult],
    theirs: dict[str, tuple[str, float]],
) -> dict[str, Any]:
    docs = [p for p in pages if p["page_type"] == "article"]
    rows: dict[str, list[Any]] = {"ours": [], "trafilatura": []}
    snippets: dict[str, dict[str, list[float]]] = {k: {"with": [], "without": []} for k in rows}
    seconds = dict.fromkeys(rows, 0.0)
    for doc in docs:
        truth = ee.tokens(doc["text"])
        # Text is scored whatever detection decided (detection has its own figures).
        texts = {"ours": mine[doc["id"]].text, "trafilatura": theirs[doc["id"]][0]}
        seconds["ours"] += mine[doc["id"]].seconds
        seconds["trafilatura"] += theirs[doc["id"]][1]
        for name, text in texts.items():
            pred = ee.tokens(text)
            tp, fp, fn = ee.shingle_tp_fp_fn(truth, pred)
            rows[name].append((tp, fp, fn, truth == pred))
            for kind in ("with", "without"):
                rate = ee.snippet_rate(text, doc[kind])
                if rate is not None:
                    snippets[name][kind].append(rate)
    out: dict[str, Any] = {"n_docs": len(docs)}
    for name in rows:
        agg = ee.aggregate(rows[name])
        out[name] = {
            **{k: round(v, 4) for k, v in agg.items()},
            "with_rate": round(sum(snippets[name]["with"]) / max(1, len(snippets[name]["with"])), 4),
            "without_rate": round(sum(snippets[name]["without"]) / max(1, len(snippets[name]["without"])), 4),
            "docs_per_s": round(len(docs) / seconds[name], 2) if seconds[name] else None,
        }
    out["f1_gain"] = round(out["ours"]["f1"] - out["trafilatura"]["f1"], 4)
    out["folds"] = _per_fold(ee, docs, rows)
    out["speed_ratio"] = round(out["ours"]["docs_per_s"] / out["trafilatura"]["docs_per_s"], 3)
    return out


def _per_fold(ee: ModuleType, docs: list[dict[str, Any]], rows: dict[str, list[Any]]) -> list[dict[str, Any]]:
    """Text P/R/F1 of ours and trafilatura on each cross-validation fold's pages (``benchmarks.cv``)."""
    from benchmarks.cv import K, fold_of

    folds = [fold_of(doc["id"]) for doc in docs]
    out = []
    for fold in range(K):
        entry: dict[str, Any] = {"fold": fold, "n_docs": folds.count(fold)}
        for name, name_rows in rows.items():
            agg = ee.aggregate([row for row, f in zip(name_rows, folds, strict=True) if f == fold])
            entry[name] = {k: round(agg[k], 4) for k in ("precision", "recall", "f1")}
        entry["f1_gain"] = round(entry["ours"]["f1"] - entry["trafilatura"]["f1"], 4)
        out.append(entry)
    return out


def meta_benchmark(
    me: ModuleType, dataset: Path, mine: dict[str, OursResult], limit: int | None
) -> dict[str, Any]:
    _, docs = me.load_dataset(str(dataset), "dev", None, limit)
    docs = [d for d in docs if d["id"] in mine]
    out: dict[str, Any] = {
        "n_docs": len(docs),
        "n_article_pages": sum(d["page_type"] == "article" for d in docs),
    }

    def ours_meta(doc: dict[str, Any]) -> dict[str, Any]:
        result = mine[doc["id"]]
        if not result.is_article:
            return {"title": None, "authors": [], "published": None, "is_article": False}
        return {
            "title": result.title,
            "authors": result.authors,
            "published": result.published,
            "is_article": True,
        }

    for name in ("ours", "trafilatura"):
        preds = {}
        for doc in docs:
            try:
                pred = ours_meta(doc) if name == "ours" else _traf_meta(doc["html"], doc["url"])
                preds[doc["id"]] = me._jsonable(pred)
            except Exception:
                preds[doc["id"]] = {}
        keys = me.field_keys(preds)
        outcomes = {d["id"]: me.score_doc(d, preds.get(d["id"]) or {}, keys) for d in docs}
        metrics = me.aggregate(docs, outcomes, keys)
        out[name] = {
            "title_exact": metrics["title"]["exact_rate"],
            "authors_exact": metrics["authors"]["exact_rate"],
            "authors_invented": metrics["authors"]["fp_rate"],
            "date_day": metrics["published"]["day_rate"],
            "date_invented": metrics["published"]["fp_rate"],
            "detection_precision": metrics["is_article"]["precision"],
            "detection_recall": metrics["is_article"]["recall"],
            "detection_f1": metrics["is_article"]["f1"],
        }
    listings = [p for p in docs if p["page_type"] != "article"]
    out["listing_pages"] = len(listings)
    out["listing_rejected"] = sum(not mine[p["id"]].is_article for p in listings)
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the ../shared folder")
    parser.add_argument("--limit", type=int, default=None, help="first N pages only (smoke run)")
    parser.add_argument("--skip-meta", action="store_true", help="text benchmark only")
    parser.add_argument(
        "--no-cv", action="store_true", help="use the shipped models on every page (not a fair score)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args(argv)
    dataset = args.shared / "data" / "wcxb"
    tools = args.shared / "tools"
    if not dataset.is_dir() or not (tools / "extract_eval.py").is_file():
        raise SystemExit(f"needs {dataset} and {tools}/extract_eval.py (the ../shared folder)")
    sys.setrecursionlimit(10_000)
    result: dict[str, Any] = {"dataset": "wcxb/dev"}
    from benchmarks.cv import TRAINERS, load_dev_pages

    pages = load_dev_pages(dataset)[: args.limit] if args.limit else load_dev_pages(dataset)
    cv = bool(TRAINERS) and not args.no_cv
    result["cross_validated"] = cv
    mine, theirs = run_pages(pages, cv)
    result["text"] = text_benchmark(_load_tool(tools / "extract_eval.py"), pages, mine, theirs)
    print(json.dumps({"text": result["text"]}, indent=2), flush=True)
    if not args.skip_meta:
        result["metadata"] = meta_benchmark(_load_tool(tools / "meta_eval.py"), dataset, mine, args.limit)
        print(json.dumps({"metadata": result["metadata"]}, indent=2), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
