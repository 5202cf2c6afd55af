"""Scope benchmark: CPU to find which configured source owns a link, at 100 to 10,000 sources.

Every link of every crawled page is asked "which source owns it?" (canonical form, URL
patterns, article verdict). Before :class:`pipeline.urls.SiteIndex` the answer was one
``same_site`` per configured source: at 10,000 sources ~15 ms for each distinct foreign link
(share buttons carry the page's URL, so they are distinct on every page). This prints, per
source count, CPU per distinct foreign link through ``Scope.owner`` (the index) against the
loop it replaced, measured in the same run on the same URLs, and the ratio.

    .venv/bin/python -m benchmarks.scope [--sizes 100,1000,10000] [--links 300]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from benchmarks.dag_parse import generate_sources
from crawlers.scope import Scope
from pipeline.config import Source
from pipeline.sourcecache import load_valid_sources
from pipeline.urls import same_site


def loop_owner(scope: Scope, url: str) -> Source | None:
    """The replaced code: one ``same_site`` per configured source."""
    if same_site(url, scope.source.allowed_domains):
        return scope.source
    return next((other for other in scope.others if same_site(url, other.allowed_domains)), None)


def cpu_per_link(scope: Scope, urls: list[str], *, loop: bool) -> float:
    start = time.process_time()
    for url in urls:
        loop_owner(scope, url) if loop else scope._owner(url)
    return (time.process_time() - start) / len(urls)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--links", type=int, default=300)
    args = parser.parse_args()
    print(f"{'sources':>8} {'index ms/link':>14} {'loop ms/link':>13} {'loop/index':>11}")
    for count in (int(size) for size in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            sources = load_valid_sources(generate_sources(count, Path(tmp) / "sources.yaml"))
        scope = Scope(sources[0], sources)
        # Foreign links (owned by no source), and links of the last-configured source.
        urls = [f"https://share.example.org/intent?u={i}" for i in range(args.links)]
        urls += [f"https://{sources[-1].allowed_domains[0]}/story-{i}" for i in range(args.links // 10)]
        for url in urls:
            assert scope._owner(url) is loop_owner(scope, url), url
        index = cpu_per_link(scope, urls, loop=False)
        loop = cpu_per_link(scope, urls, loop=True)
        print(f"{count:>8} {index * 1e3:>14.4f} {loop * 1e3:>13.3f} {loop / index:>10.0f}x")
    print("load average (1, 5, 15 min): {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
