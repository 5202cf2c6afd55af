"""Fault rows: configured secrets never reach a command line, a log, status output or an alert.

Each row configures real secrets (a database password, a webhook token, an SMTP password)
and then looks where they used to leak: the crawler subprocess's ``/proc/<pid>/cmdline``,
the log line of a failed webhook (a loopback server answering 500), ``newsflow status`` and
the CLI's error line.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import pytest
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from pipeline.db import migrate
from pipeline.redact import RedactingFilter, redact
from pipeline.settings import reset_settings_cache
from tests.conftest import create_pg_database, drop_pg_database
from tests.minisite import MiniSite, serve
from tests.webhook import serve_webhook

DB_PASSWORD = "Pg-S3cret-Pa55word"
WEBHOOK_TOKEN = "XoXoTok3nS3cretValue"
SMTP_PASSWORD = "Smtp-S3cret-Pa55"
SECRETS = (DB_PASSWORD, WEBHOOK_TOKEN, SMTP_PASSWORD)


def leaked(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret in text]


@pytest.fixture
def failing_webhook() -> Iterator[tuple[str, list[bytes]]]:
    """A loopback webhook endpoint that answers every POST with HTTP 500."""
    with serve_webhook(500, f"/services/T0001/B0002/{WEBHOOK_TOKEN}") as endpoint:
        yield endpoint


@pytest.mark.parametrize(
    "text",
    [
        f"postgresql+psycopg://news:{DB_PASSWORD}@db.internal:5432/news",  # credential-fixture
        f"https://hooks.slack.com/services/T0001/B0002/{WEBHOOK_TOKEN}",
        f"https://cdn.example.org/a.js?sig={WEBHOOK_TOKEN}&x=1",
        f"host=db user=news password={DB_PASSWORD} dbname=news",
        f"smtp login failed: (535, b'auth') password: {SMTP_PASSWORD}",
    ],
)
def test_redact_hides_credentials_in_free_text(text: str) -> None:
    shown = redact(f"error: {text} (retrying)")
    assert not leaked(shown), shown
    assert "***" in shown and shown.startswith("error: ") and shown.endswith("(retrying)")


def test_crawler_command_line_carries_no_database_password(tmp_path: Path) -> None:
    """The crawl stage hands the database URL to ``crawlers.run`` by environment, never argv."""
    from pipeline.stages.crawl import crawl

    admin = create_pg_database("nf_secret")
    url = make_url(admin).set(password=DB_PASSWORD).render_as_string(hide_password=False)  # trust auth
    seen: list[list[str]] = []
    done = threading.Event()

    def watch() -> None:  # what `ps` shows: every descendant's command line, polled
        me = psutil.Process()
        while not done.is_set():
            for child in me.children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    seen.append(child.cmdline())
            time.sleep(0.01)

    watcher = threading.Thread(target=watch, daemon=True)
    try:
        migrate.upgrade(url)
        for site in serve(MiniSite()):
            site.add("one-story", datetime.now(UTC) - timedelta(hours=1))
            sources = site.sources_yaml(tmp_path / "sources.yaml")
            watcher.start()
            result = crawl("mini", "secret-run", sources_path=sources, database_url=url)
            done.set()
            watcher.join()
        assert result.status == "succeeded" and result.pages_fetched >= 1, result  # the URL got there
        crawlers = [cmd for cmd in seen if "crawlers.run" in cmd]
        assert crawlers, "the crawler subprocess was never seen"
        assert not [cmd for cmd in seen if DB_PASSWORD in " ".join(cmd)]
        assert not any("--database-url" in cmd for cmd in crawlers)
    finally:
        done.set()
        drop_pg_database(admin)


def test_failed_alert_logs_no_webhook_token_nor_exception_secrets(
    failing_webhook: tuple[str, list[bytes]],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A task failure whose exception names the database URL, alerted to a webhook that fails."""
    from pipeline.dagkit import default_args

    hook, received = failing_webhook
    monkeypatch.setenv(
        "NEWSFLOW_DATABASE_URL",
        f"postgresql+psycopg://news:{DB_PASSWORD}@127.0.0.1:1/news",  # credential-fixture
    )
    monkeypatch.setenv("NEWSFLOW_ALERT_WEBHOOK_URL", hook)
    monkeypatch.setenv("NEWSFLOW_SMTP_PASSWORD", SMTP_PASSWORD)
    reset_settings_cache()
    error = RuntimeError(
        f"cannot connect to postgresql://news:{DB_PASSWORD}@127.0.0.1:1/news (smtp pass {SMTP_PASSWORD})"  # credential-fixture
    )
    with caplog.at_level(logging.WARNING, logger="newsflow.alerts"):
        for callback in default_args("newsflow")["on_failure_callback"]:  # bookkeeping, then notifiers
            callback({"exception": error, "dag": None, "ti": None})
    # Importing the notifiers imports Airflow, whose logging may take over from caplog's.
    logged = caplog.text + capsys.readouterr().out
    assert received, "the webhook was not even tried"
    assert "alert webhook http://127.0.0.1:" in logged and "failed" in logged
    assert not leaked(logged), logged
    assert not leaked(b"".join(received).decode()), "the alert body carries a secret"


