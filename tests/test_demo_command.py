"""`newsflow demo` (what `make demo` runs): exits 0, shows a clean seed story, runs again incrementally."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipeline.demo import SEED_BOILERPLATE
from pipeline.demo_ports import start_demo_network
from pipeline.demo_site import DEFAULT_PORT

pytestmark = pytest.mark.slow


def _demo(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env["COLUMNS"] = "200"
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "demo"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@contextmanager
def _occupied(port: int) -> Iterator[bool]:
    """Hold ``port`` on loopback (as another program would); False if something else already does."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(1)
        except OSError:
            yield False
            return
        yield True
    finally:
        sock.close()


def test_demo_ports_are_remembered(tmp_path: Path) -> None:
    ports = tmp_path / "ports.json"
    with _occupied(DEFAULT_PORT):
        network, same = start_demo_network(ports)
        network.stop()
        assert not same and network.port != DEFAULT_PORT
        again, same = start_demo_network(ports)  # still blocked: the same fallback block
        again.stop()
        assert same and again.port == network.port
    later, same = start_demo_network(ports)  # defaults free again: the remembered block still wins
    later.stop()
    assert same and later.port == network.port
    ports.write_text("{not json")
    fresh, _ = start_demo_network(ports)  # a damaged file is ignored, not fatal
    fresh.stop()


def test_demo_runs_clean_and_again_incrementally(tmp_path: Path) -> None:
    # The default ports are taken (a `newsflow demo-site` in another terminal, say): both demos
    # must fall back to the same ports, or the second would store every article again.
    with _occupied(DEFAULT_PORT):
        _demo_twice(tmp_path)


def _demo_twice(tmp_path: Path) -> None:
    first = _demo(tmp_path)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    out = first.stdout
    assert (tmp_path / "data" / "newsflow.db").exists()
    for marker in SEED_BOILERPLATE:
        assert marker not in out, f"{marker!r} printed by the demo"
    flat = re.sub(r"[│\s]+", " ", out)
    assert "The attack is not the first on Russian territory." in flat
    assert re.search(r"\d+ boilerplate lines removed by cleaning", out)
    assert "related-article links of the seed story" in out
    assert 'newsflow search "Belgorod governor"' in out
    second = _demo(tmp_path)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    rows = [line for line in second.stdout.splitlines() if line.startswith("│ ") and "success" in line]
    assert len(rows) == 3
    for row in rows:
        cells = [c.strip() for c in row.strip("│").split("│")]
        assert cells[5] == "0", f"second demo run created articles: {row}"
