"""Failure alerts against a real local webhook endpoint and a real (minimal) SMTP server."""

from __future__ import annotations

import json
import logging
import socketserver
from collections.abc import Iterator

import pytest

from pipeline.notify import Alert, notify
from pipeline.settings import Settings
from tests.loopback import serving
from tests.webhook import serve_webhook


@pytest.fixture
def webhook() -> Iterator[tuple[str, list[bytes]]]:
    with serve_webhook(204) as endpoint:
        yield endpoint


def smtp_handler(messages: list[str]) -> type[socketserver.StreamRequestHandler]:
    """Just enough SMTP (RFC 5321) for smtplib to hand over messages, kept in ``messages``."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.wfile.write(b"220 test ESMTP\r\n")
            while line := self.rfile.readline():
                command = line.decode().strip().upper()
                if command.startswith(("EHLO", "HELO")):
                    self.wfile.write(b"250 test\r\n")
                elif command == "DATA":
                    self.wfile.write(b"354 go ahead\r\n")
                    body = []
                    while (data := self.rfile.readline()) not in (b".\r\n", b""):
                        body.append(data.decode())
                    messages.append("".join(body))
                    self.wfile.write(b"250 queued\r\n")
                elif command == "QUIT":
                    self.wfile.write(b"221 bye\r\n")
                    return
                else:
                    self.wfile.write(b"250 ok\r\n")

    return Handler


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, list[str]]]:
    messages: list[str] = []
    with serving(smtp_handler(messages)) as port:
        yield port, messages


ALERT = Alert(
    title="news_ingest__alpha failed",
    message="quality gate failed for alpha: extraction yield 0%",
    source="alpha",
    run_id="alpha__scheduled__x",
    dag_id="news_ingest__alpha",
    task_id="check",
)


def test_log_only_by_default(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="newsflow.alerts"):
        assert notify(ALERT, Settings()) == ["log"]
    assert "extraction yield 0%" in caplog.text


def test_webhook_and_email_are_delivered(
    webhook: tuple[str, list[bytes]], smtp_server: tuple[int, list[str]]
) -> None:
    url, received = webhook
    port, messages = smtp_server
    settings = Settings(
        alert_webhook_url=url, smtp_host="127.0.0.1", smtp_port=port, alert_email_to="ops@example.org"
    )
    assert notify(ALERT, settings) == ["log", "webhook", "email"]
    payload = json.loads(received[0])
    assert payload["source"] == "alpha" and payload["task_id"] == "check"
    assert payload["text"].startswith("news_ingest__alpha failed: quality gate failed")
    assert "Subject: [newsflow] news_ingest__alpha failed" in messages[0]
    assert "run_id: alpha__scheduled__x" in messages[0]


def test_unreachable_channels_do_not_raise(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as probe:  # a free port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings = Settings(
        alert_webhook_url=f"http://127.0.0.1:{port}/",
        smtp_host="127.0.0.1",
        smtp_port=port,
        alert_email_to="x@y",
    )
    with caplog.at_level(logging.WARNING, logger="newsflow.alerts"):
        assert notify(ALERT, settings) == ["log"]
    assert "alert webhook" in caplog.text and "alert e-mail" in caplog.text


def test_smtp_provider_notifier_mails_run_task_try_log_url_and_reason(
    smtp_server: tuple[int, list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The DAGs' e-mail channel: the SMTP provider's notifier over a connection from settings."""
    import base64
    import email
    from types import SimpleNamespace

    from airflow.sdk import DAG

    from pipeline.notifiers import email_notifiers, smtp_connection_from_settings
    from pipeline.settings import reset_settings_cache

    port, messages = smtp_server
    monkeypatch.setenv("NEWSFLOW_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("NEWSFLOW_SMTP_PORT", str(port))
    monkeypatch.setenv("NEWSFLOW_ALERT_EMAIL_TO", "ops@example.org")
    monkeypatch.setenv("AIRFLOW_CONN_NEWSFLOW_SMTP", "")  # restored (removed) after the test
    reset_settings_cache()
    smtp_connection_from_settings()
    [notifier] = email_notifiers()
    ti = SimpleNamespace(
        task_id="check", try_number=2, map_index=-1, log_url="http://127.0.0.1:8080/log/check"
    )
    dag = DAG("news_ingest__alpha", schedule=None)
    notifier({"ti": ti, "dag": dag, "run_id": "manual__1", "exception": RuntimeError("quality gate failed")})
    reset_settings_cache()
    message = email.message_from_string(messages[0])
    assert message["Subject"] == "[newsflow] news_ingest__alpha.check failed (try 2)"
    [part] = message.get_payload()
    body = base64.b64decode(part.get_payload()).decode()
    assert "quality gate failed" in body and "manual__1" in body and "http://127.0.0.1:8080/log/check" in body
