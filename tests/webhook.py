"""A loopback webhook endpoint for alert tests: records every POST body, answers one status."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.loopback import serving


@contextmanager
def serve_webhook(status: int, path: str = "/hook") -> Iterator[tuple[str, list[bytes]]]:
    """``(url, bodies)``: the endpoint's URL on 127.0.0.1 (OS-chosen port) and the bodies it got."""
    received: list[bytes] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(status)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    with serving(Handler) as port:
        yield f"http://127.0.0.1:{port}{path}", received
