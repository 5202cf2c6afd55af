"""The ingest DAGs' view of ``sources.yaml``: one small spec per source, sharded, cached.

Airflow's DAG processor parses each DAG file in its own process, within
``[core] dagbag_import_timeout`` (30 s) for the import and ``[dag_processor]
dag_file_processor_timeout`` (50 s) for import plus serialisation. One DAG per source in one
file stopped fitting at ~2,500 sources, so the ingest DAGs are spread over :data:`DAG_SHARDS`
files (``dags/news_ingest.py`` and ``dags/news_ingest_01.py`` … ``_15.py``): a source
belongs to shard ``crc32(key) % DAG_SHARDS`` — stable, so adding a source never moves
another one's DAG to a different file — and each file builds only its own sources' DAGs.

Sixteen files must not mean sixteen readings of a large ``sources.yaml`` (YAML and pydantic
validation cost ~0.8 ms per source). The first file to parse a given ``sources.yaml`` has it
validated once, by a helper process (``python -m pipeline.dagspecs``, see
:func:`_validate_in_helper` for why not in the parse itself), into a cache entry keyed by the
SHA-256 of the file's text and of the code that interprets it: an index (valid keys,
skipped sources, or the whole-file error) and one JSON file of :class:`IngestSpec` per
shard. The other files wait on the entry's lock, then read only their shard: no YAML, no
pydantic. Editing
``sources.yaml`` changes the hash, so the next parse validates the new text; nothing is ever
read from a stale entry. The cache lives in ``NEWSFLOW_DAG_CACHE`` (default: a private
directory under the system temp dir; ``off`` disables it); a directory that is not private
to this user is not used.

The layout (``NEWSFLOW_DAG_LAYOUT``: ``per-source`` or ``grouped``, :mod:`pipeline.dag_groups`)
decides what a shard file builds: one DAG per source of its shard, or one DAG per schedule
group whose id hashes to it (``crc32(group id) % DAG_SHARDS``). The layout and the group size
are part of the cache key, so switching builds a new entry.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from pipeline import dag_groups
from pipeline.config_errors import ConfigError, read_sources_text

log = logging.getLogger("newsflow.dags")

#: Files the ingest DAGs are spread over (``dags/news_ingest.py`` is shard 0).
DAG_SHARDS = 16
#: Sources one DAG file is meant to hold at most. ``benchmarks/dag_parse.py`` measured ~4 ms
#: of import and ~4 ms of serialisation CPU per source DAG (2-core machine, Airflow 3.3), so
#: 1,500 sources are ~6 s of the 30 s import timeout and ~12 s of the 50 s file-processor
#: timeout: room for a machine 2-4x slower or busier. With :data:`DAG_SHARDS` files that is
#: ~24,000 sources (the hash spreads keys within a few % of even); past that, add shard
#: files (a change of ``DAG_SHARDS`` moves most DAGs to another file once).
SOURCES_PER_FILE_BUDGET = 1500
#: Bumped when the cache layout or :class:`IngestSpec` changes.
CACHE_FORMAT = 2
#: Cache entries unused for this long are removed when a new entry is written.
CACHE_MAX_AGE_SECONDS = 86400

DAGS_FOLDER = Path(__file__).resolve().parents[1] / "dags"
#: Files whose code decides what a cache entry holds (part of the entry's key).
_CODE_FILES = (
    "config.py",
    "config_errors.py",
    "yamlsafe.py",
    "dagkit.py",
    "dagspecs.py",
    "dag_groups.py",
    "sourcecache.py",
)


def shard_of(key: str) -> int:
    """The shard (DAG file) of a source key or a group DAG id: stable across runs, machines, Pythons."""
    return zlib.crc32(key.encode("utf-8")) % DAG_SHARDS


def shard_file(index: int) -> Path:
    """The DAG file of a shard."""
    return DAGS_FOLDER / ("news_ingest.py" if index == 0 else f"news_ingest_{index:02d}.py")


def dag_file_of(key: str) -> Path:
    """The DAG file that defines ``news_ingest__<key>``."""
    return shard_file(shard_of(key))


@dataclass(frozen=True)
class IngestSpec:
    """What the ingest DAG of one source needs at parse time, and nothing more."""

    key: str
    name: str
    cron: str
    timezone: str
    paused: bool
    owner: str
    tags: tuple[str, ...]
    max_pages: int
    related_depth: int
    doc_md: str
    #: The group DAG's id in the grouped layout (:func:`pipeline.dag_groups.assign_groups`), else "".
    group: str = ""

    @classmethod
    def from_source(cls, source: Any) -> IngestSpec:
        from pipeline import dagkit

        return cls(
            key=source.key,
            name=source.name,
            cron=source.schedule.cron,
            timezone=source.schedule.timezone,
            paused=source.schedule.paused,
            owner=source.owner,
            tags=tuple(source.tags),
            max_pages=source.limits.max_pages,
            related_depth=source.related.depth,
            doc_md=dagkit.ingest_doc(source),
        )

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IngestSpec:
        return cls(**{**data, "tags": tuple(data["tags"])})


@dataclass
class SourcesView:
    """``sources.yaml`` as the DAG files see it.

    ``fatal``: the whole file is unusable (no ingest DAG at all), with the message to show.
    ``keys``: the valid sources in file order; ``issues``: one line per skipped source.
    """

    fatal: str | None
    keys: list[str]
    issues: list[str]
    _shards: dict[int, list[IngestSpec]]
    _entry: Path | None = None
    #: Validates the file again when the entry cannot be read (removed meanwhile).
    _revalidate: Callable[[], SourcesView] | None = None

    def shard(self, index: int) -> list[IngestSpec]:
        """The specs of one shard, in file order (read from the cache entry on first use)."""
        if index not in self._shards:
            assert self._entry is not None
            try:
                rows = json.loads((self._entry / f"shard-{index:02d}.json").read_text(encoding="utf-8"))
            except (OSError, ValueError):
                assert self._revalidate is not None
                self._shards = self._revalidate()._shards
            else:
                self._shards[index] = [IngestSpec.from_json(row) for row in rows]
        return self._shards[index]


#: Views already read in this process, by cache key (a DagBag of the whole folder in one
#: process, as the tests and ``airflow dags report`` build it, reads the file once).
_MEMO: dict[str, SourcesView] = {}


def sources_view(path: Path) -> SourcesView:
    """The view of the sources file at ``path``: from this process, the cache, or validated now."""
    try:
        text = read_sources_text(path)
        dag_groups.layout()
        dag_groups.group_size()
    except ConfigError as exc:  # missing or unreadable: nothing to cache
        return SourcesView(_fatal_message(path, exc), [], [], {})
    except dag_groups.LayoutError as exc:
        return SourcesView(f"newsflow: no ingest DAGs built: {exc}", [], [], {})
    key = _cache_key(path, text)
    if key in _MEMO:
        return _MEMO[key]
    root = cache_root()
    view = _validate(path, text) if root is None else _cached(root, key, path, text)
    _MEMO.clear()  # one sources file per process is the rule; do not keep old ones alive
    _MEMO[key] = view
    return view


def define_shard(namespace: dict[str, Any], index: int) -> list[str]:
    """Build the ingest DAGs of shard ``index`` into a DAG file's globals; return their ids.

    Shard 0 (``news_ingest.py``) also speaks for the whole file: a ``sources.yaml`` that
    cannot be read as a whole is its one import error (the other shard files stay quiet
    rather than repeat it 15 times), and it logs each skipped source (which
    ``news_sources_errors.py`` reports as its import error). A shard without sources
    imports nothing of Airflow or the DAG code (a small deployment leaves most files empty,
    and the DAG processor parses every file every ``min_file_process_interval``).
    """
    from pipeline import dagkit

    view = sources_view(dagkit.sources_path())
    if view.fatal is not None:
        if index == 0:
            raise RuntimeError(view.fatal)
        return []
    if index == 0:
        for issue in view.issues:
            log.error("newsflow: source skipped, no DAG built: %s", issue)
    specs = view.shard(index)
    if not specs:
        return []
    asset = dagkit.articles_asset()
    built = []
    if dag_groups.layout() == dag_groups.GROUPED:
        from pipeline.group_dag import build_group_dag

        groups: dict[str, list[IngestSpec]] = {}
        for spec in specs:
            groups.setdefault(spec.group, []).append(spec)
        for group, members in groups.items():
            namespace[group] = build_group_dag(group, members, asset)
            built.append(group)
        return built
    from pipeline.ingest_dag import build_ingest_dag

    for spec in specs:
        dag_id = f"news_ingest__{spec.key}"
        namespace[dag_id] = build_ingest_dag(spec, asset)
        built.append(dag_id)
    return built


def cache_root() -> Path | None:
    """The cache directory, created private to this user; None when off or not private."""
    configured = os.environ.get("NEWSFLOW_DAG_CACHE", "")
    if configured.lower() in ("off", "0", "false", "no"):
        return None
    root = Path(configured) if configured else Path(tempfile.gettempdir()) / f"newsflow-dags-{os.getuid()}"
    try:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = root.stat()
    except OSError as exc:
        log.warning("newsflow: DAG cache %s unusable (%s); validating sources.yaml in every file", root, exc)
        return None
    if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        log.warning("newsflow: DAG cache %s is not private to this user; not used", root)
        return None
    return root


def content_key(prefix: str, code_files: tuple[str, ...], text: str) -> str:
    """A cache entry's name: ``prefix``, the reading code (``pipeline/`` files) and the text.

    Shared by the DAG cache and the tasks' sources cache (:mod:`pipeline.sourcecache`): an
    edit of the file or of the code that reads it makes a new entry, never a stale hit.
    """
    digest = hashlib.sha256(f"{prefix}\0".encode())
    here = Path(__file__).resolve().parent
    for name in code_files:
        digest.update((here / name).read_bytes())
    digest.update(b"\0")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:32]


def _cache_key(path: Path, text: str) -> str:
    layout = f"{dag_groups.layout()}:{dag_groups.group_size()}"
    return content_key(f"{CACHE_FORMAT}:{DAG_SHARDS}:{layout}:{path}", _CODE_FILES, text)


def _cached(root: Path, key: str, path: Path, text: str) -> SourcesView:
    entry = root / key
    view = _read_entry(entry)
    if view is None:
        _validate_in_helper(root, path)
        view = _read_entry(entry)
    if view is None:  # the helper failed, or sources.yaml changed meanwhile: validate here
        return _validate(path, text)
    view._revalidate = lambda: _validate(path, text)
    return view


def _validate_in_helper(root: Path, path: Path) -> None:
    """Validate ``path`` into the cache in a helper process of its own session, and wait.

    Not in this process: a DAG file's parse runs under Airflow's import timeout (30 s of
    wall time), and validating 10,000 sources takes ~8 s of CPU — more than 30 s of wall
    time on a loaded machine. Killed by the timeout, this process would lose the work and
    every next parse would start over; the helper is not subject to our timeout (nor killed
    with us), so it finishes and the next parse of any file finds the entry. Helpers of
    several files at once take turns on a lock; all but the first find the entry written.
    """
    package_root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH", "")) if p)
    env["NEWSFLOW_DAG_CACHE"] = str(root)
    try:
        helper = subprocess.Popen(
            [sys.executable, "-m", "pipeline.dagspecs", str(path)],
            env=env,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        log.warning("newsflow: could not start the sources.yaml validator (%s); validating here", exc)
        return
    helper.wait()


def _validate_into_cache(path: Path) -> int:
    """The helper's side: under the entry's lock, validate and write it unless already there."""
    root = cache_root()
    if root is None:
        return 1
    text = read_sources_text(path)
    key = _cache_key(path, text)
    entry = root / key
    with (root / f"{key}.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _read_entry(entry) is None:
                _write_entry(root, entry, _validate(path, text))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return 0


def _read_entry(entry: Path) -> SourcesView | None:
    try:
        index = json.loads((entry / "index.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if index.get("format") != CACHE_FORMAT:
        return None
    with contextlib.suppress(OSError):
        os.utime(entry)  # in use: not pruned (pruning removes entries unused for a day)
    return SourcesView(index["fatal"], index["keys"], index["issues"], {}, entry)


def _write_entry(root: Path, entry: Path, view: SourcesView) -> None:
    files: dict[str, Any] = {
        f"shard-{index:02d}.json": [asdict(spec) for spec in view.shard(index)] for index in range(DAG_SHARDS)
    }
    files["index.json"] = {
        "format": CACHE_FORMAT,
        "fatal": view.fatal,
        "keys": view.keys,
        "issues": view.issues,
    }
    write_entry(root, entry, files, what="DAG cache entry")


def write_entry(root: Path, entry: Path, files: dict[str, Any], *, what: str) -> None:
    """Write ``files`` (name -> JSON data, ``index.json`` last) as the directory ``entry``.

    Under a temporary name, then renamed: readers see all of the entry or nothing. Shared by
    the DAG cache and the tasks' sources cache (:mod:`pipeline.sourcecache`).
    """
    partial = root / f"{entry.name}.partial-{os.getpid()}"
    try:
        partial.mkdir(mode=0o700)
        for name, data in files.items():
            (partial / name).write_text(json.dumps(data), encoding="utf-8")
        os.replace(partial, entry)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if entry.is_dir():  # written meanwhile by a process that did not see our lock file
            return
        log.warning("newsflow: could not write the %s %s: %s", what, entry, exc)
        return
    prune_cache(root, keep=entry)


def prune_cache(root: Path, keep: Path) -> None:
    """Remove entries unused for a day (readers touch theirs), stale lock files and leftovers."""
    cutoff = time.time() - CACHE_MAX_AGE_SECONDS
    for child in root.iterdir():
        if child == keep:
            continue
        with contextlib.suppress(OSError):
            if child.stat().st_mtime < cutoff:
                if child.is_dir():
                    shutil.rmtree(child, ignore_errors=True)
                else:
                    child.unlink()


def _validate(path: Path, text: str) -> SourcesView:
    """Validate the whole file once (YAML, pydantic) and split it into shards of specs."""
    from pipeline.sourcecache import check_and_remember

    started = time.process_time()
    try:
        # Also the tasks' entry (pipeline.sourcecache): they then read one source each.
        checked = check_and_remember(path, text)
    except ConfigError as exc:
        return SourcesView(_fatal_message(path, exc), [], [], {i: [] for i in range(DAG_SHARDS)})
    shards: dict[int, list[IngestSpec]] = {i: [] for i in range(DAG_SHARDS)}
    sources = [source for source, _raw in checked.valid]
    issues = checked.issues
    specs = [IngestSpec.from_source(source) for source in sources]
    if dag_groups.layout() == dag_groups.GROUPED:
        for spec in dag_groups.assign_groups(specs, dag_groups.group_size()):
            shards[shard_of(spec.group)].append(spec)
    else:
        for spec in specs:
            shards[shard_of(spec.key)].append(spec)
    log.info(
        "newsflow: validated %s (%d sources, %d skipped) in %.2f s CPU",
        path,
        len(sources),
        len(issues),
        time.process_time() - started,
    )
    return SourcesView(None, [s.key for s in sources], [str(i) for i in issues], shards)


def _fatal_message(path: Path, exc: ConfigError) -> str:
    return f"newsflow: {path} is invalid, no ingest DAGs built:\n{exc}"


if __name__ == "__main__":  # the validator helper: python -m pipeline.dagspecs <sources.yaml>
    try:
        sys.exit(_validate_into_cache(Path(sys.argv[1])))
    except ConfigError:
        sys.exit(1)  # unreadable meanwhile: the DAG file reports it
