"""Peak-RSS sampling of this process and all its descendants, shared by the benchmarks."""

from __future__ import annotations

import contextlib
import threading
from types import TracebackType
from typing import Self

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


class PeriodicSampler:
    """A context manager that calls ``_sample`` on entry, every ``interval`` s from a daemon
    thread while active, and once more on exit (so short runs still get two samples)."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True, name=type(self).__name__)

    def _sample(self) -> None:
        raise NotImplementedError

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> Self:
        self._sample()
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()


class PeakRss(PeriodicSampler):
    """Context manager polling RSS every ``interval`` s; ``peaks`` maps role -> peak bytes."""

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(interval)
        self.peaks: dict[str, int] = {}
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
