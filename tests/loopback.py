"""Serve a handler on 127.0.0.1 with an OS-chosen port, for the duration of a ``with``.

Every local test server (the mini site, the fence's two services, the gazette, webhooks, the
SMTP sink) starts this way: loopback only, a daemon thread, shut down and closed on exit.
"""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from typing import Any


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # crawlers hang up on slow and oversized pages on purpose


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
