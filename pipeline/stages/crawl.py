"""The crawl stage: one source, one run, Scrapy in a subprocess.

Twisted's reactor cannot restart inside a process (and Airflow's ``dag.test()`` runs every
task in one process), so the crawl itself runs as ``python -m crawlers.run``. This function
prepares the ``crawl_runs`` row (re-running a run id resets its raw data), starts the
subprocess, relays its progress and its log (Scrapy's records at their own levels, see
:mod:`pipeline.crawl_log`: never as raw stderr, which an Airflow task logs as ERROR), and
returns the counters the subprocess wrote.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.errors import NewsflowError, UsageError
from pipeline.redact import redact

ProgressCallback = Callable[[dict[str, Any]], None]


class CrawlFailed(NewsflowError):
    """The run as a whole failed (not raised for individual bad pages)."""


@dataclass(frozen=True)
class CrawlResult:
    """What a crawl did; ``as_dict()`` is JSON-safe for Airflow XCom."""

    run_id: str
    pages_fetched: int
    pages_failed: int
    pages_unchanged: int
    errors_by_category: dict[str, int]
    status: str  # succeeded | failed
    error: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status != "failed"

    def as_dict(self) -> dict[str, Any]:
        """The XCom value: the error redacted, as every value that leaves the process."""
        data = asdict(self)
        data["error"] = redact(self.error) if self.error else None
        return data

    def raise_for_status(self) -> CrawlResult:
        """Raise :class:`CrawlFailed` when the run failed (Airflow tasks want an exception)."""
        if self.status == "failed":
            raise CrawlFailed(redact(f"crawl {self.run_id} failed: {self.error or 'see the crawl log'}"))
        return self


def crawler_command(
    source_key: str,
    run_id: str,
    *,
    sources_path: str | Path,
    max_pages: int | None = None,
    related_depth: int | None = None,
    recrawl: bool = False,
    backfill: bool = False,
    log_level: str = "INFO",
) -> list[str]:
    """The subprocess command line (also what ops can run by hand to debug a source).

    It carries no secret: every local user can read a command line (``ps``, ``/proc``), so
    the database URL and the raw store go by environment (:func:`crawler_environment`).
    """
    cmd = [
        sys.executable,
        "-m",
        "crawlers.run",
        "--source",
        source_key,
        "--run-id",
        run_id,
        "--sources",
        str(sources_path),
        "--progress",
        "--log-level",
        log_level,
    ]
    if max_pages is not None:
        cmd += ["--max-pages", str(max_pages)]
    if related_depth is not None:
        cmd += ["--related-depth", str(related_depth)]
    if recrawl:
        cmd.append("--recrawl")
    if backfill:
        cmd.append("--backfill")
    return cmd


def crawler_environment(database_url: str, raw_store: str) -> dict[str, str]:
    """The subprocess's environment: ours plus where to write (``NEWSFLOW_*``, read by settings).

    A process's environment is readable only by its owner (and root), unlike its argv.
    """
    return {**os.environ, "NEWSFLOW_DATABASE_URL": database_url, "NEWSFLOW_RAW_STORE": raw_store}


def crawl(
    source_key: str,
    run_id: str | None = None,
    *,
    max_pages: int | None = None,
    related_depth: int | None = None,
    recrawl: bool = False,
    backfill: bool = False,
    window: tuple[datetime | None, datetime | None] = (None, None),
    sources_path: str | Path | None = None,
    database_url: str | None = None,
    dry_run: bool = False,
    on_progress: ProgressCallback | None = None,
    log_level: str = "INFO",
) -> CrawlResult:
    """Crawl one source into the raw store and ``fetches``; see the module docstring.

    ``dry_run`` crawls and archives as usual but flags the run (``params.dry_run``) so that
    the pipeline stops after the crawl (the ingest DAG skips extract and load); since nothing
    of it gets stored as articles, later runs fetch its pages again. ``on_progress`` receives
    the subprocess's progress dicts (about once a second). The result's ``status`` is
    ``failed`` only when the run as a whole failed.

    ``backfill`` recovers the past ``window`` from dated feed/sitemap entries only (no
    listings, related links or revisits) and records in ``stats.crawl.backfill`` what it
    could and could not recover; it needs a window that ends in the past.
    """
    from pipeline.db.engine import get_engine, session_scope
    from pipeline.runs import new_run_id, start_run, sync_source
    from pipeline.settings import get_settings
    from pipeline.sourcecache import load_source

    settings = get_settings()
    path = Path(sources_path) if sources_path is not None else settings.sources
    try:
        source = load_source(source_key, path)  # this source only: not the whole file per task
    except KeyError as exc:
        raise UsageError(exc.args[0]) from exc
    from pipeline.limits import MAX_PAGES

    for name, value, low, high in (
        ("max_pages", max_pages, 1, MAX_PAGES),
        ("related_depth", related_depth, 0, 5),
    ):
        if value is not None and not low <= value <= high:
            raise UsageError(f"{name} must be between {low} and {high:,}")
    if backfill:
        from pipeline import clock

        if window[1] is None:
            raise UsageError("a backfill needs a window (window_end) to recover")
        if window[1] > clock.now():
            raise UsageError(f"a backfill window must lie in the past (it ends at {window[1].isoformat()})")
    run_id = run_id or new_run_id(source_key)
    url = database_url or settings.database_url
    engine = get_engine(url)
    params = {
        "max_pages": max_pages,
        "related_depth": related_depth,
        "recrawl": recrawl,
        "dry_run": dry_run,
        "backfill": backfill,
    }
    with session_scope(engine) as session:
        row = sync_source(session, source)
        start_run(session, row, run_id, kind="crawl", window=window, params=params)
    cmd = crawler_command(
        source_key,
        run_id,
        sources_path=path.resolve(),
        max_pages=max_pages,
        related_depth=related_depth,
        recrawl=recrawl,
        backfill=backfill,
        log_level=log_level,
    )
    returncode, reported = _run(cmd, on_progress, crawler_environment(url, settings.raw_store))
    return _result(engine, run_id, returncode, reported)


def _run(
    cmd: list[str], on_progress: ProgressCallback | None, env: dict[str, str]
) -> tuple[int, dict[str, Any] | None]:
    """Run the crawler; stdout carries JSON progress lines, stderr (Scrapy's log) is relayed
    into our logging at Scrapy's levels by a thread (:mod:`pipeline.crawl_log`)."""
    from pipeline.crawl_log import CrawlLogRelay

    result: dict[str, Any] | None = None
    with subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1, env=env
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        relay = threading.Thread(
            target=CrawlLogRelay().relay, args=(proc.stderr,), name="crawl-log", daemon=True
        )
        relay.start()
        for line in proc.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                # Not a progress line: something in the crawler printed to stdout. Shown like
                # a stray stderr line (pipeline.crawl_log), never dropped unseen.
                if line.strip():
                    logging.getLogger("crawler.run").warning("%s", line.rstrip("\n"))
                continue
            if message.get("event") == "result":
                result = message
            elif message.get("event") == "progress" and on_progress is not None:
                on_progress(message)
        returncode = proc.wait()
        relay.join(timeout=30)
    return returncode, result


def _result(engine: Any, run_id: str, returncode: int, reported: dict[str, Any] | None) -> CrawlResult:
    from pipeline.db.engine import session_scope
    from pipeline.runs import get_run, utcnow

    with session_scope(engine) as session:
        run = get_run(session, run_id)
        if returncode != 0 and run.status != "failed":
            # The subprocess died before it could record a verdict (crash, kill, bad config).
            run.status = "failed"
            run.error = f"crawler process exited with code {returncode}"
            run.finished_at = utcnow()
        crawl_stats = dict((run.stats or {}).get("crawl", {}))
        failed = run.status == "failed" or returncode != 0
        return CrawlResult(
            run_id=run_id,
            pages_fetched=run.pages_fetched,
            pages_failed=run.pages_failed,
            pages_unchanged=run.pages_unchanged,
            errors_by_category={str(k): int(v) for k, v in (run.errors_by_category or {}).items()},
            status="failed" if failed else "succeeded",
            error=run.error if failed else None,
            stats=crawl_stats,
        )
