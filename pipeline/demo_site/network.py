"""``DemoNetwork``: start/stop the three outlets, switch editions, describe them.

The same object backs ``newsflow demo-site``, the ``demo_network`` pytest fixture and the
benchmarks, so what a developer clicks through is exactly what the tests crawl.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pipeline.demo_site.catalog import Catalog
from pipeline.demo_site.model import EDITIONS
from pipeline.demo_site.outlets import OUTLET_SPECS
from pipeline.demo_site.server import RequestLog, _Server, make_server
from pipeline.demo_site.site import OutletSite, SiteOptions
from pipeline.errors import UsageError

if TYPE_CHECKING:
    from pipeline.demo_site.manifest import Manifest

DEFAULT_PORT = 8701
MAX_RESPONSE_BYTES = 1_000_000  # what sources() configures; the oversized page is 3x this


@dataclass(frozen=True)
class Outlet:
    """One served outlet. ``base_url`` has no trailing slash: ``base_url + "/feed.rss"``."""

    key: str
    name: str
    base_url: str

    def url(self, path: str = "/") -> str:
        return self.base_url + path


def check_loopback(host: str) -> None:
    """Refuse to serve anywhere but loopback: the demo must never be reachable from outside."""
    try:
        infos = socket.getaddrinfo(host, None)
    except socket.gaierror as exc:
        raise UsageError(f"cannot resolve demo-site host {host!r}: {exc}") from exc
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_loopback:
            raise UsageError(f"demo-site host {host!r} is not a loopback address ({address})")


class DemoNetwork:
    """The local news network: three outlets on their own ports (``port=0``: free ports)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        articles: int = 0,
        edition: int = 1,
        slow_seconds: float = 3.0,
        seed: int = 20230522,
    ) -> None:
        check_loopback(host)
        if edition not in EDITIONS:
            raise UsageError(f"edition must be one of {EDITIONS}, not {edition}")
        if articles < 0:
            raise UsageError("articles must be >= 0")
        self.host = host
        self.port = port
        self.articles = articles
        self.slow_seconds = slow_seconds
        self._edition = edition
        self.catalog = Catalog(articles, seed)
        self.log = RequestLog()
        self._stop = threading.Event()
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self._base_urls: dict[str, str] = {}
        self._sites: dict[str, OutletSite] = {}

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> DemoNetwork:
        if self._servers:
            return self
        self._stop.clear()
        options = SiteOptions(slow_seconds=self.slow_seconds, max_response_bytes=MAX_RESPONSE_BYTES)
        try:
            for i, spec in enumerate(OUTLET_SPECS):
                site = OutletSite(spec, self.catalog, self._base_urls, self.edition_now, options)
                server = make_server(self.host, self.port + i if self.port else 0, site, self.log, self._stop)
                self._servers.append(server)
                self._sites[spec.key] = site
                host = f"[{self.host}]" if ":" in self.host else self.host
                self._base_urls[spec.key] = f"http://{host}:{server.server_address[1]}"
        except OSError as exc:
            self.stop()
            raise UsageError(f"cannot listen on {self.host}:{self.port}: {exc.strerror}") from exc
        for server in self._servers:
            thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        self._stop.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> DemoNetwork:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- state --------------------------------------------------------------------------------
    @property
    def edition(self) -> int:
        return self._edition

    def edition_now(self) -> int:
        return self._edition

    def set_edition(self, edition: int) -> None:
        """Switch the whole network to edition 1 ("now") or 2 ("later")."""
        if edition not in EDITIONS:
            raise UsageError(f"edition must be one of {EDITIONS}, not {edition}")
        self._edition = edition

    @property
    def outlets(self) -> list[Outlet]:
        if not self._base_urls:
            raise RuntimeError("DemoNetwork.outlets: call start() first")
        return [Outlet(s.key, s.name, self._base_urls[s.key]) for s in OUTLET_SPECS]

    def outlet(self, key: str) -> Outlet:
        for outlet in self.outlets:
            if outlet.key == key:
                return outlet
        raise KeyError(key)

    def site(self, key: str) -> OutletSite:
        return self._sites[key]

    def requests(self) -> list[tuple[str, str, str, int]]:
        """(outlet key, method, request target, status) of every request answered so far."""
        return self.log.entries()

    # -- configuration and ground truth ---------------------------------------------------------------
    def base_urls(self) -> dict[str, str]:
        if self._base_urls:
            return dict(self._base_urls)
        if not self.port:
            raise RuntimeError("DemoNetwork: base URLs of port 0 are known only after start()")
        return {s.key: f"http://{self.host}:{self.port + i}" for i, s in enumerate(OUTLET_SPECS)}

    def sources(self) -> list[dict[str, Any]]:
        from pipeline.demo_site.sources import sources_for

        return sources_for(self.base_urls(), self.catalog, self.slow_seconds, MAX_RESPONSE_BYTES)

    def write_sources(self, path: str | Path) -> Path:
        from pipeline.demo_site.sources import render_sources

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_sources(self.sources()), encoding="utf-8")
        return target

    def manifest(self, edition: int | None = None, *, include_generated: bool = True) -> Manifest:
        from pipeline.demo_site.manifest import build_manifest

        return build_manifest(self, edition or self._edition, include_generated=include_generated)
