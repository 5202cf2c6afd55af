"""Failure categories of ``fetches.error_category``: one small vocabulary for ops and gates.

Categories: ``timeout``, ``too_large``, ``redirect_loop``, ``http_4xx``, ``http_5xx``,
``not_html``, ``blocked_network``, ``robots``, ``dns``, ``connection``, ``other``.
"""

from __future__ import annotations

from typing import Any

from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from twisted.internet import defer
from twisted.internet import error as tx_error
from twisted.web._newclient import ResponseFailed, ResponseNeverReceived

from crawlers.guard import BlockedNetwork
from crawlers.resolver import installed_resolver

CATEGORIES = (
    "timeout",
    "too_large",
    "redirect_loop",
    "http_4xx",
    "http_5xx",
    "not_html",
    "blocked_network",
    "robots",
    "dns",
    "connection",
    "other",
)


class RedirectLoop(IgnoreRequest):
    """A redirect leads back to a URL already visited in the same chain."""


class AlreadyClaimed(IgnoreRequest):
    """A redirect leads to a canonical URL this run fetches (or fetched) anyway."""


def category_for_status(status: int) -> str | None:
    if 400 <= status < 500:
        return "http_4xx"
    if status >= 500:
        return "http_5xx"
    return None


def _decompression_bomb(exc: BaseException, message: str) -> bool:
    """Scrapy's HttpCompressionMiddleware stops inflating a gzip/deflate/br/zstd body at
    ``DOWNLOAD_MAXSIZE`` and ignores the request (cause ``_DecompressionMaxSizeExceeded``)."""
    cause = type(exc.__cause__).__name__ if exc.__cause__ is not None else ""
    return cause == "_DecompressionMaxSizeExceeded" or "during decompression" in message


def categorize(exc: BaseException) -> tuple[str, str]:
    """The category and a one-line message for a download failure."""
    message = str(exc).strip() or type(exc).__name__
    checks: list[tuple[tuple[type[BaseException], ...], str]] = [
        ((BlockedNetwork,), "blocked_network"),
        ((RedirectLoop,), "redirect_loop"),
        ((DownloadTimeoutError, tx_error.TimeoutError, defer.TimeoutError), "timeout"),
        ((CannotResolveHostError, tx_error.DNSLookupError), "dns"),
        ((DownloadCancelledError, defer.CancelledError), "too_large"),
        (
            (
                DownloadConnectionRefusedError,
                DownloadFailedError,
                ResponseDataLossError,
                tx_error.ConnectError,
                tx_error.ConnectionLost,
                tx_error.ConnectionDone,
                ResponseFailed,
                ResponseNeverReceived,
            ),
            "connection",
        ),
    ]
    for types, category in checks:
        if isinstance(exc, types):
            if category == "too_large" and "size" not in message.lower():
                message = f"download cancelled (response larger than the size limit): {message}"
            return category, message
    if isinstance(exc, IgnoreRequest):
        if _decompression_bomb(exc, message):
            return "too_large", f"compressed response inflates past the size limit: {message}"
        if "robots.txt" in message:
            return "robots", message
        if "max redirections" in message:
            return "redirect_loop", f"{message} (redirect chain too long or looping)"
    return "other", f"{type(exc).__name__}: {message}"


def categorize_request(exc: BaseException, url: str) -> tuple[str, str]:
    """:func:`categorize`, knowing the URL: no address may mean the resolver refused it.

    The guarded resolver delivers no address for a forbidden answer, which Twisted reports
    as a DNS error; the resolver remembers the refusal, so it is reported as one.
    """
    category, message = categorize(exc)
    if category == "dns":
        resolver = installed_resolver()
        refused = resolver.refusal(url) if resolver is not None else None
        if refused:
            return "blocked_network", refused
    return category, message


def failure_exception(failure: Any) -> BaseException:
    """The exception inside a Twisted ``Failure`` (or the exception itself)."""
    value = getattr(failure, "value", failure)
    return value if isinstance(value, BaseException) else RuntimeError(str(value))
