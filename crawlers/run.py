"""``python -m crawlers.run``: one source's crawl in its own process.

Twisted's reactor cannot be restarted inside a process, so the crawl stage (CLI and
Airflow alike) runs this module as a subprocess. It expects the ``crawl_runs`` row to exist
(the stage creates or resets it) and creates it only when run by hand. Progress and the
final result go to stdout as JSON lines (``--progress``); Scrapy's log goes to stderr.

Exit codes: 0 the run succeeded (individual bad pages do not fail it), 3 the run as a whole
failed (no discovery surface could be fetched, the database could not be written, the crawl
was interrupted), 2 usage/config error.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import json
import logging
import resource
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline import clock
from pipeline.redact import install_log_redaction, redact

if TYPE_CHECKING:
    from crawlers.spiders.news import NewsSpider

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_FAILED = 3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m crawlers.run", description=__doc__.splitlines()[0])
    parser.add_argument("--source", required=True, help="source key in the sources file")
    parser.add_argument("--run-id", required=True)
    parser.add_argument("--sources", default=None, help="sources file (default NEWSFLOW_SOURCES)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="default NEWSFLOW_DATABASE_URL; prefer the variable: a command line is visible to every local user",
    )
    parser.add_argument("--raw-store", default=None, help="default NEWSFLOW_RAW_STORE")
    parser.add_argument("--max-pages", type=int, default=None)
    parser.add_argument("--related-depth", type=int, default=None)
    parser.add_argument("--recrawl", action="store_true")
    parser.add_argument(
        "--backfill",
        action="store_true",
        help="recover the run's past window from dated feed/sitemap entries only (needs a window)",
    )
    parser.add_argument("--progress", action="store_true", help="JSON progress lines on stdout")
    parser.add_argument("--log-level", default="INFO")
    parser.add_argument(
        "--spider",
        default="crawlers.spiders.news:NewsSpider",
        help="spider class as module:Class (a NewsSpider subclass for an unusual site)",
    )
    return parser.parse_args(argv)


def emit(event: str, **data: Any) -> None:
    sys.stdout.write(json.dumps({"event": event, **data}, default=str) + "\n")
    sys.stdout.flush()


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def spider_class_of(spec: str) -> type[NewsSpider] | None:
    """The ``--spider`` class (``module:Class``), or ``None`` when it is no NewsSpider subclass.

    Checked before the run row is touched, so a mistyped option is a usage error (exit 2)
    that leaves no run behind.
    """
    from crawlers.spiders.news import NewsSpider

    module_name, _, class_name = spec.partition(":")
    try:
        found = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError):  # ValueError: an empty module name
        return None
    return found if isinstance(found, type) and issubclass(found, NewsSpider) else None


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from sqlalchemy import select

    from pipeline.config import ConfigError
    from pipeline.db.engine import make_engine, session_scope
    from pipeline.db.models import CrawlRun
    from pipeline.rawstore import run_warc_path
    from pipeline.runs import start_run, sync_source
    from pipeline.settings import get_settings
    from pipeline.sourcecache import load_source, load_valid_sources

    settings = get_settings()
    database_url = args.database_url or settings.database_url
    raw_store = args.raw_store or settings.raw_store
    sources_file = Path(args.sources) if args.sources else None
    try:
        source = load_source(args.source, sources_file)
    except ConfigError as exc:
        print(f"error: {redact(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyError as exc:
        print(f"error: {exc.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    spider_class = spider_class_of(args.spider)
    if spider_class is None:
        print(f"error: {args.spider} is not an importable NewsSpider subclass", file=sys.stderr)
        return EXIT_USAGE

    engine = make_engine(database_url)
    with session_scope(engine) as session:
        source_row = sync_source(session, source)
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == args.run_id)).one_or_none()
        if run is None:
            run = start_run(session, source_row, args.run_id)
        run_pk, source_pk = run.id, source_row.id
        # Every time decision (revisit schedule, max_age_days, backfill window) is judged at
        # the run's reference time: its window end (a backfill's past window), else the clock.
        now = clock.now()
        reference = min(run.window_end, now) if run.window_end is not None else now
        window_start, window_end = run.window_start, run.window_end
    if args.backfill and window_end is None:
        print("error: --backfill needs a run with a window (window_end)", file=sys.stderr)
        return EXIT_USAGE

    from scrapy.crawler import CrawlerProcess

    from crawlers.recorder import RunContext
    from crawlers.scope import Scope
    from crawlers.settings import scrapy_settings
    from crawlers.spiders.news import CrawlOptions
    from crawlers.state import load_known, load_purged

    known = load_known(engine, source_pk, exclude_run_id=run_pk)
    purged = load_purged(engine)
    options = CrawlOptions(
        max_pages=args.max_pages or source.limits.max_pages,
        related_depth=source.related.depth if args.related_depth is None else args.related_depth,
        recrawl=args.recrawl,
        now=reference,
        backfill=args.backfill,
        window_start=window_start if args.backfill else None,
    )
    context = RunContext(
        run_pk=run_pk,
        source_pk=source_pk,
        run_id=args.run_id,
        database_url=database_url,
        warc_path=run_warc_path(raw_store, source.key, args.run_id),
    )
    holder: dict[str, Any] = {}

    def on_progress(data: dict[str, Any]) -> None:
        recorder = getattr(holder.get("spider"), "recorder", None)
        if recorder is not None:
            t = recorder.totals
            data = {**data, "fetched": t.fetched, "failed": t.failed, "unchanged": t.unchanged}
        if args.progress:
            emit("progress", **data)

    started = time.monotonic()
    cpu_started = cpu_seconds()
    process = CrawlerProcess(
        settings=scrapy_settings(source, user_agent=settings.user_agent, log_level=args.log_level)
    )
    install_log_redaction()  # on the handler Scrapy just installed
    # Scrapy leaves the root logger at NOTSET and filters at its handler, so every DEBUG
    # line (two or three per page: "Crawled", "Scraped from", ...) was built as a record and
    # then dropped. At the root, a record below the level is never made.
    logging.getLogger().setLevel(args.log_level.upper())
    crawler = process.create_crawler(spider_class)
    process.crawl(
        crawler,
        source=source,
        scope=Scope(source, load_valid_sources(sources_file)),
        options=options,
        known=known,
        purged=purged,
        on_progress=on_progress,
        run_context=context,
    )

    def remember(spider: Any) -> None:
        holder["spider"] = spider

    from scrapy import signals

    crawler.signals.connect(remember, signal=signals.spider_opened)
    # Everything allocated so far (imports, settings, the known-URL state of a big source)
    # lives for the whole crawl: keep it out of the cyclic collector's full passes, which
    # otherwise re-walk it while the crawl allocates a tree per page.
    gc.freeze()
    process.start()
    elapsed = time.monotonic() - started
    cpu = cpu_seconds() - cpu_started
    return finish(
        engine,
        run_pk,
        holder.get("spider"),
        crawler,
        elapsed,
        cpu,
        known_urls=len(known),
        progress=args.progress,
    )


def finish(
    engine: Any,
    run_pk: int,
    spider: Any,
    crawler: Any,
    elapsed: float,
    cpu: float,
    *,
    known_urls: int,
    progress: bool,
) -> int:
    """Decide the run's verdict, store the crawl statistics, print the result line."""
    from pipeline.db.engine import session_scope
    from pipeline.db.models import CrawlRun

    recorder = getattr(spider, "recorder", None)
    scrapy_stats = crawler.stats.get_stats() if crawler.stats else {}
    reason = str(scrapy_stats.get("finish_reason", "unknown"))
    error: str | None = None
    if recorder is None:
        error = "the crawler did not start (see the log above)"
    elif recorder.failed is not None:
        error = redact(f"cannot record fetches: {type(recorder.failed).__name__}: {recorder.failed}")
    elif reason != "finished":
        error = f"crawl interrupted ({reason})"
    elif recorder.totals.surfaces and not recorder.totals.surfaces_ok:
        details = "; ".join(recorder.totals.surface_errors)
        error = f"none of the {recorder.totals.surfaces} discovery URL(s) could be fetched: {details}"
    crawl_stats: dict[str, Any] = recorder.crawl_stats() if recorder is not None else {}
    pages = (recorder.totals.fetched + recorder.totals.unchanged + recorder.totals.failed) if recorder else 0
    crawl_stats.update(
        {
            "status": "failed" if error else "succeeded",
            "finish_reason": reason,
            "elapsed_s": round(elapsed, 3),
            "pages_per_s": round(pages / elapsed, 2) if elapsed > 0 else 0.0,
            "peak_rss_mb": peak_rss_mb(),
            "cpu_s": round(cpu, 2),
            "cpu_ms_per_page": round(1000 * cpu / pages, 2) if pages else None,
            "known_urls": known_urls,
            "retries": int(scrapy_stats.get("retry/count", 0)),
            "finished_at": clock.now().isoformat(),
        }
    )
    with session_scope(engine) as session:
        run = session.get(CrawlRun, run_pk)
        if run is not None:
            run.stats = {**(run.stats or {}), "crawl": crawl_stats}
            if error:
                run.status = "failed"
                run.error = error
                run.finished_at = clock.now()
    engine.dispose()
    if progress:
        emit("result", status=crawl_stats["status"], error=error, stats=crawl_stats)
    if error:
        print(f"error: crawl failed: {error}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
