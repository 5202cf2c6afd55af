"""HTTP plumbing: one threaded stdlib server per outlet, conditional GET, delays, streaming.

The stdlib server is enough for a local test bed and keeps the demo free of extra
dependencies; each outlet gets its own origin (port), as separate sites do on the web.
"""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pipeline.demo_site.site import OutletSite, Response


class RequestLog:
    """Every request the network answered (thread-safe), for tests that check crawl manners.

    An entry is added when the answer goes out, so a slow page's entry lands seconds after
    its request (even after the crawler gave up on it); :meth:`arrivals` counts requests when
    they come in, for tests that must know no request was *made* during some step.
    """

    def __init__(self, limit: int = 200_000) -> None:
        self._lock = threading.Lock()
        self._entries: list[tuple[str, str, str, int]] = []
        self._limit = limit
        self._arrivals = 0

    def arrive(self) -> None:
        with self._lock:
            self._arrivals += 1

    def arrivals(self) -> int:
        """Requests received so far, answered or not."""
        with self._lock:
            return self._arrivals

    def add(self, outlet: str, method: str, target: str, status: int) -> None:
        with self._lock:
            if len(self._entries) < self._limit:
                self._entries.append((outlet, method, target, status))

    def entries(self) -> list[tuple[str, str, str, int]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def etag_for(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:24] + '"'


def not_modified(headers: Any, etag: str | None, last_modified: datetime | None) -> bool:
    """RFC 9110 §13.2.2: If-None-Match wins; If-Modified-Since is used only without it."""
    inm = headers.get("If-None-Match")
    if inm is not None and etag is not None:
        tags = [t.strip().removeprefix("W/") for t in inm.split(",")]
        return "*" in tags or etag in tags
    ims = headers.get("If-Modified-Since")
    if ims and last_modified is not None:
        try:
            since = parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return False
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return last_modified.replace(microsecond=0) <= since
    return False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site: OutletSite, log: RequestLog, stop: threading.Event):
        self.site = site
        self.log = log
        self.stop_event = stop
        super().__init__(address, _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        # Crawlers hang up on purpose (timeouts, oversized bodies); that is not a server error.
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    server_version = "newsflow-demo/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr access logs
        return

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def _respond(self, *, head: bool) -> None:
        site = self.server.site
        self.server.log.arrive()
        try:
            response = site.handle(self.path)
        except Exception:  # a bug in the demo must look like a 500, not a dropped connection
            response = Response(500, body=b"<h1>500 Internal Server Error</h1>")
        if response.delay and self.server.stop_event.wait(response.delay):
            return
        status, etag = response.status, None
        headers = list(response.headers)
        if response.status == 200 and response.stream is None:
            etag = etag_for(response.body)
        if response.status == 200 and response.last_modified is not None:
            headers.append(
                ("Last-Modified", format_datetime(response.last_modified.astimezone(UTC), usegmt=True))
            )
        if etag:
            headers.append(("ETag", etag))
        if response.status == 200 and not_modified(self.headers, etag, response.last_modified):
            status = 304
        self.server.log.add(site.spec.key, self.command, self.path, status)
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status == 304:
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        length = response.length if response.stream is not None else len(response.body)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(length))
        self.send_header("Cache-Control", "max-age=60")
        self.end_headers()
        if head:
            return
        try:
            if response.stream is not None:
                for chunk in response.stream():
                    self.wfile.write(chunk)
            else:
                self.wfile.write(response.body)
        except (BrokenPipeError, ConnectionResetError):  # a client that gave up (size limit)
            self.close_connection = True


def make_server(host: str, port: int, site: OutletSite, log: RequestLog, stop: threading.Event) -> _Server:
    return _Server((host, port), site, log, stop)