def test_log_filter_redacts_arguments_and_tracebacks() -> None:
    """What :func:`install_log_redaction` puts on handlers: ``%s`` args and tracebacks included."""
    record = logging.LogRecord(
        "x",
        logging.ERROR,
        __file__,
        1,
        "connect %s",
        (f"sqlite://u:{DB_PASSWORD}@h/x",),  # credential-fixture
        None,
    )
    try:
        raise ValueError(f"token={WEBHOOK_TOKEN}")
    except ValueError:
        import sys

        record.exc_info = sys.exc_info()
    assert RedactingFilter().filter(record)
    shown = logging.Formatter().format(record)
    assert "connect sqlite://u:***@h/x" in shown and "ValueError: token=***" in shown
    assert not leaked(shown)


def test_status_and_cli_errors_show_no_configured_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pipeline.cli import app
    from pipeline.config import parse_sources
    from pipeline.db.engine import make_engine, session_scope
    from pipeline.runs import start_run, sync_source
    from pipeline.stages.check import fail_run

    db = f"sqlite:///{tmp_path}/news.db"
    monkeypatch.setenv("NEWSFLOW_DATABASE_URL", db)
    monkeypatch.setenv("NEWSFLOW_ALERT_WEBHOOK_URL", f"http://127.0.0.1:9/custom/{WEBHOOK_TOKEN}")
    reset_settings_cache()
    migrate.upgrade(db)
    source = parse_sources("sources:\n  - key: one\n    name: One\n    homepage: http://127.0.0.1:9/\n").get(
        "one"
    )
    engine = make_engine(db)
    with session_scope(engine) as session:
        start_run(session, sync_source(session, source), "r1")
    fail_run(
        "r1",
        f"load: OperationalError to postgresql://news:{DB_PASSWORD}@db/news; hook {WEBHOOK_TOKEN}",  # credential-fixture
    )
    engine.dispose()
    runner = CliRunner()
    for args in (["status", "--json"], ["status"]):
        out = runner.invoke(app, args)
        assert out.exit_code == 0, out.output
        assert not leaked(out.output), out.output
    shown = runner.invoke(app, ["status", "--json"]).output
    assert "postgresql://news:***@db/news" in shown


def test_crawl_xcom_and_task_error_carry_no_database_password() -> None:
    """The crawl task's XCom value and its exception are the run's error, redacted."""
    from pipeline.stages.crawl import CrawlFailed, CrawlResult

    error = f"cannot record fetches: OperationalError: postgresql://news:{DB_PASSWORD}@db:5432/news"  # credential-fixture
    result = CrawlResult("r1", 0, 0, 0, {}, "failed", error)
    assert DB_PASSWORD not in json.dumps(result.as_dict())
    with pytest.raises(CrawlFailed) as failure:
        result.raise_for_status()
    assert DB_PASSWORD not in str(failure.value) and "cannot record fetches" in str(failure.value)


def test_airflow_tasks_register_configured_secrets_with_airflows_masker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What Airflow itself logs for a task (a traceback it caught) is masked too."""
    from airflow.sdk.log import _secrets_masker

    from pipeline.dagkit import prepare_task_environment

    monkeypatch.setenv(
        "NEWSFLOW_DATABASE_URL",
        f"postgresql+psycopg://news:{DB_PASSWORD}@127.0.0.1:1/news",  # credential-fixture
    )
    prepare_task_environment()
    masked = _secrets_masker().redact(f"OperationalError: could not connect with {DB_PASSWORD}")
    assert DB_PASSWORD not in str(masked)
