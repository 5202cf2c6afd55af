"""One place that hides secrets from everything people and log collectors read.

Every log line, error message, status report and alert that may carry a database URL, a
webhook URL or an exception text goes through :func:`redact`. It hides, in free text:

- the password of any URL with userinfo (``postgresql://news:***@db/news``);
- query parameters whose name says secret (``token``, ``key``, ``secret``, ``password``,
  ``sig``, ``auth``, … : ``?token=***``) and ``password=…``-style pairs (libpq DSNs);
- the path of well-known webhook URLs (``hooks.slack.com/services/***``, Discord, Teams …);
- every secret this process was configured with (the database password, the webhook URL's
  path and query, the SMTP password), wherever it appears, even outside a URL.

It works on text, not on parsed objects, because the leaks it stops are texts: exception
messages from drivers and HTTP clients, f-strings, ``%s`` log arguments. :class:`RedactingFilter`
applies it to log records; :func:`install_log_redaction` puts that filter on the root
handlers of the CLI, the crawler subprocess and Airflow task processes.
"""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

if TYPE_CHECKING:
    from pipeline.settings import Settings

MASK = "***"

_USERINFO = re.compile(r"(?P<head>\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^:@/\s'\"]*):(?P<pw>[^@\s'\"]*)@")
#: Query-string parameters with a secret-sounding name (the name may be prefixed: X-Amz-Signature).
_QUERY = re.compile(
    r"(?P<head>[?&;][\w.\-]*?(?:token|key|secret|password|passwd|pwd|sig|signature|auth|credential|session)"
    r"[\w.\-]*=)(?P<value>[^&#\s'\"]+)",
    re.IGNORECASE,
)
#: ``password=…`` outside a query string (libpq DSNs, SMTP and driver messages).
_PAIR = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd|secret|token|api[_-]?key|access[_-]?token|client[_-]?secret)"
    r"\s*[=:]\s*)(?P<value>[^\s&,;'\"]+)",
    re.IGNORECASE,
)
#: Webhook services that put the credential in the path.
_WEBHOOK = re.compile(
    r"(?P<head>\b(?:https?://)?(?:hooks\.slack\.com/(?:services|workflows|triggers)/"
    r"|(?:[\w-]+\.)?discord(?:app)?\.com/api/webhooks/"
    r"|[\w.-]+\.webhook\.office\.com/webhookb2/"
    r"|[\w.-]+/(?:hooks?|webhooks?)/))(?P<value>[^\s'\"]+)",
    re.IGNORECASE,
)
#: Configured secrets shorter than this are not searched for in free text (too many false hits).
_MIN_SECRET = 4


def _secrets_of_url(url: str | None) -> set[str]:
    """The secret parts of a configured URL: its password, and for a webhook its path+query."""
    if not url:
        return set()
    found: set[str] = set()
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return {url}
    if password:
        found |= {password, unquote(password)}
    return found


def secrets_of_webhook(url: str | None) -> set[str]:
    if not url:
        return set()
    try:
        parts = urlsplit(url)
    except ValueError:
        return {url}
    found = _secrets_of_url(url)
    # The path+query and its parts alone (a driver or proxy may quote just those), when they
    # look like a token: long, or mixing in digits. Words such as ``services`` or a plain
    # ``/hook`` path are no secret, and masking them would garble every log line saying "webhook".
    tail = (parts.path + (f"?{parts.query}" if parts.query else "")).lstrip("/")
    pieces = [
        tail,
        *parts.path.split("/"),
        *(v for _, _, v in (p.partition("=") for p in parts.query.split("&"))),
    ]
    found |= {p for p in pieces if _token_like(p)}
    return found


def _token_like(text: str) -> bool:
    return len(text) >= 20 or (len(text) >= 8 and any(c.isdigit() for c in text))


@lru_cache(maxsize=8)
def _configured(database_url: str, webhook_url: str | None, smtp_password: str | None) -> tuple[str, ...]:
    found = _secrets_of_url(database_url) | secrets_of_webhook(webhook_url)
    if smtp_password:
        found.add(smtp_password)
    # Longest first, so a secret that contains another is hidden whole.
    return tuple(sorted((s for s in found if len(s) >= _MIN_SECRET), key=len, reverse=True))


def settings_secrets(settings: Settings) -> tuple[str, ...]:
    """The secrets in ``settings``: database password, webhook path/query, SMTP password."""
    smtp_password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    return _configured(settings.database_url, settings.alert_webhook_url, smtp_password)


def configured_secrets() -> tuple[str, ...]:
    """The secrets in this process's settings (read lazily: redaction must never fail)."""
    try:
        from pipeline.settings import get_settings

        return settings_secrets(get_settings())
    except Exception:  # invalid settings are reported elsewhere; redaction still works
        return ()


def redact(text: object, extra: tuple[str, ...] = ()) -> str:
    """``str(text)`` with every credential hidden (see the module docstring)."""
    result = str(text)
    for secret in (*extra, *configured_secrets()):
        if secret and secret in result:
            result = result.replace(secret, MASK)
    result = _USERINFO.sub(lambda m: f"{m['head']}:{MASK}@", result)
    result = _WEBHOOK.sub(lambda m: f"{m['head']}{MASK}", result)
    result = _QUERY.sub(lambda m: f"{m['head']}{MASK}", result)
    return _PAIR.sub(lambda m: f"{m['head']}{MASK}", result)


def redact_url(url: str | None) -> str:
    """A URL fit to show: password, secret query values and webhook tokens hidden."""
    if not url:
        return ""
    return redact(url)


class RedactingFilter(logging.Filter):
    """Formats a record's message once and redacts it (and its traceback text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a bad format string is the logging module's to report
            return True
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_FILTER = RedactingFilter()


def install_log_redaction(logger: logging.Logger | None = None) -> None:
    """Put :class:`RedactingFilter` on every handler of ``logger`` (default: the root logger).

    Handler filters see records from every logger that propagates to them, which is what
    makes this one call cover Scrapy, SQLAlchemy, Airflow and newsflow alike. Idempotent.
    """
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if _FILTER not in handler.filters:
            handler.addFilter(_FILTER)
