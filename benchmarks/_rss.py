"""Peak-RSS sampling of this process and all its descendants, shared by the benchmarks."""

from __future__ import annotations

import contextlib
import threading
from types import TracebackType

import psutil


def describe(proc: psutil.Process) -> str:
    """A short role name for a process: the module it runs, or its executable name."""
    try:
        cmdline = proc.cmdline()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return "gone"
    if "-m" in cmdline:
        index = cmdline.index("-m")
        if index + 1 < len(cmdline):
            return cmdline[index + 1]
    if any("multiprocessing" in part for part in cmdline):
        return "worker"
    return proc.name()


class PeakRss:
    """Context manager polling RSS every ``interval`` s; ``peaks`` maps role -> peak bytes."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peaks: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)
        self._me = psutil.Process()

    def _sample(self) -> None:
        procs = [self._me]
        with contextlib.suppress(psutil.NoSuchProcess):
            procs += self._me.children(recursive=True)
        for proc in procs:
            try:
                rss = proc.memory_info().rss
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            role = "main" if proc.pid == self._me.pid else describe(proc)
            self.peaks[role] = max(self.peaks.get(role, 0), rss)

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> PeakRss:
        self._sample()
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()
