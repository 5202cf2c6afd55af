"""HTTP for the living network: one threaded stdlib server per outlet, answering for the
simulated time, plus the ``/__clock`` endpoint any outlet answers.

The conditional-GET rules (ETag from the body, Last-Modified, If-None-Match before
If-Modified-Since) are the static demo's (``server.etag_for``/``server.not_modified``); this
handler differs only in asking the network for the time on every request and in reporting
article pages served by a broken CMS.
"""

from __future__ import annotations

import sys
import threading
from datetime import UTC
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from pipeline.demo_site.living.site import LivingSite, Served
from pipeline.demo_site.server import RequestLog, etag_for, not_modified
from pipeline.demo_site.site import Response
from pipeline.errors import UsageError

if TYPE_CHECKING:
    from pipeline.demo_site.living.network import LivingNetwork

CLOCK_PATH = "/__clock"


class LivingServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], site: LivingSite, network: LivingNetwork, log: RequestLog):
        self.site = site
        self.network = network
        self.log = log
        super().__init__(address, _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):  # clients hang up on purpose
            return
        super().handle_error(request, client_address)  # type: ignore[arg-type]


class _Handler(BaseHTTPRequestHandler):
    server: LivingServer
    protocol_version = "HTTP/1.1"
    server_version = "newsflow-living/1.0"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:
        return

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header tells the simulated time, like every other answer."""
        return format_datetime(self.server.network.now, usegmt=True)

    def do_GET(self) -> None:
        self._respond(head=False)

    def do_HEAD(self) -> None:
        self._respond(head=True)

    def _respond(self, *, head: bool) -> None:
        parts = urlsplit(self.path)
        if parts.path == CLOCK_PATH:
            self._clock(parse_qs(parts.query), head=head)
            return
        site, network = self.server.site, self.server.network
        self.server.log.arrive()
        now = network.now
        try:
            served = site.handle(parts.path or "/", now)
        except Exception:  # a bug in the demo must look like a 500, not a dropped connection
            served = Served(Response(500, body=b"<h1>500 Internal Server Error</h1>"))
        response = served.response
        status, headers, etag = response.status, list(response.headers), None
        if status == 200:
            etag = etag_for(response.body)
            headers.append(("ETag", etag))
            if response.last_modified is not None:
                stamp = format_datetime(response.last_modified.astimezone(UTC), usegmt=True)
                headers.append(("Last-Modified", stamp))
            if not_modified(self.headers, etag, response.last_modified):
                status = 304
        if served.broken_article is not None:
            network.record_broken(site.key, served.broken_article.url(network.base_url(site.key)), now)
        self.server.log.add(site.key, self.command, self.path, status)
        self._send(status, headers, response.content_type, b"" if status == 304 else response.body, head)

    def _clock(self, query: dict[str, list[str]], *, head: bool) -> None:
        network = self.server.network
        status = 200
        if query.get("now"):
            try:
                network.set_now_text(query["now"][0])
            except UsageError as exc:
                body = f"{exc}\n".encode()
                self._send(400, [], "text/plain; charset=utf-8", body, head)
                return
        body = (network.now.isoformat() + "\n").encode()
        self._send(status, [("Cache-Control", "no-store")], "text/plain; charset=utf-8", body, head)

    def _send(
        self, status: int, headers: list[tuple[str, str]], content_type: str, body: bytes, head: bool
    ) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if status != 304:
            self.send_header("Content-Type", content_type)
        if not any(name == "Cache-Control" for name, _ in headers):
            self.send_header("Cache-Control", "max-age=60")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if head or not body:
            return
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def make_server(host: str, site: LivingSite, network: LivingNetwork, log: RequestLog) -> LivingServer:
    return LivingServer((host, 0), site, network, log)


def serve_in_thread(server: LivingServer) -> threading.Thread:
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    return thread
