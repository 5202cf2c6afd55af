"""What compiling the crawler's hot pure-Python modules with mypyc would save, per page.

The option was evaluated for issue 17 (CPU per page of the crawl <= 1.3x bare Scrapy) and not
taken: docs/architecture.md ("Compiled modules") has the figures. This script keeps the
measurement repeatable, e.g. for a later mypyc.

The demo network's HTML pages are fetched once over loopback (scale mode, ``--articles``).
The modules (``--modules``) are copied with the rest of ``crawlers`` and ``pipeline`` into a
temporary tree and compiled there with mypyc (the mypy of the virtualenv; the repository is
never touched, so no extension module can shadow an edited source). Then a worker process
runs the callback's pure-Python page work on every page - :func:`crawlers.pagescan.page_root`
(lxml's parse, C in both), :func:`crawlers.page_analysis.analyse` (which includes
:func:`crawlers.pagescan.scan`), the related or listing links, :meth:`crawlers.scope.Scope.usable`
of each link - from the repository and from the compiled tree in turn, ``--runs`` times,
and prints the medians per part (CPU, ``time.process_time``, median of ``--rounds`` warm rounds
per run, microseconds per page).

    .venv/bin/python -m benchmarks.compiled [--articles 300] [--runs 3] [--rounds 7]

Needs gcc and the Python headers (mypyc builds C extensions with the virtualenv's seeded
setuptools); ``make install`` installs neither, as nothing of newsflow is compiled.

What it cannot show: the cache effects of a real crawl (there, the same work costs about
twice as much), and the recorder (WARC, rows), which needs a crawl; ``benchmarks.crawl`` run
from the compiled tree (``PYTHONPATH=<tree>``, printed) measures the whole.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import pickle
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from benchmarks._machine import LoadSampler, describe_load

MODULES = ("crawlers/pagescan.py", "crawlers/page_analysis.py", "pipeline/urls.py")
PARTS = ("parse", "scan", "analyse", "links", "usable")


def fetch_pages(articles: int, folder: Path) -> Path:
    """Every HTML page the demo network lists, pickled as (url, body, Content-Type), and its sources."""
    from pipeline.demo_site import DemoNetwork

    pages: list[tuple[str, bytes, str]] = []
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, direct
    with DemoNetwork(host="127.0.0.1", port=0, articles=articles) as net:
        net.write_sources(folder / "sources.yaml")
        urls: list[str] = []
        for outlet in net.manifest().outlets.values():
            urls += [outlet.homepage, *outlet.listing_urls, *outlet.article_urls, *outlet.non_articles]
        for url in dict.fromkeys(urls):
            try:
                with opener.open(url, timeout=10) as answer:
                    body, ctype = answer.read(), answer.headers.get("Content-Type", "")
            except (urllib.error.URLError, OSError):  # the network's fault catalogue (404, resets)
                continue
            if "html" in ctype:
                pages.append((url, body, ctype))
    path = folder / "pages.pickle"
    path.write_bytes(pickle.dumps(pages))
    return path


def compiled_tree(modules: list[str], folder: Path) -> Path:
    """A copy of ``crawlers`` and ``pipeline`` with ``modules`` compiled in place by mypyc."""
    tree = folder / "tree"
    ignore = shutil.ignore_patterns("__pycache__", "*.so")
    for package in ("crawlers", "pipeline"):
        shutil.copytree(package, tree / package, ignore=ignore)
    shutil.copy("pyproject.toml", tree)  # mypy's configuration (strict, plugins)
    mypyc = Path(sys.executable).with_name("mypyc")
    started = time.monotonic()
    built = subprocess.run([str(mypyc), *modules], cwd=tree, capture_output=True, text=True)
    if built.returncode != 0:  # e.g. no gcc or Python headers, or a construct mypyc refuses
        sys.exit(f"mypyc failed ({built.returncode}):\n{built.stdout[-3000:]}{built.stderr[-3000:]}")
    print(f"compiled {', '.join(modules)} with mypyc in {time.monotonic() - started:.0f} s: {tree}")
    return tree


def worker(pages_path: Path, rounds: int) -> dict[str, Any]:
    """Per-part CPU per page (µs), median of ``rounds`` rounds after a warm-up round."""
    from scrapy.http import HtmlResponse

    from crawlers import page_analysis, pagescan, scope
    from pipeline import urls
    from pipeline.config import load_sources

    pages = pickle.loads(pages_path.read_bytes())
    sources = list(load_sources(pages_path.with_name("sources.yaml")).sources)
    scopes = {s.key: scope.Scope(s, sources) for s in sources}
    work = []
    for url, body, ctype in pages:
        owner = next(s for s in sources if urls.same_site(url, s.allowed_domains))
        work.append((HtmlResponse(url, body=body, headers={"Content-Type": ctype}), scopes[owner.key]))
    clock = time.process_time
    results: list[dict[str, float]] = []
    gc.disable()  # the crawl freezes its start-up heap; a collection mid-round is noise here
    for _ in range(rounds + 1):
        took = dict.fromkeys(PARTS, 0.0)
        for response, page_scope in work:
            t0 = clock()
            root = pagescan.page_root(response)
            t1 = clock()
            pagescan.scan(root)
            t2 = clock()
            info = page_analysis.analyse(root, response.url)
            t3 = clock()
            if info.score >= 2:
                links = page_analysis.related_links(root, response.url, (), info.body, info.scan)
            else:
                links = page_analysis.listing_links(root, response.url, info.scan)
            t4 = clock()
            for link in links:
                page_scope.usable(link.url)
            t5 = clock()
            for part, seconds in zip(PARTS, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4), strict=True):
                took[part] += seconds
        results.append(took)
    per_page = {part: statistics.median(r[part] for r in results[1:]) / len(work) * 1e6 for part in PARTS}
    modules = (pagescan, page_analysis, scope, urls)
    return {
        "pages": len(work),
        "us_per_page": per_page,
        "compiled": [m.__name__ for m in modules if str(m.__file__).endswith(".so")],
    }


def run_worker(tree: Path, pages_path: Path, rounds: int) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tree), os.getcwd()]))
    cmd = [sys.executable, "-m", "benchmarks.compiled", "--worker", str(pages_path), "--rounds", str(rounds)]
    out = subprocess.run(cmd, cwd=tree, env=env, check=True, capture_output=True, text=True)
    result: dict[str, Any] = json.loads(out.stdout)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=300, help="generated articles (network-wide)")
    parser.add_argument("--runs", type=int, default=3, help="interleaved runs of each variant (medians)")
    parser.add_argument("--rounds", type=int, default=7, help="rounds over all pages per run")
    parser.add_argument(
        "--modules", default=",".join(MODULES), help="comma-separated module files to compile"
    )
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.rounds)))
        return
    with tempfile.TemporaryDirectory(prefix="newsflow-compiled-") as tmp:
        folder = Path(tmp)
        pages_path = fetch_pages(args.articles, folder)
        tree = compiled_tree(args.modules.split(","), folder)
        runs: dict[str, list[dict[str, float]]] = {"python": [], "mypyc": []}
        with LoadSampler() as load:
            for _ in range(args.runs):  # interleaved: both see the same machine state
                for name, where in (("python", Path.cwd()), ("mypyc", tree)):
                    result = run_worker(where, pages_path, args.rounds)
                    runs[name].append(result["us_per_page"])
                    print(
                        f"  {name:6} {result['pages']} pages, compiled {result['compiled'] or 'none'}: "
                        + " ".join(f"{p} {result['us_per_page'][p]:.1f}" for p in PARTS)
                        + " µs/page"
                    )
    print(f"MEDIANS of {args.runs} runs, µs of CPU per page (analyse includes scan):")
    medians = {
        part: {name: statistics.median(r[part] for r in results) for name, results in runs.items()}
        for part in PARTS
    }
    lines = [(part, medians[part]) for part in PARTS]
    for label, parts in (
        ("python", ("analyse", "links", "usable")),
        ("all", ("parse", "analyse", "links", "usable")),
    ):
        lines.append((label, {name: sum(medians[p][name] for p in parts) for name in runs}))
    for label, pair in lines:
        print(
            f"  {label:8} python {pair['python']:7.1f}  mypyc {pair['mypyc']:7.1f}  ({pair['mypyc'] / pair['python'] - 1:+.0%})"
        )
    print("  (python: the parts in Python, analyse + links + usable; all: with lxml's parse)")
    print(describe_load(load.summary()))


if __name__ == "__main__":
    main()
