"""The subprocess worker pool: streaming results, per-item failures, hosts with a hostile ``__main__``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pipeline.procpool import WorkerStartError, imap_unordered

HERE = "tests.test_procpool"


def make_handler(offset: int) -> Callable[[tuple[str, Any]], Any]:
    """Worker-side factory: the item says what to do, so one pool can show every failure."""

    def handle(item: tuple[str, Any]) -> Any:
        kind, value = item
        if kind == "raise":
            raise ValueError(f"bad item {value}")
        if kind == "exit":
            os._exit(value)
        if kind == "segv":
            os.kill(os.getpid(), signal.SIGSEGV)
        if kind == "sleep":
            time.sleep(value)
        if kind == "pid":
            return ("pid", os.getpid())
        return ("ok", value + offset)

    return handle


def broken_factory(_: Any) -> Callable[[Any], Any]:
    raise ImportError("the extractor is not installed here")


def failed(item: tuple[str, Any], reason: str) -> tuple[str, Any]:
    return ("failed", (item, reason))


def test_results_stream_from_several_processes() -> None:
    items = [("ok", n) for n in range(40)] + [("pid", None)] * 20
    out = list(imap_unordered(f"{HERE}:make_handler", 1000, items, workers=3, on_failure=failed))
    assert sorted(v for k, v in out if k == "ok") == [n + 1000 for n in range(40)]
    pids = {v for k, v in out if k == "pid"}
    assert os.getpid() not in pids and 1 <= len(pids) <= 3


def test_a_crashing_item_is_blamed_alone_and_the_rest_go_on() -> None:
    items = [
        ("ok", 1),
        ("segv", None),
        ("ok", 2),
        ("exit", 3),
        ("raise", 7),
        ("ok", 3),
        ("sleep", 30),
        ("ok", 4),
    ]
    started = time.monotonic()
    out = list(imap_unordered(f"{HERE}:make_handler", 0, items, workers=2, on_failure=failed, timeout=2))
    assert time.monotonic() - started < 25
    assert sorted(v for k, v in out if k == "ok") == [1, 2, 3, 4]
    failures = dict(v for k, v in out if k == "failed")
    assert set(failures) == {("segv", None), ("exit", 3), ("raise", 7), ("sleep", 30)}
    assert failures[("segv", None)] == f"worker process died (exit code {-signal.SIGSEGV})"
    assert failures[("exit", 3)] == "worker process died (exit code 3)"
    assert failures[("raise", 7)] == "ValueError: bad item 7"
    assert failures[("sleep", 30)] == "timed out after 2 s"


def test_a_worker_that_cannot_start_fails_the_call() -> None:
    with pytest.raises(WorkerStartError, match="before it was ready"):
        list(imap_unordered(f"{HERE}:broken_factory", None, [("ok", 1)], workers=1, on_failure=failed))


def test_closing_early_stops_the_workers() -> None:
    stream = imap_unordered(f"{HERE}:make_handler", 0, [("pid", None)] * 50, workers=2, on_failure=failed)
    kind, pid = next(stream)
    assert kind == "pid"
    stream.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


HOST = """\
# Like the `airflow` entry script inside a task: importing it a second time fails.
if __name__ != "__main__":
    raise RuntimeError("the host's entry script was re-imported in a worker")

import sys
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from pipeline.procpool import imap_unordered
from tests.test_procpool import failed


def main() -> None:
    if sys.argv[1] == "spawn":
        with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
            print(sorted(pool.map(abs, [-1, -2, -3])))
    else:
        out = imap_unordered("tests.test_procpool:make_handler", 10, [("ok", n) for n in range(3)],
                             workers=2, on_failure=failed)
        print(sorted(v for _, v in out))


main()
"""


def test_workers_do_not_re_import_the_hosts_main_module(tmp_path: Path) -> None:
    script = tmp_path / "host.py"
    script.write_text(textwrap.dedent(HOST))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}

    def run(mode: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(script), mode], capture_output=True, text=True, env=env, timeout=120
        )

    # What multiprocessing does (the old pool): every child dies re-importing the host.
    spawn = run("spawn")
    assert spawn.returncode != 0
    assert "re-imported in a worker" in spawn.stderr and "BrokenProcessPool" in spawn.stderr
    ours = run("procpool")
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout.strip() == "[10, 11, 12]"
