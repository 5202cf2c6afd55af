"""The crawler log relay, task summary lines, gate messages, staleness and alert contents.

The relay is fed lines formatted by Scrapy's own ``LOG_FORMAT``/``LOG_DATEFORMAT`` and its
stats dump (``pprint.pformat`` of the stats, as ``StatsCollector`` logs it), so a change in
either shows up here; the end-to-end proof on a real crawl is ``tests/test_airflow_ops.py``.
"""

from __future__ import annotations

import json
import logging
import pprint
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from scrapy.settings import default_settings

from pipeline.crawl_log import CrawlLogRelay, parse_stats, stats_summary
from pipeline.db.engine import get_engine, session_scope
from pipeline.db.models import CrawlRun
from pipeline.runs import sync_source
from pipeline.task_summary import gate_message, log_summary, short_reason
from tests.webhook import serve_webhook

STATS = {
    "downloader/request_count": 12,
    "downloader/response_count": 11,
    "downloader/response_status_count/200": 9,
    "downloader/response_status_count/304": 2,
    "downloader/exception_count": 1,
    "elapsed_time_seconds": 3.2716,
    "finish_reason": "finished",
    "finish_time": datetime(2026, 12, 7, 2, 0, tzinfo=UTC),
    "item_scraped_count": 8,
    "log_count/INFO": 10,
    "response_received_count": 11,
    "retry/count": 1,
}


def scrapy_lines(name: str, level: int, message: str) -> list[str]:
    """``message`` as Scrapy's log handler writes it to stderr."""
    formatter = logging.Formatter(default_settings.LOG_FORMAT, default_settings.LOG_DATEFORMAT)
    record = logging.LogRecord(name, level, __file__, 1, message, None, None)
    return [line + "\n" for line in formatter.format(record).splitlines()]


