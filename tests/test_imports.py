"""Everything imports (alltheplaces-style smoke test) and the CLI lists its commands."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import pytest

import crawlers
import pipeline

MODULES = sorted(
    name
    for package in (pipeline, crawlers)
    for _, name, _ in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
    if not name.endswith("__main__")
)


@pytest.mark.parametrize("module", MODULES)
def test_module_imports(module: str) -> None:
    importlib.import_module(module)


def test_cli_help_lists_commands() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("db", "sources"):
        assert command in out
