"""Failure alerts outside Airflow: always a log line, plus a webhook POST and/or an e-mail.

Inside Airflow the same :class:`Alert` travels through notifiers (:mod:`pipeline.notifiers`);
this module serves the CLI and anything else without a task context.

Alerting must never turn one failure into two, so a channel that cannot be reached is
logged and skipped; :func:`notify` returns which channels delivered so tests and callers
can tell. Channels come from settings (``NEWSFLOW_ALERT_WEBHOOK_URL``,
``NEWSFLOW_SMTP_HOST``/``_PORT``/``_FROM``, ``NEWSFLOW_ALERT_EMAIL_TO``).
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from dataclasses import asdict, dataclass, field, replace
from email.message import EmailMessage
from typing import Any

from pipeline.redact import redact, settings_secrets
from pipeline.settings import Settings, get_settings

log = logging.getLogger("newsflow.alerts")

TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class Alert:
    """What went wrong, where, and how to look at it."""

    title: str
    message: str
    source: str | None = None
    run_id: str | None = None
    dag_id: str | None = None
    task_id: str | None = None
    level: str = "error"
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def text(self) -> str:
        lines = [self.title, "", self.message, ""]
        for key in ("source", "run_id", "dag_id", "task_id"):
            value = getattr(self, key)
            if value:
                lines.append(f"{key}: {value}")
        return "\n".join(lines).rstrip() + "\n"


def post_webhook(url: str, alert: Alert) -> None:
    """POST the alert as JSON: ``text`` for chat tools, then every field (details flattened)."""
    payload = {"text": f"{alert.title}: {alert.message}", **alert.details, **alert.as_dict()}
    request = urllib.request.Request(
        url,
        data=json.dumps(payload, default=str).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
        if response.status >= 300:
            raise OSError(f"webhook answered HTTP {response.status}")


def redacted(alert: Alert, secrets: tuple[str, ...]) -> Alert:
    """``alert`` with secrets hidden from its title and message (exception texts carry URLs)."""
    return replace(alert, title=redact(alert.title, secrets), message=redact(alert.message, secrets))


def try_webhook(url: str, alert: Alert, secrets: tuple[str, ...]) -> bool:
    """:func:`post_webhook`; a hook that cannot be reached is logged (redacted), never raised."""
    try:
        post_webhook(url, alert)
    except Exception as exc:  # an unreachable hook must not hide the original failure
        log.warning("alert webhook %s failed: %s", redact(url, secrets), redact(exc, secrets))
        return False
    return True


def _send_email(settings: Settings, alert: Alert) -> None:
    assert settings.smtp_host is not None and settings.alert_email_to is not None
    message = EmailMessage()
    message["Subject"] = f"[newsflow] {alert.title}"
    message["From"] = settings.smtp_from
    message["To"] = settings.alert_email_to
    message.set_content(alert.text())
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS) as smtp:
        if settings.smtp_user and settings.smtp_password:
            smtp.login(settings.smtp_user, settings.smtp_password.get_secret_value())
        smtp.send_message(message)


def notify(alert: Alert, settings: Settings | None = None) -> list[str]:
    """Send ``alert`` on every configured channel; return the channels that delivered."""
    settings = settings or get_settings()
    # Exception texts in an alert may carry URLs with credentials: hide them from every channel.
    secrets = settings_secrets(settings)
    alert = redacted(alert, secrets)
    level = logging.WARNING if alert.level == "warning" else logging.ERROR
    log.log(level, "%s: %s", alert.title, alert.message, extra={"alert": alert.as_dict()})
    delivered = ["log"]
    if settings.alert_webhook_url and try_webhook(settings.alert_webhook_url, alert, secrets):
        delivered.append("webhook")
    if settings.smtp_host and settings.alert_email_to:
        try:
            _send_email(settings, alert)
            delivered.append("email")
        except Exception as exc:
            log.warning("alert e-mail via %s failed: %s", settings.smtp_host, redact(exc, secrets))
    return delivered