def relay_records(lines: list[str], caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    with caplog.at_level(logging.DEBUG, logger="crawler"):
        CrawlLogRelay().relay(lines)
    return [r for r in caplog.records if r.name.startswith("crawler.")]


def test_scrapy_records_keep_their_level_and_the_stats_become_one_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lines = [
        *scrapy_lines("scrapy.core.engine", logging.INFO, "Spider opened"),
        *scrapy_lines(
            "scrapy.middleware", logging.INFO, "Enabled extensions:\n" + pprint.pformat(["a.B", "c.D"])
        ),
        *scrapy_lines("scrapy.core.scraper", logging.WARNING, "Dropped: duplicate"),
        *scrapy_lines(
            "scrapy.core.scraper", logging.ERROR, "Spider error\nTraceback (most recent call last):\n  x"
        ),
        *scrapy_lines(
            "scrapy.statscollectors", logging.INFO, "Dumping Scrapy stats:\n" + pprint.pformat(STATS)
        ),
    ]
    records = relay_records(lines, caplog)
    assert [(r.name, r.levelno) for r in records] == [
        ("crawler.scrapy.core.engine", logging.INFO),
        ("crawler.scrapy.middleware", logging.INFO),
        ("crawler.scrapy.core.scraper", logging.WARNING),
        ("crawler.scrapy.core.scraper", logging.ERROR),
        ("crawler.scrapy.statscollectors", logging.INFO),
    ]
    assert records[1].getMessage() == "Enabled extensions: ['a.B', 'c.D']"
    assert records[3].getMessage().count("\n") == 2  # a traceback keeps its lines
    stats = records[4].getMessage()
    assert stats == (
        "Scrapy stats: 12 requests, 11 responses (200: 9, 304: 2), 8 items, 1 retries, "
        "1 download exceptions, 0 errors logged, 11 received, 3.3 s, finish reason finished"
    )


def test_stray_stderr_lines_are_warnings_and_runner_errors_errors(caplog: pytest.LogCaptureFixture) -> None:
    records = relay_records(["some library printed this\n", "error: crawl failed: boom\n"], caplog)
    assert [(r.getMessage(), r.levelno) for r in records] == [
        ("some library printed this", logging.WARNING),
        ("error: crawl failed: boom", logging.ERROR),
    ]


def test_stats_parser_reads_pprint_output() -> None:
    stats = parse_stats(pprint.pformat(STATS).splitlines())
    assert stats["downloader/request_count"] == "12" and stats["finish_reason"] == "'finished'"
    assert "finish reason ?" in stats_summary({})


def test_summary_lines_name_counts_categories_and_seconds(caplog: pytest.LogCaptureFixture) -> None:
    crawl = {
        "run_id": "r1",
        "status": "succeeded",
        "pages_fetched": 40,
        "pages_unchanged": 5,
        "pages_failed": 3,
        "errors_by_category": {"http_404": 1, "timeout": 2},
    }
    load = {"run_id": "r1", "new": 7, "updated": 2, "unchanged": 30, "removed": 1, "rejected": 0}
    with caplog.at_level(logging.INFO, logger="newsflow.task"):
        crawl_line = log_summary("crawl", crawl, 12.34)
        load_line = log_summary("load", load, 1.0)
        other = log_summary("staleness", {"stale": 0, "sources": []}, 0.5)
    assert crawl_line == (
        "summary: crawl r1: succeeded, 40 pages fetched, 5 unchanged, 3 failed "
        "(by category: timeout 2, http_404 1), 12.3 s"
    )
    assert "articles 7 new, 2 updated, 30 unchanged, 1 removed" in load_line
    assert other == "summary: staleness: stale 0, 0.5 s"
    assert caplog.text.count("summary: ") == 3


def test_gate_message_is_short_and_keeps_each_reason() -> None:
    pages = " - pages: " + "; ".join(f"http://x/{i} (empty)" for i in range(50))
    failures = [
        "extraction yield 10% (1 of 10 article pages gave an article) is below min_extraction_yield 60%"
        + pages,
        "x" * 500,
    ]
    message = gate_message("alpha", failures)
    assert message.startswith("quality gate failed for alpha: extraction yield 10%")
    assert "http://x/" not in message and len(message) < 450 and "\n" not in message
    assert short_reason("y " * 250).endswith("…") and len(short_reason("y " * 250)) <= 160
    cause = "lost articles 5 (article pages that gave no article) is above max_lost_articles 0"
    assert short_reason(cause + " - " + "pages without body text: " * 10) == cause


def _runs(url: str, key: str, finished: list[datetime]) -> None:
    from pipeline.config import load_sources

    source = load_sources().get(key)
    with session_scope(get_engine(url)) as session:
        row = sync_source(session, source)
        for i, when in enumerate(finished):
            session.add(
                CrawlRun(
                    run_id=f"{key}__{i}",
                    source_id=row.id,
                    started_at=when - timedelta(minutes=5),
                    finished_at=when,
                    status="success",
                    articles_new=2,
                )
            )


def test_a_source_quiet_for_three_usual_gaps_is_stale(
    db_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.settings import reset_settings_cache
    from pipeline.stages.staleness import stale_sources

    sources = tmp_path / "sources.yaml"
    sources.write_text(
        "version: 1\nsources:\n"
        "  - {key: hourly, name: Hourly, homepage: 'http://127.0.0.1:9/'}\n"
        "  - {key: young, name: Young, homepage: 'http://127.0.0.1:9/'}\n"
    )
    monkeypatch.setenv("NEWSFLOW_SOURCES", str(sources))
    reset_settings_cache()
    now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    _runs(db_env, "hourly", [now - timedelta(hours=h) for h in (4, 6, 8, 10, 12)])  # usual gap 2 h
    _runs(db_env, "young", [now - timedelta(hours=30)])  # too little history to judge
    assert stale_sources(now=now - timedelta(hours=2)) == []  # quiet 2 h: below 6 h minimum
    stale = stale_sources(now=now + timedelta(hours=3))  # quiet 7 h > 3 x 2 h and > 6 h
    assert [(s.source, round(s.usual_gap_hours), round(s.quiet_hours)) for s in stale] == [("hourly", 2, 7)]
    assert "hourly: nothing new for 7.0 h (usual gap 2.0 h" in str(stale[0])
    assert stale[0].as_dict()["last_new"] == "2026-12-07T08:00:00Z"  # the task's XCom: JSON time


def test_webhook_notifier_carries_dag_run_task_try_log_url_and_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline.notifiers import WebhookNotifier

    ti = SimpleNamespace(
        dag_id="news_ingest__alpha",
        task_id="check",
        try_number=2,
        map_index=-1,
        log_url="http://127.0.0.1:8080/dags/news_ingest__alpha/runs/manual__1/tasks/check?try_number=2",
    )

    context = {
        "ti": ti,
        "dag": SimpleNamespace(dag_id="news_ingest__alpha"),
        "dag_run": SimpleNamespace(run_id="manual__1"),
        "exception": AirflowFailException("quality gate failed for alpha: extraction yield 0%"),
    }
    monkeypatch.setenv("NEWSFLOW_NOW", "2026-12-07T02:00:00Z")  # the pipeline's clock, not the wall's
    with serve_webhook(204) as (url, received):
        WebhookNotifier(url).notify(context)
    payload = json.loads(received[0])
    assert (
        payload["text"]
        == "news_ingest__alpha.check failed: quality gate failed for alpha: extraction yield 0%"
    )
    assert payload["dag_id"] == "news_ingest__alpha" and payload["run_id"] == "manual__1"
    assert payload["task_id"] == "check" and payload["try_number"] == 2
    assert payload["log_url"] == ti.log_url and payload["source"] == "alpha"
    assert payload["time"] == "2026-12-07T02:00:00Z"
    # Any other exception is named by its type (a bug, not a gate's own message).
    with serve_webhook(204) as (url, received):
        WebhookNotifier(url).notify({**context, "exception": KeyError("fetch_id")})
    assert json.loads(received[0])["text"] == "news_ingest__alpha.check failed: KeyError: 'fetch_id'"


def test_crawler_stdout_lines_that_are_not_progress_are_logged_not_dropped(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The crawl stage reads JSON progress from the crawler's stdout; anything else printed
    there used to vanish. A real subprocess stands in for the crawler's output."""
    import os
    import sys

    from pipeline.stages.crawl import _run

    script = (
        "import json, sys\n"
        "print('a library printed this')\n"
        "print(json.dumps({'event': 'result', 'pages_fetched': 3}))\n"
        "print('boom', file=sys.stderr)\n"
    )
    with caplog.at_level(logging.INFO, logger="crawler"):
        code, result = _run([sys.executable, "-c", script], None, dict(os.environ))
    assert code == 0 and result == {"event": "result", "pages_fetched": 3}
    stray = [(r.name, r.levelno, r.getMessage()) for r in caplog.records if r.name == "crawler.run"]
    assert ("crawler.run", logging.WARNING, "a library printed this") in stray
    assert ("crawler.run", logging.WARNING, "boom") in stray
