"""Where ``sources.yaml`` is wrong, and the first, cheap reading of it.

Kept apart from :mod:`pipeline.config` (whose pydantic models take a second to import) so
that the CLI can report a hostile or broken file before it imports anything heavy, and so
that modules which only catch :class:`ConfigError` stay light.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from pipeline import yamlsafe

if TYPE_CHECKING:  # pydantic is heavy to import; only the annotation needs it
    from pydantic import ValidationError


@dataclass(frozen=True)
class ConfigIssue:
    """One problem found in the file, located for a human."""

    path: str
    line: int | None
    source_key: str | None
    location: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        src = f" source {self.source_key!r}" if self.source_key else ""
        return f"{where}:{src} {self.location}: {self.message}"


class ConfigError(Exception):
    """``sources.yaml`` is invalid; ``issues`` says where and why."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def read_document(text: str, path: str) -> tuple[yamlsafe.Document, list[Any]]:
    """Parse with :mod:`pipeline.yamlsafe`; problems outside one source are fatal."""
    try:
        doc = yamlsafe.load(text)
    except yamlsafe.YamlProblem as exc:
        raise ConfigError([ConfigIssue(path, exc.line, None, "yaml", exc.message)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError([ConfigIssue(path, line, None, "yaml", str(exc).splitlines()[0])]) from None
    data = doc.data
    if not isinstance(data, dict):
        raise ConfigError([ConfigIssue(path, 1, None, "file", "expected a mapping with a 'sources' list")])
    listed = data.get("sources")
    raw_sources: list[Any] = listed if isinstance(listed, list) else []
    fatal = [
        ConfigIssue(path, p.line, None, ".".join(str(x) for x in p.path) or "file", p.message)
        for p in doc.problems
        if not (len(p.path) >= 2 and p.path[0] == "sources" and isinstance(p.path[1], int))
    ]
    if fatal:
        raise ConfigError(fatal)
    return doc, raw_sources


def read_sources_text(path: Path | str) -> str:
    """The file's text, or a :class:`ConfigError` naming it (missing, unreadable, not UTF-8)."""
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigIssue(str(p), None, None, "file", f"cannot read: {exc.strerror}")]) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError([ConfigIssue(str(p), None, None, "file", f"not UTF-8 text: {exc.reason}")]) from exc


def line_for(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    """The line of ``loc`` in the file, or of its nearest located parent."""
    for cut in range(len(loc), -1, -1):
        if loc[:cut] in lines:
            return lines[loc[:cut]]
    return None


def source_key_at(raw_sources: list[Any], loc: tuple[Any, ...]) -> str | None:
    """The key of the source ``loc`` points into (``#N`` when it has none), for the message."""
    if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int) and loc[1] < len(raw_sources):
        item = raw_sources[loc[1]]
        if isinstance(item, dict):
            return str(item.get("key")) if item.get("key") is not None else f"#{loc[1] + 1}"
    return None


def validation_issues(
    exc: ValidationError, prefix: tuple[Any, ...], raw_sources: list[Any], doc: yamlsafe.Document, path: str
) -> list[ConfigIssue]:
    """pydantic's errors as located issues (an unknown key is named as such)."""
    issues = []
    for err in exc.errors():
        loc = (*prefix, *err["loc"])
        location = ".".join(str(p) for p in loc) or "file"
        message = err["msg"]
        if err["type"] == "extra_forbidden":
            message = f"unknown key {loc[-1]!r}"
        issues.append(
            ConfigIssue(path, line_for(loc, doc.lines), source_key_at(raw_sources, loc), location, message)
        )
    return issues


def source_index(loc: tuple[Any, ...]) -> int | None:
    """The index of the source ``loc`` points into, if any."""
    return loc[1] if len(loc) >= 2 and loc[0] == "sources" and isinstance(loc[1], int) else None


def problem_issues(doc: yamlsafe.Document, raw_sources: list[Any], path: str) -> dict[int, list[ConfigIssue]]:
    """Duplicate/merge keys inside a source, by source index (they make that source invalid)."""
    found: dict[int, list[ConfigIssue]] = {}
    for problem in doc.problems:
        index = source_index(problem.path)
        if index is not None:
            location = ".".join(str(p) for p in problem.path)
            issue = ConfigIssue(
                path, problem.line, source_key_at(raw_sources, problem.path), location, problem.message
            )
            found.setdefault(index, []).append(issue)
    return found
