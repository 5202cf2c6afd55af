"""Where the text F1 is lost, and how much other candidate bodies could win back (WCXB dev).

Issue 15 asks for text F1 >= trafilatura + 0.02. Before building a chooser or a line
classifier over several candidate bodies, this measures the ceiling: for every dev article
it scores our text and each candidate against the ground truth (the official shingle scorer
of ``../shared/tools/extract_eval.py``), then the page-level *oracle* (the best candidate
per page, which no real chooser reaches) for a few combinations, and how concentrated the
losses are. Candidates:

- ``ours``: ``extract_outcome`` (what ships);
- ``recall`` / ``default`` / ``precision``: trafilatura's cascade in that mode on our
  pre-cleaned tree, raw lines (no line cleaning);
- ``readability``: trafilatura's bundled readability port (``trafilatura.readability_lxml``);
- ``justext``: jusText's "good" paragraphs (stop list of the page's declared language when
  jusText has one, else English);
- ``resiliparse``: Resiliparse's main-content text of the raw page (its own parse), as the
  chooser reads it (no bullets, alt texts or links).

    PYTHONPATH=. .venv/bin/python -m benchmarks.text_candidates [--shared ../shared] [--limit N]

Nothing here is learned, so there is nothing to cross-validate: the oracle is an upper bound.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks.extraction import _load_tool

ROOT = Path(__file__).resolve().parents[1]
NAMES = ("ours", "recall", "default", "precision", "readability", "justext", "resiliparse")


def mode_text(tree: Any, url: str, mode: str) -> str:
    """Trafilatura's body text of ``tree`` in one mode (``recall``/``default``/``precision``), "" if it fails."""
    from trafilatura.core import trafilatura_sequence
    from trafilatura.settings import Extractor
    from trafilatura.xml import xmltotxt

    options = Extractor(
        output_format="python",
        recall=mode == "recall",
        precision=mode == "precision",
        comments=False,
        tables=True,
        url=url,
    )
    try:
        body, _text, _c, _ct = trafilatura_sequence(copy.deepcopy(tree), options, url)
        return str(xmltotxt(body, options.formatting) or "")
    except Exception:
        return ""


def _readability(html: str) -> str:
    from lxml.html import fromstring
    from trafilatura.readability_lxml import Document

    from pipeline.extract.parsing import parse_html as _parse

    tree = _parse(html)
    if tree is None:
        return ""
    try:
        summary = Document(tree).summary()
        return str(fromstring(summary).text_content()) if summary else ""
    except Exception:
        return ""


def resiliparse_text(html: str) -> str:
    """Resiliparse's main-content text as the chooser reads it (:func:`pipeline.extract.chooser.resiliparse_lines`)."""
    from pipeline.extract.chooser import resiliparse_lines

    return "\n".join(resiliparse_lines(html))


def _justext(html: str, language: str | None) -> str:
    import justext

    from pipeline.extract.language import normalise_code

    names = {name.lower(): name for name in justext.get_stoplists()}
    code_names = {"en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian"}
    wanted = code_names.get(normalise_code(language) or "", "english")
    stoplist = justext.get_stoplist(names.get(wanted, "English"))
    try:
        paragraphs = justext.justext(html.encode("utf-8", "replace"), stoplist)
    except Exception:
        return ""
    return "\n".join(p.text for p in paragraphs if p.class_type == "good")


def candidates(page: dict[str, Any]) -> dict[str, str]:
    """Every candidate body of one dev page, as text."""
    from pipeline.extract.api import extract_outcome
    from pipeline.extract.cleaning import preclean_tree
    from pipeline.extract.parsing import parse_html as _parse

    outcome = extract_outcome(page["html"], page["url"])
    out = {"ours": outcome.article.text if outcome.article is not None else ""}
    tree = _parse(page["html"])
    if tree is not None:
        language = tree.get("lang")
        preclean_tree(tree, [], page["url"])
        for mode in ("recall", "default", "precision"):
            out[mode] = mode_text(tree, page["url"], mode)
    else:
        language = None
    out["readability"] = _readability(page["html"])
    out["justext"] = _justext(page["html"], language)
    out["resiliparse"] = resiliparse_text(page["html"])
    return out


def scores(ee: ModuleType, tp: float, fp: float, fn: float) -> tuple[float, float, float]:
    """Per-page precision, recall and F1 of shingle counts, as the official scorer computes them."""
    p, r = ee.doc_precision(tp, fp, fn), ee.doc_recall(tp, fp, fn)
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def _f1(ee: ModuleType, row: tuple[float, float, float, bool]) -> float:
    tp, fp, fn, _exact = row
    return scores(ee, tp, fp, fn)[2]


def analyse(ee: ModuleType, pages: list[dict[str, Any]]) -> dict[str, Any]:
    scores: dict[str, dict[str, tuple[float, float, float, bool]]] = {name: {} for name in NAMES}
    for done, page in enumerate(pages, 1):
        truth = ee.tokens(page["text"])
        for name, text in candidates(page).items():
            pred = ee.tokens(text)
            scores[name][page["id"]] = (*ee.shingle_tp_fp_fn(truth, pred), truth == pred)
        if done % 100 == 0:
            print(f"{done}/{len(pages)} pages", file=sys.stderr, flush=True)
    result: dict[str, Any] = {"articles": len(pages), "single": {}, "oracle": {}}
    for name in NAMES:
        agg = ee.aggregate([scores[name].get(p["id"], (0.0, 0.0, 1.0, False)) for p in pages])
        result["single"][name] = {k: round(agg[k], 4) for k in ("precision", "recall", "f1")}
    combos: list[tuple[str, ...]] = [("ours", other) for other in NAMES[1:]]
    combos += [("ours", "readability", "justext"), ("ours", "readability", "resiliparse"), NAMES]
    for combo in combos:
        rows = []
        for page in pages:
            options = [scores[name].get(page["id"], (0.0, 0.0, 1.0, False)) for name in combo]
            rows.append(max(options, key=lambda row: _f1(ee, row)))
        agg = ee.aggregate(rows)
        result["oracle"]["+".join(combo)] = round(agg["f1"], 4)
    losses = sorted(
        (
            (
                1 - ee.doc_precision(*scores["ours"][p["id"]][:3]),
                1 - ee.doc_recall(*scores["ours"][p["id"]][:3]),
            )
            for p in pages
        ),
        key=lambda pair: -(pair[0] + pair[1]),
    )
    result["ours_losses"] = {
        "precision_total": round(sum(p for p, _ in losses), 2),
        "recall_total": round(sum(r for _, r in losses), 2),
        "worst_20_pages": round(sum(p + r for p, r in losses[:20]), 2),
    }
    return result


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args(argv)
    from benchmarks.cv import load_dev_pages

    sys.setrecursionlimit(10_000)
    pages = [p for p in load_dev_pages(args.shared / "data" / "wcxb") if p["page_type"] == "article"]
    result = analyse(_load_tool(args.shared / "tools" / "extract_eval.py"), pages[: args.limit])
    print(json.dumps(result, indent=2))
    return result


if __name__ == "__main__":
    main()
