"""The grouped DAG layout: which sources share an ingest DAG, and what that DAG is called.

One DAG per source costs Airflow ~4.5 ms of parse CPU per source at best (five tasks,
serialised): 10,000 sources are ~45 s of CPU per parse cycle before any newsflow code, more
than two cores give in 30 s. In the grouped layout (``NEWSFLOW_DAG_LAYOUT=grouped``) the
sources that share a schedule — the same cron expression in the same timezone, so the same
data interval for every run — share one DAG, whose per-source chain runs as mapped task
instances (:mod:`pipeline.group_dag`). A schedule group larger than ``NEWSFLOW_DAG_GROUP_SIZE``
(default 500, at most Airflow's ``[core] max_map_length`` of 1024) is split into
``ceil(n / size)`` DAGs by a hash of the source key, so a parse costs per *group*, and a
source only changes DAG when its group's count crosses a multiple of the size. Nothing is
lost when it does: runs, pause state and history are per source in the news database.

No Airflow, no pydantic here: the DAG files' parse and the validator helper both use it.
"""

from __future__ import annotations

import math
import os
import re
import zlib
from collections.abc import Collection, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from pipeline.errors import UsageError

if TYPE_CHECKING:
    from pipeline.dagspecs import IngestSpec

PER_SOURCE = "per-source"
GROUPED = "grouped"
LAYOUTS = (PER_SOURCE, GROUPED)
#: DAG id prefix of the group DAGs (``news_ingest__`` stays the per-source DAGs' own).
GROUP_PREFIX = "news_ingest_group__"
DEFAULT_GROUP_SIZE = 500
#: Airflow's default ``[core] max_map_length``: a mapped task cannot expand to more.
MAX_GROUP_SIZE = 1024


class LayoutError(ValueError):
    """``NEWSFLOW_DAG_LAYOUT`` or ``NEWSFLOW_DAG_GROUP_SIZE`` holds a value we do not know."""


def layout() -> str:
    """The configured layout (``NEWSFLOW_DAG_LAYOUT``), ``per-source`` when unset."""
    value = (os.environ.get("NEWSFLOW_DAG_LAYOUT") or PER_SOURCE).strip().lower().replace("_", "-")
    if value not in LAYOUTS:
        raise LayoutError(f"NEWSFLOW_DAG_LAYOUT={value!r} is not one of {', '.join(LAYOUTS)}")
    return value


def group_size() -> int:
    """Sources per group DAG at most (``NEWSFLOW_DAG_GROUP_SIZE``)."""
    raw = os.environ.get("NEWSFLOW_DAG_GROUP_SIZE") or str(DEFAULT_GROUP_SIZE)
    try:
        size = int(raw)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_GROUP_SIZE:
        raise LayoutError(f"NEWSFLOW_DAG_GROUP_SIZE={raw!r} must be an integer from 1 to {MAX_GROUP_SIZE}")
    return size


def schedule_slug(cron: str, timezone: str) -> str:
    """A DAG-id-safe, readable name of a schedule: ``europe.london__0_x_x_x_x`` for ``0 * * * *``."""
    tz = re.sub(r"[^a-z0-9_.-]", "-", timezone.lower().replace("/", ".").replace("+", "plus"))
    expression = cron.strip().lower().replace("*", "x").replace("/", ".").replace(" ", "_")
    return f"{tz}__{re.sub(r'[^a-z0-9_.-]', '-', expression.lstrip('@'))}"


def assign_groups(specs: Sequence[IngestSpec], size: int) -> list[IngestSpec]:
    """The specs, in file order, each with its group DAG id set (``spec.group``)."""
    by_schedule: dict[tuple[str, str], list[IngestSpec]] = {}
    for spec in specs:
        by_schedule.setdefault((spec.cron, spec.timezone), []).append(spec)
    slugs: dict[str, list[tuple[str, str]]] = {}
    for schedule in by_schedule:
        slugs.setdefault(schedule_slug(*schedule), []).append(schedule)
    group_of: dict[str, str] = {}
    for slug, schedules in slugs.items():
        for cron, timezone in schedules:
            # Two schedules with one slug (lossy punctuation): both get a hash of the exact text.
            name = slug if len(schedules) == 1 else f"{slug}__{_crc(cron + chr(0) + timezone):08x}"
            members = by_schedule[(cron, timezone)]
            chunks = _chunks(members, size)
            for spec in members:
                chunk = _crc(spec.key) % chunks
                group_of[spec.key] = f"{GROUP_PREFIX}{name}__{chunk + 1}of{chunks}"
    return [replace(spec, group=group_of[spec.key]) for spec in specs]


def _chunks(members: Sequence[IngestSpec], size: int) -> int:
    """DAGs a schedule group is split into: the fewest whose hash buckets all hold <= size."""
    chunks = max(1, math.ceil(len(members) / size))
    while True:
        counts = [0] * chunks
        for spec in members:
            counts[_crc(spec.key) % chunks] += 1
        if max(counts) <= size or chunks >= 4 * len(members):  # the latter: a crc32 collision
            return chunks
        chunks += 1


def _crc(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def select_sources(
    keys: Sequence[str], requested: Sequence[str] | None, paused: Collection[str]
) -> tuple[list[str], list[str]]:
    """The sources a group DAG run crawls, and those it leaves out because they are paused.

    ``requested``: the run's ``sources`` Param (None or empty: every source of the group).
    A key that is not in the group is refused (the Param's enum refuses it at trigger time;
    this holds for a DAG serialised before the key left the group). A paused source is left
    out even when requested: pausing means no crawl, as a paused Airflow DAG does not run.
    """
    if requested:
        members = set(keys)
        unknown = [key for key in requested if key not in members]
        if unknown:
            raise UsageError(f"not sources of this group DAG: {', '.join(unknown)}")
        wanted = set(requested)
        keys = [key for key in keys if key in wanted]
    return [k for k in keys if k not in paused], [k for k in keys if k in paused]


def group_title(group: str) -> str:
    """``1of4`` → ``part 1 of 4``, for display names."""
    part = group.rsplit("__", 1)[-1]
    this, _, total = part.partition("of")
    return "" if total == "1" else f" (part {this} of {total})"
