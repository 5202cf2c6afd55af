"""Serve a handler on 127.0.0.1 with an OS-chosen port, for the duration of a ``with``.

Every local test server (the mini site, the fence's two services, the gazette, webhooks, the
SMTP sink) starts this way: loopback only, a daemon thread, shut down and closed on exit.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # crawlers hang up on slow and oversized pages on purpose


class PageHandler(BaseHTTPRequestHandler):
    """A quiet HTTP/1.1 handler with one way to answer: the base of the local test sites."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def send(self, status: int, body: bytes, ctype: str = "text/html; charset=utf-8", **extra: str) -> None:
        """Answer ``status`` with ``body``; ``extra`` headers by keyword (``Last_Modified``: "-" for "_")."""
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in extra.items():
            self.send_header(key.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def serving(handler: type[socketserver.BaseRequestHandler]) -> Iterator[int]:
    """The port ``handler`` (HTTP, or any stream protocol) answers on while the ``with`` block runs."""
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
