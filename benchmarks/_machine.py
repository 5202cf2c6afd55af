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
from typing import Any, Self

from benchmarks._rss import PeriodicSampler


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


class LoadSampler(PeriodicSampler):
    """Samples ``os.getloadavg()`` (1-minute figure) every ``interval`` seconds while active."""

    def __init__(self, interval: float = 5.0) -> None:
        super().__init__(interval)
        self.samples: list[float] = []

    def _sample(self) -> None:
        self.samples.append(os.getloadavg()[0])

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


#: Process (``python -m X``) and main-process thread names -> the pipeline stage they work for.
PROCESS_STAGES = {"crawlers.run": "crawl", "pipeline.procpool": "extract"}
THREAD_STAGES = (("load-", "load"), ("crawl-log", "crawl"))
UNNAMED = {"python", "gone", ""}


class CpuByStage(PeriodicSampler):
    """CPU seconds of a run, split by the stage each process or thread works for (sampled).

    Polls every ``interval`` s the CPU times of every descendant process (stage from its
    ``-m`` module, :data:`PROCESS_STAGES`) and of every thread of this process: the load's
    own threads by name (:data:`THREAD_STAGES`), and the threads driving each source's stages
    (``newsflow run``'s source threads: the extraction's parent side, the load's upserts, the
    check) by the stage they last announced through :meth:`on_stage` (pass it as
    ``run_sources(on_stage=...)``). CPU between two samples goes to the stage current at the
    later one, and what a process or thread spends after its last sample is missed (under
    ``interval`` each). Main-process CPU no stage accounts for (the demo web server's request
    threads, imports) is ``main (other)``, from this process's own ``getrusage``.
    """

    def __init__(self, interval: float = 0.1) -> None:
        import psutil

        super().__init__(interval)
        self._me = psutil.Process()
        self._own_role = ""
        self._procs: dict[tuple[int, float], tuple[str, float]] = {}
        self._threads: dict[int, tuple[str, float]] = {}
        self._current: dict[int, tuple[str, str]] = {}  # thread id -> (thread name, stage)
        self._spent: dict[str, float] = {}
        self._lock = threading.Lock()
        self._self_start = 0.0
        self._counting = False
        self._in_threads = 0.0  # main-process CPU attributed to a stage
        self.seconds: dict[str, float] = {}

    def on_stage(self, source: str, stage: str) -> None:
        """``run_sources`` callback, called in the source's thread as a stage starts."""
        self._sample()  # CPU so far goes to the stage that just ended
        self._current[threading.get_native_id()] = (threading.current_thread().name, stage)

    def _add(self, stage: str, seconds: float) -> None:
        if self._counting and seconds > 0:
            self._spent[stage] = self._spent.get(stage, 0.0) + seconds

    def _sample(self) -> None:
        import psutil

        from benchmarks._rss import describe

        with self._lock:
            try:
                children = self._me.children(recursive=True)
            except psutil.NoSuchProcess:
                children = []
            for proc in children:
                try:
                    key = (proc.pid, proc.create_time())
                    times = proc.cpu_times()
                    role = describe(proc)
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
                cpu = times.user + times.system
                old_role, old_cpu = self._procs.get(key, (role, 0.0))
                # A zombie has no command line, a child between fork and exec still has ours:
                # keep the first real name seen.
                if old_role not in UNNAMED and old_role != self._own_role:
                    role = old_role
                self._add(PROCESS_STAGES.get(role, role), cpu - old_cpu)
                self._procs[key] = (role, cpu)
            names = {t.native_id: t.name for t in threading.enumerate()}
            for t in self._me.threads():
                name = names.get(t.id, "")
                stage = next((s for prefix, s in THREAD_STAGES if name.startswith(prefix)), None)
                announced = self._current.get(t.id)
                if stage is None and announced is not None and announced[0] == name:  # not a reused id
                    stage = announced[1]
                cpu = t.user_time + t.system_time
                old_name, old_cpu = self._threads.get(t.id, (name, 0.0))
                if old_name != name or cpu < old_cpu:  # a new thread with a reused id
                    old_cpu = 0.0
                if stage is not None:
                    self._add(stage, cpu - old_cpu)
                    if self._counting:
                        self._in_threads += max(0.0, cpu - old_cpu)
                self._threads[t.id] = (name, cpu)

    def __enter__(self) -> Self:
        from benchmarks._rss import describe

        self._own_role = describe(self._me)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        self._self_start = usage.ru_utime + usage.ru_stime
        super().__enter__()  # the baseline sample: what existed before the run is not the run's
        self._counting = True  # (the sampler thread's first sample comes an interval later)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        super().__exit__(exc_type, exc, tb)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        main_total = usage.ru_utime + usage.ru_stime - self._self_start
        out = dict(self._spent)
        out["main (other)"] = max(0.0, main_total - self._in_threads)
        self.seconds = {k: round(v, 2) for k, v in sorted(out.items())}
