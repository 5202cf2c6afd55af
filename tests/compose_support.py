"""Read ``docker-compose.yml`` the way Docker Compose does, for tests on machines without Docker.

Only what the deployment tests need: YAML with anchors and merge keys, ``.env`` files, and the
Compose variable interpolation rules (``$$``, ``$VAR``, ``${VAR}``, ``${VAR:-default}``,
``${VAR-default}``, ``${VAR:?error}``, ``${VAR?error}``, ``${VAR:+alt}``, ``${VAR+alt}``),
so a test sees the values a container would get.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE = ROOT / "docker-compose.yml"
ENV_EXAMPLE = ROOT / ".env.example"

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class InterpolationError(ValueError):
    """A ``${VAR:?…}`` reference found its variable unset or empty (Compose refuses to run)."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"required variable {name} is missing a value: {message}")
        self.name = name


def load_compose(path: Path = COMPOSE_FILE) -> dict[str, Any]:
    """The compose file as plain data (merge keys resolved by the YAML loader)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def read_env_file(path: Path) -> dict[str, str]:
    """``KEY=value`` lines of a dotenv file; quotes stripped, comments and blanks skipped."""
    env: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        env[key.strip()] = value
    return env


def _brace_end(text: str, start: int) -> int:
    """Index of the ``}`` closing the ``${`` whose body starts at ``start``."""
    depth = 1
    i = start
    while i < len(text):
        if text.startswith("${", i):
            depth += 1
            i += 2
            continue
        if text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    raise ValueError(f"unclosed ${{ in {text!r}")


def _resolve(body: str, env: Mapping[str, str]) -> str:
    match = _NAME.match(body)
    if not match:
        raise ValueError(f"bad variable reference ${{{body}}}")
    name = match.group(0)
    rest = body[match.end() :]
    value = env.get(name)
    if not rest:
        return value or ""
    for op in (":-", ":?", ":+", "-", "?", "+"):
        if rest.startswith(op):
            arg = interpolate_str(rest[len(op) :], env)
            empty_counts = op.startswith(":")
            missing = value is None or (empty_counts and value == "")
            if op.endswith("-"):
                return arg if missing else str(value)
            if op.endswith("?"):
                if missing:
                    raise InterpolationError(name, arg)
                return str(value)
            return "" if missing else arg
    raise ValueError(f"unsupported interpolation ${{{body}}}")


def interpolate_str(text: str, env: Mapping[str, str]) -> str:
    """One string with every ``$`` reference resolved as Compose does."""
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "$":
            out.append(ch)
            i += 1
            continue
        nxt = text[i + 1] if i + 1 < len(text) else ""
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "{":
            end = _brace_end(text, i + 2)
            out.append(_resolve(text[i + 2 : end], env))
            i = end + 1
        else:
            match = _NAME.match(text, i + 1)
            if match:
                out.append(env.get(match.group(0), ""))
                i = match.end()
            else:
                out.append("$")
                i += 1
    return "".join(out)


def interpolate(obj: Any, env: Mapping[str, str]) -> Any:
    """Every string in a loaded compose document interpolated (keys stay as written)."""
    if isinstance(obj, str):
        return interpolate_str(obj, env)
    if isinstance(obj, list):
        return [interpolate(item, env) for item in obj]
    if isinstance(obj, dict):
        return {key: interpolate(value, env) for key, value in obj.items()}
    return obj


def referenced_variables(obj: Any) -> dict[str, set[str]]:
    """``name -> operators`` of every ``${…}``/``$VAR`` reference (``""`` for a bare one)."""
    found: dict[str, set[str]] = {}

    def scan(text: str) -> None:
        i = 0
        while i < len(text):
            if text.startswith("$$", i):
                i += 2
                continue
            if text.startswith("${", i):
                end = _brace_end(text, i + 2)
                body = text[i + 2 : end]
                match = _NAME.match(body)
                if match:
                    rest = body[match.end() :]
                    op = next((o for o in (":-", ":?", ":+", "-", "?", "+") if rest.startswith(o)), "")
                    found.setdefault(match.group(0), set()).add(op)
                    scan(rest[len(op) :])
                i = end + 1
                continue
            if text[i] == "$":
                match = _NAME.match(text, i + 1)
                if match:
                    found.setdefault(match.group(0), set()).add("")
                    i = match.end()
                    continue
            i += 1

    def walk(node: Any) -> None:
        if isinstance(node, str):
            scan(node)
        elif isinstance(node, list):
            for item in node:
                walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    walk(obj)
    return found


def service_environment(service: Mapping[str, Any], env: Mapping[str, str]) -> dict[str, str]:
    """A service's container environment: a key without a value is passed through from ``env``."""
    raw = service.get("environment") or {}
    if isinstance(raw, list):
        items: dict[str, Any] = {}
        for entry in raw:
            key, sep, value = str(entry).partition("=")
            items[key] = value if sep else None
        raw = items
    result: dict[str, str] = {}
    for key, value in raw.items():
        if value is None:
            if key in env:
                result[key] = env[key]
            continue
        result[key] = str(value)
    return result


def command_argv(command: str | list[str]) -> list[str]:
    """A service ``command`` as argv (a string is split like Compose does, shell-style)."""
    import shlex

    return list(command) if isinstance(command, list) else shlex.split(command)


def required_variables(compose: Any) -> set[str]:
    """Variables the compose file demands with ``${VAR:?…}``: the secrets ``.env`` must hold."""
    return {name for name, ops in referenced_variables(compose).items() if ":?" in ops}


def env_example_with_secrets(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """``.env.example`` with every required (secret) value filled by a fresh throwaway secret."""
    import secrets

    from cryptography.fernet import Fernet

    env = read_env_file(ENV_EXAMPLE)
    for key in sorted(required_variables(load_compose())):
        if env.get(key):
            continue
        env[key] = Fernet.generate_key().decode() if key == "AIRFLOW_FERNET_KEY" else secrets.token_hex(16)
    env.update(extra or {})
    return env


def active_services(compose: Mapping[str, Any], env: Mapping[str, str]) -> list[str]:
    """The services ``docker compose up`` starts: no ``profiles``, or one named in ``COMPOSE_PROFILES``."""
    enabled = {p.strip() for p in env.get("COMPOSE_PROFILES", "").split(",") if p.strip()}
    return [
        name
        for name, service in compose["services"].items()
        if not service.get("profiles") or enabled & set(service["profiles"])
    ]


def container_hostname() -> str:
    """The hostname a container's processes report: Docker sets ``HOSTNAME`` to it.

    Natively every process shares the machine's hostname, so the tests give each emulated
    container its own ``HOSTNAME`` and point Airflow's ``[core] hostname_callable`` here:
    task instances then record which (emulated) worker ran them, as in Compose.
    """
    return os.environ.get("HOSTNAME") or socket.getfqdn()
