"""One source's configuration for a task, without validating all of ``sources.yaml`` each time.

Every ingest task needs the configuration of one source: the crawl stage and the crawler
subprocess it starts, extract, check, re-extract. Validating the whole file costs ~0.8 ms
of CPU per source, most of it composing the YAML with line numbers (libyaml), so ~8 s per
task at 10,000 sources — twice per crawl — paid by every task of every run.

Instead the file is validated once per edit into an entry of the DAG cache directory
(:func:`pipeline.dagspecs.cache_root`, ``NEWSFLOW_DAG_CACHE``), keyed by the SHA-256 of the
file's path and text and of the code that reads it: the raw data of each valid source in
one of :data:`BUCKETS` files by key hash, and the located issues by source key. A task
hashes the file (~10 ms at 10,000 sources), reads its source's bucket and validates that
one source with pydantic. Editing the file changes the hash: nothing is read from a stale
entry. The entry is written by the DAG processor's validator (it has just validated the
file: :func:`check_and_remember`), else by the first task that misses it, under a lock
(tasks that miss it at the same time wait, then read it). With the cache off (or not
private, or not writable) a task reads the YAML once and validates only its own source
(``check_sources(only_key=…)``): no pydantic for the others, but the YAML cost stays.

A bad entry is reported where it matters, as before: a task of a source with an issue
fails with :class:`ConfigError` naming file, line and key (the verdict of the whole-file
validation for that source, duplicates included); a file that cannot be read as a whole
fails every task. A task of another, valid source runs — as its DAG loads (README,
"sources.yaml"). ``newsflow sources check`` and the DAG processor still validate the
whole file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import zlib
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.config_errors import ConfigError, ConfigIssue, read_sources_text

if TYPE_CHECKING:
    from pipeline.config import CheckedSources, Source

log = logging.getLogger("newsflow.config")

#: Bucket files per entry: 10,000 sources are ~160 per bucket, a few ms of JSON to read.
BUCKETS = 64
#: Bumped when the entry layout changes.
FORMAT = 1
#: Files whose code decides which sources are valid (part of the entry's key).
_CODE_FILES = ("config.py", "config_errors.py", "yamlsafe.py", "sourcecache.py")


def load_source(key: str, path: Path | str | None = None) -> Source:
    """The validated configuration of source ``key`` in the sources file (default ``NEWSFLOW_SOURCES``).

    Raises :class:`ConfigError` when that source (or the file as a whole) is invalid, and
    ``KeyError`` when the file has no source ``key``, as ``load_sources(path).get(key)``
    did — but without validating the other sources.
    """
    path, text, root, entry = _open(path)
    if root is not None and entry is not None:
        found = _lookup(entry, key)
        if found is None:
            _fill(root, entry, path, text)
            found = _lookup(entry, key)
        if found is not None:
            return _answer(found, key, path)
    from pipeline.config import check_sources

    checked = check_sources(text, str(path), only_key=key)
    if checked.issues:
        raise ConfigError(checked.issues)
    if not checked.valid:
        raise KeyError(_unknown(key, path))
    return checked.valid[0][0]


def load_valid_sources(path: Path | str | None = None) -> list[Source]:
    """Every valid source of the file, in file order, from the entry (pydantic only, no YAML).

    For the crawler's scope, which needs the other sources' domains and URL rules: ~0.8 s
    of CPU at 10,000 sources instead of ~8 s. A source with an issue is left out, as its DAG
    is; a file unusable as a whole raises :class:`ConfigError`.
    """
    from pipeline.config import Source, check_sources

    path, text, root, entry = _open(path)
    if root is not None and entry is not None:
        if not (entry / "index.json").is_file():
            _fill(root, entry, path, text)
        rows = _all_rows(entry)
        if rows is not None:
            return [Source.model_validate(raw) for raw in rows]
    return [source for source, _raw in check_sources(text, str(path)).valid]


def _all_rows(entry: Path) -> list[dict[str, Any]] | None:
    """The raw data of every valid source in file order; None: no usable entry."""
    try:
        index = json.loads((entry / "index.json").read_text(encoding="utf-8"))
        if index.get("format") != FORMAT:
            return None
        if index.get("fatal"):
            raise ConfigError([ConfigIssue(**issue) for issue in index["fatal"]])
        order = json.loads((entry / "order.json").read_text(encoding="utf-8"))
        rows: dict[str, Any] = {}
        for number in range(BUCKETS):
            rows.update(json.loads((entry / f"bucket-{number:02d}.json").read_text(encoding="utf-8")))
        return [rows[key] for key in order]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def check_and_remember(path: Path, text: str) -> CheckedSources:
    """Validate the whole file (:func:`pipeline.config.check_sources`) and cache the verdict for tasks.

    The DAG processor's validator calls this: the tasks of the sources it builds DAGs for
    then find the entry written. Raises :class:`ConfigError` for a file unusable as a whole
    (cached too: every task of it fails the same way without reading it again).
    """
    from pipeline.config import check_sources
    from pipeline.dagspecs import cache_root

    root = cache_root()
    try:
        checked = check_sources(text, str(path))
    except ConfigError as exc:
        if root is not None:
            _write(root, root / f"config-{_entry_key(path, text)}", {"fatal": _dicts(exc.issues)}, {}, [])
        raise
    if root is not None:
        _store(root, root / f"config-{_entry_key(path, text)}", checked)
    return checked


def _open(path: Path | str | None) -> tuple[Path, str, Path | None, Path | None]:
    """The sources file (default ``NEWSFLOW_SOURCES``), its text, the cache root and its entry."""
    from pipeline.dagspecs import cache_root

    if path is None:
        from pipeline.settings import get_settings

        path = get_settings().sources
    path = Path(path)
    text = read_sources_text(path)
    root = cache_root()
    entry = root / f"config-{_entry_key(path, text)}" if root is not None else None
    return path, text, root, entry


def _entry_key(path: Path, text: str) -> str:
    from pipeline.dagspecs import content_key

    # The resolved path: the crawl stage hands its subprocess ``path.resolve()``.
    return content_key(f"{FORMAT}:{BUCKETS}:{path.resolve()}", _CODE_FILES, text)


def _bucket(key: str) -> int:
    return zlib.crc32(key.encode("utf-8")) % BUCKETS


def _lookup(entry: Path, key: str) -> dict[str, Any] | None:
    """What the entry says about ``key`` (``fatal`` / ``issues`` / ``raw`` / ``count``); None: no entry."""
    try:
        index = json.loads((entry / "index.json").read_text(encoding="utf-8"))
        if index.get("format") != FORMAT:
            return None
        if index.get("fatal"):
            return {"fatal": index["fatal"]}
        if key in index["issues"]:
            return {"issues": index["issues"][key]}
        bucket = json.loads((entry / f"bucket-{_bucket(key):02d}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    with contextlib.suppress(OSError):
        os.utime(entry)  # in use: not pruned
    return {"raw": bucket.get(key), "count": index.get("count", 0)}


def _answer(found: dict[str, Any], key: str, path: Path) -> Source:
    from pydantic import ValidationError

    from pipeline.config import Source

    if "fatal" in found or "issues" in found:
        raise ConfigError([ConfigIssue(**issue) for issue in found.get("fatal") or found["issues"]])
    if found["raw"] is None:
        raise KeyError(_unknown(key, path, found["count"]))
    try:
        return Source.model_validate(found["raw"])
    except ValidationError as exc:  # cannot happen with the code that wrote it (part of the key)
        raise ConfigError([ConfigIssue(str(path), None, key, "source", str(exc))]) from None


def _unknown(key: str, path: Path, count: int | None = None) -> str:
    sources = f" ({count:,} sources; `newsflow sources check` lists them)" if count else ""
    return f"no source {key!r} in the sources file {path}{sources}"


def _fill(root: Path, entry: Path, path: Path, text: str) -> None:
    """A task's miss: validate the whole file into the entry once, under the entry's lock."""
    try:
        with (root / f"{entry.name}.lock").open("a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if not (entry / "index.json").is_file():
                    check_and_remember(path, text)
            except ConfigError:
                pass  # cached as fatal; the lookup reads it
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
    except OSError as exc:
        log.warning("newsflow: could not cache the sources file for tasks (%s)", exc)


def _store(root: Path, entry: Path, checked: CheckedSources) -> None:
    buckets: dict[int, dict[str, Any]] = {i: {} for i in range(BUCKETS)}
    for source, raw in checked.valid:
        # The raw data is what the whole-file pass validated; a value JSON cannot carry as
        # is (a YAML date, say) is replaced by pydantic's JSON dump, which validates the same.
        try:
            kept = raw if json.loads(json.dumps(raw)) == raw else None
        except (TypeError, ValueError):
            kept = None
        buckets[_bucket(source.key)][source.key] = kept or source.model_dump(mode="json")
    issues: dict[str, list[dict[str, Any]]] = {}
    for issue in checked.issues:
        if issue.source_key is not None:
            issues.setdefault(issue.source_key, []).append(asdict(issue))
    index = {"fatal": None, "issues": issues, "count": len(checked.valid)}
    _write(root, entry, index, buckets, [source.key for source, _raw in checked.valid])


def _write(
    root: Path, entry: Path, index: dict[str, Any], buckets: dict[int, dict[str, Any]], order: list[str]
) -> None:
    if (entry / "index.json").is_file():
        return
    from pipeline.dagspecs import write_entry

    files: dict[str, Any] = {f"bucket-{number:02d}.json": rows for number, rows in buckets.items()}
    files["order.json"] = order
    files["index.json"] = {"format": FORMAT, **index}
    write_entry(root, entry, files, what="sources cache entry")


def _dicts(issues: list[ConfigIssue]) -> list[dict[str, Any]]:
    return [asdict(issue) for issue in issues]
