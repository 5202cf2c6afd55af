"""Crawl benchmark: ``newsflow crawl`` vs a bare Scrapy spider on the same URLs, same run.

Starts the demo network in scale mode (loopback only), then per outlet:

1. ``newsflow crawl --source KEY --json`` (the real CLI: discovery, canonicalisation,
   robots, WARC + ``fetches`` rows into a fresh SQLite database);
2. a bare Scrapy spider (subprocess, no processing at all) requesting exactly the URLs the
   crawl requested, with the same concurrency, delay, AutoThrottle and timeout settings.

Prints pages/s of both, their ratio (goal >= 0.8) and the peak RSS of both processes; with
``--small`` it repeats everything on a smaller network to show whether memory grows with
the site. Results are saved as JSON under ``benchmarks/results/``.

    .venv/bin/python -m benchmarks.crawl --articles 6000 [--small 1500] [--outlets KEY,...]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

RESULTS = Path("benchmarks/results")


def bare_worker(url_file: str, concurrency: int, delay: float, autothrottle: bool, timeout: float) -> None:
    """The reference: Scrapy fetching a URL list and doing nothing with the responses."""
    import scrapy
    from scrapy.crawler import CrawlerProcess

    urls = Path(url_file).read_text().split()
    counts = {"responses": 0, "errors": 0}

    class BareSpider(scrapy.Spider):
        name = "bare"

        async def start(self) -> Any:
            for url in urls:
                yield scrapy.Request(url, callback=self.parse, errback=self.failed, dont_filter=True)

        def parse(self, response: Any) -> None:
            counts["responses"] += 1

        def failed(self, failure: Any) -> None:
            counts["errors"] += 1

    settings = {
        "TELNETCONSOLE_ENABLED": False,
        "REMOTE_CONTROL_ENABLED": False,
        "LOG_LEVEL": "ERROR",
        "ROBOTSTXT_OBEY": True,
        "USER_AGENT": "newsflow-bench/0.1 (+https://example.org/newsflow-bot)",
        "CONCURRENT_REQUESTS": max(16, concurrency * 2),
        "CONCURRENT_REQUESTS_PER_DOMAIN": concurrency,
        "DOWNLOAD_DELAY": delay,
        "AUTOTHROTTLE_ENABLED": autothrottle,
        "AUTOTHROTTLE_START_DELAY": delay,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": float(concurrency),
        "DOWNLOAD_TIMEOUT": timeout,
        "HTTPERROR_ALLOW_ALL": True,
        "COOKIES_ENABLED": False,
        "MEMUSAGE_ENABLED": False,
    }
    started = time.monotonic()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu_started = usage.ru_utime + usage.ru_stime
    process = CrawlerProcess(settings=settings)
    process.crawl(BareSpider)
    process.start()
    elapsed = time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = usage.ru_utime + usage.ru_stime - cpu_started
    pages = counts["responses"] + counts["errors"]
    result: dict[str, Any] = {"pages": pages, **counts, "elapsed_s": elapsed}
    result["peak_rss_mb"] = round(usage.ru_maxrss / 1024, 1)
    result["cpu_ms_per_page"] = round(1000 * cpu / pages, 2) if pages else None
    print(json.dumps(result))


def run_ours(key: str, sources: Path, env: dict[str, str]) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "pipeline", "crawl", "--source", key, "--sources", str(sources), "--json"]
    started = time.monotonic()
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True)
    wall = time.monotonic() - started
    result = json.loads(out.stdout)
    stats = result["stats"]
    pages = result["pages_fetched"] + result["pages_failed"] + result["pages_unchanged"]
    return {
        "run_id": result["run_id"],
        "status": result["status"],
        "pages": pages,
        "elapsed_s": stats["elapsed_s"],
        "wall_s": round(wall, 2),
        "pages_per_s": round(pages / stats["elapsed_s"], 1),
        "peak_rss_mb": stats["peak_rss_mb"],
        "cpu_ms_per_page": stats.get("cpu_ms_per_page"),
        "articles": stats.get("article_candidates"),
        "errors": result["errors_by_category"],
    }


def requested_urls(database_url: str, run_id: str) -> list[str]:
    from sqlalchemy import create_engine, select

    from pipeline.db.models import CrawlRun, Fetch

    engine = create_engine(database_url)
    with engine.connect() as conn:
        run_pk = conn.execute(select(CrawlRun.id).where(CrawlRun.run_id == run_id)).scalar_one()
        rows = conn.execute(
            # robots.txt rows are Scrapy's own fetch, which the bare spider makes by itself too.
            select(Fetch.url)
            .where(Fetch.run_id == run_pk, Fetch.outcome.not_in(("skipped", "robots_txt")))
            .order_by(Fetch.id)
        )
        urls = [r.url for r in rows]
    engine.dispose()
    return urls


def run_bare(urls: list[str], politeness: dict[str, Any], tmp: Path) -> dict[str, Any]:
    url_file = tmp / "urls.txt"
    url_file.write_text("\n".join(urls))
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.crawl",
        "--bare",
        str(url_file),
        "--concurrency",
        str(politeness["concurrency"]),
        "--delay",
        str(politeness["delay"]),
        "--timeout",
        str(politeness["download_timeout"]),
    ]
    if politeness["autothrottle"]:
        cmd.append("--autothrottle")
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["pages_per_s"] = round(result["pages"] / result["elapsed_s"], 1)
    result["elapsed_s"] = round(result["elapsed_s"], 3)
    return result


def run_size(articles: int, outlets: list[str] | None) -> dict[str, Any]:
    from pipeline.config import Politeness
    from pipeline.db import migrate
    from pipeline.demo_site import DemoNetwork

    with tempfile.TemporaryDirectory(prefix="newsflow-crawl-bench-") as tmp_name:
        tmp = Path(tmp_name)
        database_url = f"sqlite:///{tmp}/news.db"
        env = {**os.environ, "NEWSFLOW_DATABASE_URL": database_url, "NEWSFLOW_RAW_STORE": str(tmp / "raw")}
        migrate.upgrade(database_url)
        with DemoNetwork(host="127.0.0.1", port=0, articles=articles) as network:
            sources = network.write_sources(tmp / "sources.yaml")
            per_outlet: dict[str, Any] = {}
            for source in network.sources():
                key = source["key"]
                if outlets and key not in outlets:
                    continue
                politeness = Politeness(**source.get("politeness", {})).model_dump()
                ours = run_ours(key, sources, env)
                urls = requested_urls(database_url, ours["run_id"])
                bare = run_bare(urls, politeness, tmp)
                ratio = round(ours["pages_per_s"] / bare["pages_per_s"], 3)
                per_outlet[key] = {"ours": ours, "bare": bare, "ratio": ratio, "concurrency": politeness}
                print(
                    f"  {key:18} ours {ours['pages']:>6} pages {ours['pages_per_s']:>7} p/s "
                    f"cpu {ours['cpu_ms_per_page']} ms/p rss {ours['peak_rss_mb']:>6} MB | bare "
                    f"{bare['pages']:>6} pages {bare['pages_per_s']:>7} p/s cpu {bare['cpu_ms_per_page']} ms/p "
                    f"rss {bare['peak_rss_mb']:>6} MB | ratio {ratio}",
                    flush=True,
                )
    ours_pages = sum(o["ours"]["pages"] for o in per_outlet.values())
    ours_time = sum(o["ours"]["elapsed_s"] for o in per_outlet.values())
    bare_pages = sum(o["bare"]["pages"] for o in per_outlet.values())
    bare_time = sum(o["bare"]["elapsed_s"] for o in per_outlet.values())
    total = {
        "articles": articles,
        "ours_pages": ours_pages,
        "ours_pages_per_s": round(ours_pages / ours_time, 1),
        "bare_pages": bare_pages,
        "bare_pages_per_s": round(bare_pages / bare_time, 1),
        "ratio": round((ours_pages / ours_time) / (bare_pages / bare_time), 3),
        "ours_peak_rss_mb": max(o["ours"]["peak_rss_mb"] for o in per_outlet.values()),
        "bare_peak_rss_mb": max(o["bare"]["peak_rss_mb"] for o in per_outlet.values()),
    }
    return {"total": total, "outlets": per_outlet}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=6000, help="generated articles (network-wide)")
    parser.add_argument("--small", type=int, default=0, help="also run a smaller network (memory check)")
    parser.add_argument("--outlets", default="", help="comma-separated outlet keys (default all)")
    parser.add_argument("--bare", help=argparse.SUPPRESS)
    parser.add_argument("--concurrency", type=int, default=4, help=argparse.SUPPRESS)
    parser.add_argument("--delay", type=float, default=0.0, help=argparse.SUPPRESS)
    parser.add_argument("--autothrottle", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--timeout", type=float, default=20.0, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare:
        bare_worker(args.bare, args.concurrency, args.delay, args.autothrottle, args.timeout)
        return
    outlets = [k for k in args.outlets.split(",") if k] or None
    report: dict[str, Any] = {"sizes": {}}
    for size in [s for s in (args.small, args.articles) if s]:
        print(f"demo network, {size} generated articles:", flush=True)
        result = run_size(size, outlets)
        report["sizes"][str(size)] = result
        t = result["total"]
        print(
            f"  TOTAL ours {t['ours_pages']} pages at {t['ours_pages_per_s']} p/s, bare {t['bare_pages']} "
            f"pages at {t['bare_pages_per_s']} p/s -> ratio {t['ratio']} (goal >= 0.8); peak RSS ours "
            f"{t['ours_peak_rss_mb']} MB, bare {t['bare_peak_rss_mb']} MB",
            flush=True,
        )
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / "crawl.json"
    out.write_text(json.dumps(report, indent=2))
    print(f"saved {out}")


if __name__ == "__main__":
    main()
