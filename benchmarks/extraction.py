"""Extraction benchmark: ``extract_article`` vs plain trafilatura on the WCXB dev split, same run.

Text (article pages): shingle precision/recall/F1 (the article-extraction-benchmark metric),
the WCXB "with"/"without" snippet rates and docs/s, for ours against
``trafilatura.extract(include_comments=False)``. Metadata (article pages) and article
detection (all pages): title exact, authors exact-set and invented-author rate, publish day
and invented-date rate, detection precision/recall/F1 against trafilatura's own
``bare_extraction(with_metadata=True)``.

Scoring is delegated to the held-out scorers in ``../shared/tools`` (``extract_eval.py`` and
``meta_eval.py``) so the numbers are the project's official ones; the dataset and the tools
are read from ``../shared`` and never copied. Speed is measured interleaved (ours and
trafilatura alternate page by page in one process) so machine load hits both equally.

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


def text_benchmark(ee: ModuleType, dataset: Path, limit: int | None) -> dict[str, Any]:
    _, docs = ee.load_dataset(str(dataset), "dev", {"article"}, limit)
    ours = _ours()
    ours(docs[0]["html"], docs[0]["url"])  # warm-up: imports, caches
    _traf_text(docs[0]["html"], docs[0]["url"])
    rows: dict[str, list[Any]] = {"ours": [], "trafilatura": []}
    snippets: dict[str, dict[str, list[float]]] = {k: {"with": [], "without": []} for k in rows}
    seconds = dict.fromkeys(rows, 0.0)
    for doc in docs:
        truth = ee.tokens(doc["truth"])
        for name in ("ours", "trafilatura"):
            started = time.perf_counter()
            if name == "ours":
                outcome = ours(doc["html"], doc["url"])
                text = outcome.article.text if outcome.article is not None else ""
            else:
                text = _traf_text(doc["html"], doc["url"])
            seconds[name] += time.perf_counter() - started
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
    out["speed_ratio"] = round(out["ours"]["docs_per_s"] / out["trafilatura"]["docs_per_s"], 3)
    return out


def _ours_meta(html: str, url: str) -> dict[str, Any]:
    outcome = _ours()(html, url)
    article = outcome.article
    if article is None:
        return {"title": None, "authors": [], "published": None, "is_article": False}
    return {
        "title": article.title,
        "authors": article.authors,
        "published": article.published_at.isoformat() if article.published_at else None,
        "is_article": outcome.status == "ok",
    }


def meta_benchmark(me: ModuleType, dataset: Path, limit: int | None) -> dict[str, Any]:
    _, docs = me.load_dataset(str(dataset), "dev", None, limit)
    out: dict[str, Any] = {
        "n_docs": len(docs),
        "n_article_pages": sum(d["page_type"] == "article" for d in docs),
    }
    for name, func in (("ours", _ours_meta), ("trafilatura", _traf_meta)):
        preds = {}
        for doc in docs:
            try:
                preds[doc["id"]] = me._jsonable(func(doc["html"], doc["url"]))
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
    return out


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the ../shared folder")
    parser.add_argument("--limit", type=int, default=None, help="first N pages only (smoke run)")
    parser.add_argument("--skip-meta", action="store_true", help="text benchmark only")
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    args = parser.parse_args(argv)
    dataset = args.shared / "data" / "wcxb"
    tools = args.shared / "tools"
    if not dataset.is_dir() or not (tools / "extract_eval.py").is_file():
        raise SystemExit(f"needs {dataset} and {tools}/extract_eval.py (the ../shared folder)")
    sys.setrecursionlimit(10_000)
    result: dict[str, Any] = {"dataset": "wcxb/dev"}
    result["text"] = text_benchmark(_load_tool(tools / "extract_eval.py"), dataset, args.limit)
    print(json.dumps({"text": result["text"]}, indent=2), flush=True)
    if not args.skip_meta:
        result["metadata"] = meta_benchmark(_load_tool(tools / "meta_eval.py"), dataset, args.limit)
        print(json.dumps({"metadata": result["metadata"]}, indent=2), flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
