"""Serve an HTTP handler on 127.0.0.1 with an OS-chosen port, for the duration of a ``with``.

Every local test server (the mini site, the fence's two services, the gazette, webhooks)
starts this way: loopback only, a daemon thread, shut down and closed on exit.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # crawlers hang up on slow and oversized pages on purpose


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[int]:
    """The port ``handler`` answers on while the ``with`` block runs."""
    server = QuietServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
