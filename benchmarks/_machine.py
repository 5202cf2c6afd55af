"""What the machine was doing while a benchmark ran: load average and child-process CPU.

The benchmark machines are shared (several agents on 2 cores), so wall times alone say
little: the benchmarks report CPU seconds of the processes they start (``ChildCpu``) and
the load average seen during the run (``LoadSampler``), so a reader can tell a loaded run
from a quiet one.
"""

from __future__ import annotations

import os
import resource
import statistics
import threading
from types import TracebackType
from typing import Any


def children_cpu() -> float:
    """User + system CPU seconds of every child process waited for so far (and their children)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class ChildCpu:
    """CPU seconds of the child processes started *and waited for* inside the ``with`` block.

    ``RUSAGE_CHILDREN`` counts a child once it has been reaped, including the grandchildren
    it reaped itself (``newsflow crawl`` -> ``crawlers.run``), so the delta around a
    ``subprocess.run`` is that whole process tree's CPU, start-up included.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self._start = 0.0

    def __enter__(self) -> ChildCpu:
        self._start = children_cpu()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.seconds = children_cpu() - self._start


class LoadSampler:
    """Samples ``os.getloadavg()`` (1-minute figure) every ``interval`` seconds while active."""

    def __init__(self, interval: float = 5.0) -> None:
        self.interval = interval
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._poll, daemon=True)

    def _sample(self) -> None:
        self.samples.append(os.getloadavg()[0])

    def _poll(self) -> None:
        while not self._stop.wait(self.interval):
            self._sample()

    def __enter__(self) -> LoadSampler:
        self._sample()
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        self._thread.join()
        self._sample()

    def summary(self) -> dict[str, Any]:
        """Min/median/max of the 1-minute load average, the core count, and a plain verdict."""
        cores = os.cpu_count() or 1
        median = statistics.median(self.samples) if self.samples else 0.0
        return {
            "loadavg_1m_min": round(min(self.samples, default=0.0), 2),
            "loadavg_1m_median": round(median, 2),
            "loadavg_1m_max": round(max(self.samples, default=0.0), 2),
            "cores": cores,
            "loaded": median > cores,
        }


def describe_load(summary: dict[str, Any]) -> str:
    """One line for the benchmark output."""
    verdict = (
        "LOADED machine: other work competed for the CPU, wall times and throughput are pessimistic"
        if summary["loaded"]
        else "machine not overloaded"
    )
    return (
        f"load average (1 min) during the run: median {summary['loadavg_1m_median']}, "
        f"min {summary['loadavg_1m_min']}, max {summary['loadavg_1m_max']} on {summary['cores']} cores "
        f"({verdict})"
    )
