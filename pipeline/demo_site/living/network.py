"""``LivingNetwork``: the three outlets over a simulated month, answering for a settable time.

The clock is the harness's, not the machine's: ``set_now`` (in process), ``GET /__clock?now=``
on any outlet (from another process, e.g. an Airflow task), or a clock file read on every
request. Between two settings of the clock every answer is a pure function of the time, so
a crawler that comes back an hour later (simulated) sees exactly what changed in that hour,
and 304s happen whenever nothing did.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

from pipeline.clock import parse_now
from pipeline.demo_site.catalog import Catalog
from pipeline.demo_site.living.schedule import build_timeline
from pipeline.demo_site.living.serve import LivingServer, make_server, serve_in_thread
from pipeline.demo_site.living.site import LivingSite
from pipeline.demo_site.living.timeline import Timeline
from pipeline.demo_site.network import Outlet, check_loopback
from pipeline.demo_site.outlets import OUTLET_SPECS
from pipeline.demo_site.server import RequestLog
from pipeline.errors import UsageError
from pipeline.netpolicy import openings_for

DEFAULT_START = datetime(2026, 10, 1, tzinfo=UTC)
MAX_RESPONSE_BYTES = 1_000_000
DOWNLOAD_TIMEOUT = 5.0
# Tighter than the static demo's patterns: a section front (/news/world) is never an article,
# so a retraction that redirects there reads as "redirected to a non-article page".
ARTICLE_ALLOW = {
    "capital-examiner": r"/\d{4}/\d{2}/\d{2}/[a-z0-9-]+-\d{5}/$",
    "northern-ledger": r"/news/[a-z]+/[a-z0-9-]+-\d{5}$",
    "harbour-times": r"/story/\d{8}/[a-z0-9-]+-\d{5}\.html$",
}


class LivingNetwork:
    """The living demo network; ports are chosen by the OS (``start()`` binds them)."""

    def __init__(
        self,
        seed: int = 13,
        start: datetime = DEFAULT_START,
        days: int = 30,
        host: str = "127.0.0.1",
        clock_file: Path | str | None = None,
    ) -> None:
        check_loopback(host)
        if start.tzinfo is None:
            raise UsageError("LivingNetwork: start must be timezone-aware")
        self.seed = seed
        self.days = days
        self.host = host
        self.clock_file = Path(clock_file) if clock_file is not None else None
        self.timeline: Timeline = build_timeline(seed, start.astimezone(UTC), days)
        self.log = RequestLog()
        self._catalog = Catalog(0)
        self._lock = threading.Lock()
        self._now = self.timeline.start
        self._broken: list[tuple[str, str, datetime]] = []
        self._base_urls: dict[str, str] = {}
        self._servers: list[LivingServer] = []
        self._threads: list[threading.Thread] = []

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> LivingNetwork:
        if self._servers:
            return self
        try:
            for spec in OUTLET_SPECS:
                site = LivingSite(spec, self.timeline, self._base_urls, self._catalog)
                server = make_server(self.host, site, self, self.log)
                self._servers.append(server)
                host = f"[{self.host}]" if ":" in self.host else self.host
                self._base_urls[spec.key] = f"http://{host}:{server.server_address[1]}"
        except OSError as exc:
            self.stop()
            raise UsageError(f"cannot listen on {self.host}: {exc.strerror}") from exc
        self._threads = [serve_in_thread(server) for server in self._servers]
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def __enter__(self) -> LivingNetwork:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- the simulated clock ---------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        """The simulated time: the clock file's content when one is given and readable."""
        if self.clock_file is not None:
            try:
                text = self.clock_file.read_text(encoding="utf-8").strip()
            except OSError:
                text = ""
            if text:
                try:
                    return parse_now(text)
                except UsageError:
                    pass  # a half-written or bad file: keep answering for the last good time
        with self._lock:
            return self._now

    def set_now(self, t: datetime) -> None:
        """Answer every request from now on as at ``t`` (also written to the clock file, if any)."""
        if t.tzinfo is None:
            raise UsageError("LivingNetwork.set_now: the time must be timezone-aware")
        t = t.astimezone(UTC)
        with self._lock:
            self._now = t
            if self.clock_file is not None:
                tmp = self.clock_file.with_name(self.clock_file.name + f".{os.getpid()}.tmp")
                tmp.write_text(t.isoformat() + "\n", encoding="utf-8")
                os.replace(tmp, self.clock_file)

    def set_now_text(self, text: str) -> datetime:
        """``set_now`` from ISO 8601 text (``Z`` or an offset; naive is UTC) — the ``/__clock`` form."""
        t = parse_now(text)
        self.set_now(t)
        return t

    # -- outlets and configuration -------------------------------------------------------------------
    @property
    def outlets(self) -> list[Outlet]:
        if not self._base_urls:
            raise RuntimeError("LivingNetwork.outlets: call start() first")
        return [Outlet(s.key, s.name, self._base_urls[s.key]) for s in OUTLET_SPECS]

    def outlet(self, key: str) -> Outlet:
        for outlet in self.outlets:
            if outlet.key == key:
                return outlet
        raise KeyError(key)

    def base_url(self, key: str) -> str:
        return self._base_urls[key]

    def base_urls(self) -> dict[str, str]:
        if not self._base_urls:
            raise RuntimeError("LivingNetwork: base URLs are known only after start()")
        return dict(self._base_urls)

    def sources(self) -> list[dict[str, Any]]:
        """``sources.yaml`` entries: hourly, own loopback port allowed, no politeness delay, short timeouts."""
        out: list[dict[str, Any]] = []
        for outlet, spec in zip(self.outlets, OUTLET_SPECS, strict=True):
            base = outlet.base_url
            discovery: dict[str, Any] = {"listings": [base + "/"]}
            if spec.feed_path:
                discovery["feeds"] = [base + spec.feed_path]
            if spec.sitemap_index:
                discovery["sitemaps"] = [base + "/sitemap.xml"]
            out.append(
                {
                    "key": spec.key,
                    "name": spec.name,
                    "homepage": base + "/",
                    "discovery": discovery,
                    "article_urls": {"allow": [ARTICLE_ALLOW[spec.key]]},
                    "related": {"depth": 1, "scope": "same_site"},
                    "schedule": {"cron": "0 * * * *", "timezone": "UTC"},
                    "politeness": {
                        "concurrency": 4,
                        "delay": 0,
                        "download_timeout": DOWNLOAD_TIMEOUT,
                        "max_response_bytes": MAX_RESPONSE_BYTES,
                    },
                    "limits": {"max_pages": 500},
                    "allow_private_networks": openings_for(base),
                }
            )
        return out

    def write_sources(self, path: str | Path) -> Path:
        from pipeline.demo_site.sources import render_sources

        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render_sources(self.sources()), encoding="utf-8")
        return target

    # -- what was served -------------------------------------------------------------------------------
    def record_broken(self, outlet: str, url: str, at: datetime) -> None:
        with self._lock:
            self._broken.append((outlet, url, at))

    def served_broken(self) -> list[tuple[str, str, datetime]]:
        """(outlet, URL, simulated time) of every article page served while its CMS was broken."""
        with self._lock:
            return list(self._broken)

    def requests(self) -> list[tuple[str, str, str, int]]:
        """(outlet key, method, request target, status) of every request answered (not ``/__clock``)."""
        return self.log.entries()
