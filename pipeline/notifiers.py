"""Failure alerts the Airflow way: notifier classes in every task's ``on_failure_callback``.

Airflow runs a task's failure callbacks with the task context; a notifier turns that context
into an :class:`~pipeline.notify.Alert` that carries what an operator needs to act — DAG, DAG
run, task, try number, the link to the task's log, the reason (a failed gate's short message)
and the time — and sends it on its channel:

- :class:`WebhookNotifier` posts it as JSON to ``NEWSFLOW_ALERT_WEBHOOK_URL`` (chat tools:
  Slack/Mattermost/Teams incoming webhooks read the ``text`` field);
- e-mail goes through the SMTP provider's ``SmtpNotifier`` when ``NEWSFLOW_ALERT_EMAIL_TO`` is
  set, over the Airflow connection ``NEWSFLOW_SMTP_CONN_ID`` (default ``newsflow_smtp``). Ops
  define it like any Airflow connection, or keep the ``NEWSFLOW_SMTP_*`` settings: then
  :func:`smtp_connection_from_settings` provides it to the task process.

A channel that cannot be reached is logged and skipped: alerting never turns one failure
into two.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from airflow.sdk import BaseNotifier
from airflow.sdk.exceptions import AirflowFailException

from pipeline import clock
from pipeline.dag_groups import GROUP_PREFIX
from pipeline.dagkit import source_of
from pipeline.jsonout import iso_z
from pipeline.notify import Alert, redacted, try_webhook
from pipeline.redact import redact, settings_secrets

#: ``[source]`` after the task: the mapped task instance's rendered map index (a group DAG's
#: tasks render the source key there), absent for unmapped tasks.
_WHERE = (
    "{{ dag.dag_id }}.{{ ti.task_id }}"
    "{% if ti.rendered_map_index is defined and ti.rendered_map_index %}[{{ ti.rendered_map_index }}]{% endif %}"
)
EMAIL_SUBJECT = "[newsflow] " + _WHERE + " failed (try {{ ti.try_number }})"
EMAIL_BODY = (
    """\
<p><b>"""
    + _WHERE
    + """</b> failed (try {{ ti.try_number }}).</p>
<p>{{ exception | e }}</p>
<ul>
<li>DAG run: {{ run_id }}</li>
<li>Log: <a href="{{ ti.log_url }}">{{ ti.log_url }}</a></li>
</ul>
"""
)


def alert_from_context(context: Mapping[str, Any]) -> Alert:
    """The alert of a failed task: where (DAG, run, task, try), why, and the log's URL."""
    ti = context.get("ti") or context.get("task_instance")
    dag_id = getattr(context.get("dag"), "dag_id", None) or getattr(ti, "dag_id", None)
    task_id = getattr(ti, "task_id", None)
    dag_run = context.get("dag_run")
    airflow_run = getattr(dag_run, "run_id", None) or context.get("run_id")
    exception = context.get("exception")
    reason = "task failed"
    if exception is not None:
        # AirflowFailException carries our own short message (a failed gate): no type prefix.
        own = isinstance(exception, AirflowFailException)
        reason = redact(str(exception) if own else f"{type(exception).__name__}: {exception}")
    # The DAG id names the source of a per-source DAG; a group DAG's task instance names its own.
    source = source_of(context) if dag_id and dag_id.startswith(("news_ingest__", GROUP_PREFIX)) else None
    where = f"{dag_id}.{task_id}"
    if source and dag_id and dag_id.startswith(GROUP_PREFIX):
        where = f"{dag_id}.{task_id}[{source}]"
    try:
        log_url: str | None = str(ti.log_url) if ti is not None else None
    except Exception:  # a context without a full task instance (tests, dag-level callbacks)
        log_url = None
    return Alert(
        title=f"{where} failed",
        message=reason,
        source=source,
        run_id=str(airflow_run) if airflow_run else None,
        dag_id=dag_id,
        task_id=task_id,
        details={
            "try_number": getattr(ti, "try_number", None),
            "map_index": getattr(ti, "map_index", None),
            "log_url": log_url,
            "exception_type": type(exception).__name__ if exception else None,
            "time": iso_z(clock.now().replace(microsecond=0)),
        },
    )


class WebhookNotifier(BaseNotifier):
    """POST the alert as JSON to a chat tool's incoming webhook (``text`` + the fields)."""

    template_fields = ("url",)

    def __init__(self, url: str | None = None) -> None:
        super().__init__()
        self.url = url

    def notify(self, context: Any) -> None:
        from pipeline.settings import get_settings

        settings = get_settings()
        url = self.url or settings.alert_webhook_url
        if not url:
            return
        secrets = settings_secrets(settings)
        try_webhook(url, redacted(alert_from_context(context), secrets), secrets)


DEFAULT_SMTP_CONN_ID = "newsflow_smtp"


def smtp_conn_id() -> str:
    return os.environ.get("NEWSFLOW_SMTP_CONN_ID") or DEFAULT_SMTP_CONN_ID


def smtp_connection_from_settings() -> None:
    """Provide the SMTP connection from ``NEWSFLOW_SMTP_*`` unless ops defined one.

    Airflow resolves ``AIRFLOW_CONN_<ID>`` variables before its metadata database, so this
    only fills the gap for deployments configured with the newsflow settings (compose).
    """
    import json

    from pipeline.settings import get_settings

    variable = f"AIRFLOW_CONN_{smtp_conn_id().upper()}"
    settings = get_settings()
    if os.environ.get(variable) or not settings.smtp_host:
        return
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    os.environ[variable] = json.dumps(
        {
            "conn_type": "smtp",
            "host": settings.smtp_host,
            "port": settings.smtp_port,
            "login": settings.smtp_user,
            "password": password,
            # The settings never asked for TLS: plain SMTP, as the own sender spoke it.
            "extra": {"from_email": settings.smtp_from, "disable_ssl": True, "disable_tls": True},
        }
    )


def email_notifiers() -> list[Any]:
    """The SMTP provider's notifier when ``NEWSFLOW_ALERT_EMAIL_TO`` is set (read at parse time)."""
    to = os.environ.get("NEWSFLOW_ALERT_EMAIL_TO")
    if not to:
        return []
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    return [
        SmtpNotifier(
            to=to,
            from_email=os.environ.get("NEWSFLOW_SMTP_FROM") or None,
            subject=EMAIL_SUBJECT,
            html_content=EMAIL_BODY,
            smtp_conn_id=smtp_conn_id(),
        )
    ]


def failure_notifiers() -> list[Any]:
    """Every notifier of a newsflow task's ``on_failure_callback`` (after the run bookkeeping)."""
    return [WebhookNotifier(), *email_notifiers()]
