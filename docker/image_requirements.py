"""Derive the production image's pip requirements from ``requirements.lock``.

Why this exists: the official ``apache/airflow`` image already holds Airflow and dozens of
providers, installed against Airflow's own constraints file (``${HOME}/constraints.txt`` in the
image). Installing our lock wholesale on top could move a package those providers depend on
and leave ``pip check`` broken; ignoring the lock would leave Scrapy, trafilatura & co.
floating. So the image gets:

* Airflow's constraints for every package they pin (they govern what the base image holds),
* the lock's exact pins for every other package newsflow needs at run time,
* nothing that only the ``dev`` extra pulls in (pytest, mypy, ruff … stay out of the image).

The runtime closure is read from the ``# via`` annotations ``uv pip compile`` writes into the
lock, starting from ``[project].dependencies`` in ``pyproject.toml``.

Usage (the Dockerfile runs this with the image's own Python)::

    python image_requirements.py --lock requirements.lock --pyproject pyproject.toml \
        --constraints ~/constraints.txt --airflow-version 3.3.2 > image-requirements.txt
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_VIA = "newsflow (pyproject.toml)"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;]+)")


def normalise(name: str) -> str:
    """PEP 503 name normalisation, so ``PyYAML`` and ``pyyaml`` are one package."""
    return re.sub(r"[-_.]+", "-", name).lower()


@dataclass
class LockEntry:
    name: str
    version: str
    line: str
    parents: set[str] = field(default_factory=set)


def parse_lock(text: str) -> dict[str, LockEntry]:
    """Pins of a ``uv pip compile`` lock with the parents named in their ``# via`` comments."""
    entries: dict[str, LockEntry] = {}
    current: LockEntry | None = None
    in_via = False
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        pin = _PIN.match(line)
        if pin:
            current = LockEntry(normalise(pin.group(1)), pin.group(2), line.strip())
            entries[current.name] = current
            in_via = False
            continue
        comment = line.strip().lstrip("#").strip()
        if current is None or not line.lstrip().startswith("#"):
            continue
        if comment.startswith("via"):
            rest = comment[3:].strip()
            in_via = not rest
            if rest:
                current.parents.add(_parent(rest))
        elif in_via and comment:
            current.parents.add(_parent(comment))
    return entries


def _parent(text: str) -> str:
    if text.startswith("-r ") or text == PROJECT_VIA or text.endswith("(pyproject.toml)"):
        return PROJECT_VIA
    match = _NAME.match(text)
    return normalise(match.group(1)) if match else text


def runtime_roots(pyproject_text: str) -> set[str]:
    """Names of the project's run-time dependencies (extras and markers stripped)."""
    deps = tomllib.loads(pyproject_text)["project"]["dependencies"]
    roots = set()
    for dep in deps:
        match = _NAME.match(dep)
        if match:
            roots.add(normalise(match.group(1)))
    return roots


def runtime_closure(entries: dict[str, LockEntry], roots: set[str]) -> set[str]:
    """Every locked package reachable from ``roots`` through the ``# via`` graph."""
    children: dict[str, set[str]] = {}
    for entry in entries.values():
        for parent in entry.parents:
            children.setdefault(parent, set()).add(entry.name)
    missing = sorted(roots - entries.keys())
    if missing:
        raise SystemExit(f"runtime dependencies missing from the lock: {', '.join(missing)}")
    seen: set[str] = set()
    queue = deque(sorted(roots))
    while queue:
        name = queue.popleft()
        if name in seen:
            continue
        seen.add(name)
        queue.extend(sorted(children.get(name, set()) - seen))
    return seen


def parse_constraints(text: str) -> dict[str, str]:
    """``name -> version`` of a pip constraints file."""
    pins: dict[str, str] = {}
    for line in text.splitlines():
        pin = _PIN.match(line.strip())
        if pin:
            pins[normalise(pin.group(1))] = pin.group(2)
    return pins


@dataclass(frozen=True)
class ImageRequirements:
    lines: list[str]
    deferred: dict[str, tuple[str, str]]  # name -> (lock version, constraints version)
    dev_only: list[str]


def image_requirements(
    lock_text: str, pyproject_text: str, constraints_text: str, airflow_version: str
) -> ImageRequirements:
    """The requirement lines to install on top of the Airflow image (see module docstring)."""
    entries = parse_lock(lock_text)
    airflow = entries.get("apache-airflow")
    if airflow is None or airflow.version != airflow_version:
        locked = airflow.version if airflow else "nothing"
        raise SystemExit(f"requirements.lock pins apache-airflow {locked}, the image has {airflow_version}")
    needed = runtime_closure(entries, runtime_roots(pyproject_text))
    constraints = parse_constraints(constraints_text)
    lines: list[str] = []
    deferred: dict[str, tuple[str, str]] = {}
    for name in sorted(needed):
        entry = entries[name]
        if name in constraints:
            deferred[name] = (entry.version, constraints[name])
        else:
            lines.append(entry.line)
    dev_only = sorted(entries.keys() - needed)
    return ImageRequirements(lines, deferred, dev_only)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--lock", type=Path, required=True)
    parser.add_argument("--pyproject", type=Path, required=True)
    parser.add_argument("--constraints", type=Path, required=True)
    parser.add_argument("--airflow-version", required=True)
    args = parser.parse_args(argv)
    result = image_requirements(
        args.lock.read_text(encoding="utf-8"),
        args.pyproject.read_text(encoding="utf-8"),
        args.constraints.read_text(encoding="utf-8"),
        args.airflow_version,
    )
    differing = {k: v for k, v in result.deferred.items() if v[0] != v[1]}
    print(
        f"image requirements: {len(result.lines)} pinned from the lock, "
        f"{len(result.deferred)} left to Airflow's constraints ({len(differing)} at another version), "
        f"{len(result.dev_only)} dev-only skipped",
        file=sys.stderr,
    )
    for name, (locked, constrained) in sorted(differing.items()):
        print(f"  {name}: lock {locked} -> constraints {constrained}", file=sys.stderr)
    sys.stdout.write("".join(line + "\n" for line in result.lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
