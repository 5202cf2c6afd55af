"""Fault rows: long-running commands stop on Ctrl-C whatever signal disposition they inherit."""

from __future__ import annotations

import signal
import subprocess
import sys
import time


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def test_demo_site_started_with_sigint_ignored_still_stops_on_sigint() -> None:
    """A parent that ignores SIGINT (a script's background job, a test process after some
    library set SIG_IGN) passed that on: ``newsflow demo-site`` never stopped on Ctrl-C."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline", "demo-site", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ignore_sigint,
    )
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line or "Ctrl-C to stop" in line:
                break
        assert "Ctrl-C to stop" in line
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
