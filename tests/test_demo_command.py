"""`newsflow demo` (what `make demo` runs): exits 0, shows a clean seed story, runs again incrementally."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.demo import SEED_BOILERPLATE

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


def test_demo_runs_clean_and_again_incrementally(tmp_path: Path) -> None:
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
