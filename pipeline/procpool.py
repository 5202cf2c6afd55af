"""A process pool whose workers are fresh interpreters running this module, safe in any host process.

Why not :mod:`multiprocessing`: its ``spawn`` and ``forkserver`` children re-create the
parent's ``__main__`` before they run anything (the "main-module fixup"). Inside an Airflow
task the parent's ``__main__`` is the ``airflow`` entry script, and importing Airflow in a
task's environment fails (the supervisor hides the metadata database address), so every
child died and the pool raised ``BrokenProcessPool``. ``fork`` is no way out either: the
parent holds threads and database connections. Here a worker is started as
``python -m pipeline.procpool FD`` and imports only the handler factory it is told to; what
the parent's ``__main__`` is does not matter.

One item is in flight per worker, so:

* results stream back as they complete (:func:`imap_unordered` is a generator) and the
  parent holds at most ``workers`` items, however many there are;
* a worker that dies (segfault, ``os._exit``, out of memory) or exceeds ``timeout`` is
  blamed on exactly the item it was working on, which becomes ``on_failure(item, reason)``;
  the worker is replaced and the others go on.

Items, results and the handler's argument travel pickled over a socket pair
(:class:`multiprocessing.connection.Connection` framing); workers inherit stdout/stderr, so
their logs land where the parent's go.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing import Pipe
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")

#: Seconds a worker may take to exit after its connection closed before it is killed.
SHUTDOWN_GRACE = 5.0

_PACKAGE_ROOT = str(Path(__file__).resolve().parents[1])


class WorkerStartError(RuntimeError):
    """A worker died before it was ready: the handler cannot be built here (fatal, not per item)."""


@dataclass
class _Worker:
    process: subprocess.Popen[bytes]
    conn: Connection
    ready: bool = False  # the worker built its handler and said so
    item: Any = None
    busy: bool = False
    since: float = field(default_factory=time.monotonic)


def _spawn(factory: str, argument: Any) -> _Worker:
    parent, child = Pipe(duplex=True)
    fd = child.fileno()
    env = dict(os.environ)
    # The package must be importable before the worker can read anything from the parent.
    env["PYTHONPATH"] = os.pathsep.join(p for p in (_PACKAGE_ROOT, env.get("PYTHONPATH")) if p)
    process = subprocess.Popen(
        [sys.executable, "-m", "pipeline.procpool", str(fd)],
        pass_fds=(fd,),
        stdin=subprocess.DEVNULL,
        env=env,
    )
    child.close()
    # Buffered by the socket until the worker reads it; the parent's sys.path lets the
    # factory live anywhere the parent can import from (tests, plugins).
    parent.send((list(sys.path), factory, argument))
    return _Worker(process, parent)


def _stop(worker: _Worker, *, kill: bool = False) -> int:
    """Close the connection (the worker exits on EOF); kill it if asked or if it lingers."""
    worker.conn.close()
    if kill:
        worker.process.kill()
    try:
        return worker.process.wait(timeout=SHUTDOWN_GRACE)
    except subprocess.TimeoutExpired:
        worker.process.kill()
        return worker.process.wait()


def imap_unordered(
    factory: str,
    argument: Any,
    items: Iterable[T],
    *,
    workers: int,
    on_failure: Callable[[T, str], R],
    timeout: float | None = None,
) -> Iterator[R]:
    """Yield ``handler(item)`` for every item, in completion order, from ``workers`` processes.

    ``factory`` is ``"module:function"``; each worker calls ``function(argument)`` once to
    get its handler. A handler that raises, a worker that dies and an item that runs longer
    than ``timeout`` seconds yield ``on_failure(item, reason)`` instead: nothing here raises
    for one bad item. A worker that dies before its handler is built raises
    :class:`WorkerStartError` (every item would fail the same way). Closing the generator
    early stops the workers.
    """
    if workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}")
    pending = iter(items)
    pool: list[_Worker] = []

    def died(worker: _Worker, *, kill: bool) -> str:
        """Stop a failed worker, put a fresh one in its place; the reason for its item."""
        code = _stop(worker, kill=kill)
        if not worker.ready and not kill:
            raise WorkerStartError(f"extraction worker {factory} exited with code {code} before it was ready")
        pool[pool.index(worker)] = fresh = _spawn(factory, argument)
        feed(fresh)
        return f"exit code {code}"

    def feed(worker: _Worker) -> None:
        for item in pending:
            worker.item, worker.busy, worker.since = item, True, time.monotonic()
            try:
                worker.conn.send(item)
            except OSError:  # died while idle: not this item's fault, it goes to a fresh worker
                pool[pool.index(worker)] = fresh = _spawn(factory, argument)
                _stop(worker)
                fresh.item, fresh.busy, fresh.since = item, True, time.monotonic()
                fresh.conn.send(item)
            return
        worker.item, worker.busy = None, False

    try:
        for _ in range(workers):
            pool.append(_spawn(factory, argument))
        for worker in pool:
            feed(worker)
        while busy := [w for w in pool if w.busy]:
            # Start-up is not timed (a loaded machine may take a while to import the handler).
            deadlines = [w.since + timeout for w in busy if w.ready] if timeout is not None else []
            wait_for = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
            ready = set(wait([w.conn for w in busy], wait_for))
            for worker in busy:
                item = worker.item
                if worker.conn in ready:
                    try:
                        ok, payload = worker.conn.recv()
                    except (EOFError, OSError):
                        yield on_failure(item, f"worker process died ({died(worker, kill=False)})")
                        continue
                    if not worker.ready:  # the first message says the handler is built
                        worker.ready, worker.since = True, time.monotonic()
                        continue
                    feed(worker)
                    yield payload if ok else on_failure(item, str(payload))
                elif timeout is not None and worker.ready and time.monotonic() - worker.since >= timeout:
                    died(worker, kill=True)
                    yield on_failure(item, f"timed out after {timeout:g} s")
    finally:
        for worker in pool:
            _stop(worker, kill=worker.busy)


def _serve(conn: Connection) -> None:
    """Worker side: build the handler, then answer items until the parent closes the connection."""
    # Ctrl-C reaches the whole process group; the parent decides and closes our connection.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    path, factory, argument = conn.recv()
    sys.path.extend(p for p in path if p not in sys.path)
    module, _, name = factory.partition(":")
    handler = getattr(importlib.import_module(module), name)(argument)
    try:
        conn.send((True, None))  # ready
        while True:
            item = conn.recv()
            try:
                reply = (True, handler(item))
            except Exception as exc:  # reported for this item; the worker goes on
                reply = (False, f"{type(exc).__name__}: {exc}"[:1000])
            conn.send(reply)
    except (EOFError, BrokenPipeError, ConnectionResetError):
        return  # the parent is done with us (or gone)


if __name__ == "__main__":
    _serve(Connection(int(sys.argv[1])))
