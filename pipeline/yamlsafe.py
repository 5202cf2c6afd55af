"""A YAML loader for configuration that a careless or hostile edit cannot turn into a weapon.

``yaml.safe_load`` is safe from code execution but not from exhaustion or ambiguity:

- anchors and aliases let 600 bytes expand into billions of nodes (the "billion laughs");
  walking them for line numbers took minutes and gigabytes. Config files never need them,
  so they are refused (an alias is an error naming its line);
- a duplicate mapping key silently means "last wins" (a second ``allow_private_networks:``
  would turn it on unseen): refused, naming both lines;
- size and nesting are bounded before and while parsing.

:func:`load` composes the document once and returns the data together with the line of
every mapping key and sequence item, so validation errors can name file, line and key.

libyaml (PyYAML's C parser) reads the file when it is there: a sources file of 10,000 sites
(~4 MB) takes ~3 s instead of ~15 s in pure Python, which matters because every Airflow
DAG-processor parse of a changed ``sources.yaml`` pays it. Aliases, anchors and depth are
checked on libyaml's event stream before anything is composed; a document libyaml rejects
is read again by the pure-Python loader, so error messages are the same either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from yaml.events import AliasEvent

#: Largest config file read (bytes); a source takes ~300-600 bytes, so this admits ~30,000
#: sources (10,000 sources are ~4 MB and read in ~3 s with libyaml).
MAX_BYTES = 16_000_000
#: Deepest nesting of mappings/sequences (the schema needs 4).
MAX_DEPTH = 32

Path = tuple[Any, ...]


@dataclass(frozen=True)
class YamlProblem(Exception):
    """A refused document: 1-based ``line`` (None: whole file), data ``path`` and why."""

    line: int | None
    path: Path
    message: str

    def __str__(self) -> str:
        return self.message


#: libyaml's loader, when PyYAML was built with it (the wheels are).
_CLoader: Any = getattr(yaml, "CSafeLoader", None)


class _Loader(yaml.SafeLoader):
    """SafeLoader without aliases or anchors, with a nesting limit."""

    depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(AliasEvent):
            event = self.get_event()  # type: ignore[no-untyped-call]
            raise YamlProblem(
                event.start_mark.line + 1, (), f"alias *{event.anchor} is not allowed in this file"
            )
        event = self.peek_event()  # type: ignore[no-untyped-call]
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise YamlProblem(event.start_mark.line + 1, (), f"anchor &{anchor} is not allowed in this file")
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise YamlProblem(event.start_mark.line + 1, (), f"nested deeper than {MAX_DEPTH} levels")
            node: yaml.Node | None = super().compose_node(parent, index)
            assert node is not None
            return node
        finally:
            self.depth -= 1


def _lines(node: yaml.Node, path: Path, out: dict[Path, int], problems: list[YamlProblem]) -> None:
    """Record the line of every key and item by data path; collect duplicate/odd keys."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):
                problems.append(YamlProblem(line, path, "mapping keys must be plain values"))
                continue
            key = key_node.value
            if key == "<<":
                problems.append(YamlProblem(line, path, "merge keys (<<) are not allowed"))
            elif (*path, key) in out:
                first = out[(*path, key)]
                problems.append(
                    YamlProblem(line, (*path, key), f"duplicate key {key!r} (first on line {first})")
                )
                continue
            out[(*path, key)] = line
            _lines(value_node, (*path, key), out, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            out[(*path, index)] = item.start_mark.line + 1
            _lines(item, (*path, index), out, problems)


@dataclass(frozen=True)
class Document:
    """A parsed file: its ``data``, the ``lines`` of keys/items by data path, and the
    ``problems`` (duplicate or merge keys) that make the part of it where they sit invalid."""

    data: Any
    lines: dict[Path, int]
    problems: list[YamlProblem]


def load(text: str) -> Document:
    """Parse one YAML document; raise :class:`YamlProblem` when it must not even be read.

    Aliases, anchors, size and depth are fatal (checked while composing, before anything
    expands); duplicate and merge keys are returned as ``problems`` so a caller can reject
    just the part that holds them. Syntax errors raise :class:`yaml.YAMLError` as usual.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_BYTES:
        raise YamlProblem(None, (), f"file is {size:,} bytes, more than the {MAX_BYTES:,} allowed")
    if _CLoader is not None:
        try:
            _check_events(text)
            return _load_with(_CLoader(text))
        except yaml.YAMLError:
            pass  # read again below: the pure-Python loader's message names the problem
    return _load_with(_Loader(text))


def _check_events(text: str) -> None:
    """Aliases, anchors and nesting depth, from libyaml's event stream (nothing composed yet)."""
    depth = 0
    for event in yaml.parse(text, Loader=_CLoader):
        line = event.start_mark.line + 1 if event.start_mark is not None else None
        if isinstance(event, AliasEvent):
            raise YamlProblem(line, (), f"alias *{event.anchor} is not allowed in this file")
        if isinstance(event, yaml.NodeEvent):
            if event.anchor is not None:
                raise YamlProblem(line, (), f"anchor &{event.anchor} is not allowed in this file")
            if depth + 1 > MAX_DEPTH:
                raise YamlProblem(line, (), f"nested deeper than {MAX_DEPTH} levels")
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


def _load_with(loader: Any) -> Document:
    """Compose, record the lines of keys and items, construct."""
    try:
        root = loader.get_single_node()
        if root is None:
            return Document(None, {}, [])
        lines: dict[Path, int] = {}
        problems: list[YamlProblem] = []
        _lines(root, (), lines, problems)
        return Document(loader.construct_document(root), lines, problems)
    finally:
        loader.dispose()


class _NoAliasDumper(yaml.SafeDumper):
    """PyYAML writes an anchor for every object it meets twice; :func:`load` refuses anchors."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def dump(data: Any) -> str:
    """YAML that :func:`load` accepts: safe types, no anchors or aliases (repeated values are copied)."""
    return yaml.dump(data, Dumper=_NoAliasDumper, sort_keys=False, allow_unicode=True)
