"""Per-source pause and resume, kept in the news database (``source_pauses``).

In the per-source DAG layout a source is paused the Airflow way, by pausing its DAG. In the
grouped layout (:mod:`pipeline.dag_groups`) one DAG runs hundreds of sources, so pausing it
would pause them all: a source is paused here instead (``newsflow sources pause <key>``), and
the group DAG leaves it out of its runs (``select`` task) and skips it should it be paused
between selection and crawl (the ``crawl`` task of either layout checks). Keeping the state
in the news database rather than in Airflow means it survives a source moving to another
group DAG, and ``newsflow status`` shows it without Airflow.

The effective state of a source: its ``source_pauses`` row when an operator set one, else
``schedule.paused`` from ``sources.yaml`` (the grouped layout's reading of that flag; in the
per-source layout it only pauses a newly created DAG, as before).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, inspect, select

from pipeline import clock
from pipeline.db.engine import session_scope
from pipeline.db.models import SourcePause


@dataclass(frozen=True)
class PauseState:
    """An operator's decision about one source."""

    key: str
    paused: bool
    reason: str | None
    changed_at: datetime


def table_exists(connection: Any) -> bool:
    """Whether the database has ``source_pauses`` (migration 0006).

    A database not yet upgraded has no operator state: nothing is paused there but what
    ``sources.yaml`` says (``newsflow sources pause`` upgrades the database before writing),
    and readers such as ``newsflow status`` never migrate.
    """
    return bool(inspect(connection).has_table(SourcePause.__tablename__))


def overrides(engine: Engine, keys: Iterable[str] | None = None) -> dict[str, PauseState]:
    """The operator-set states, by key (all of them, or those of ``keys``)."""
    with engine.connect() as connection:
        if not table_exists(connection):
            return {}
    query = select(SourcePause)
    if keys is not None:
        query = query.where(SourcePause.key.in_(list(keys)))
    with session_scope(engine) as session:
        return {
            row.key: PauseState(row.key, row.paused, row.reason, row.changed_at)
            for row in session.scalars(query)
        }


def paused_keys(engine: Engine, keys: Collection[str], paused_in_config: Collection[str]) -> set[str]:
    """Which of ``keys`` are paused: an operator's state first, else ``sources.yaml``'s flag."""
    found = overrides(engine, keys)
    return {key for key in keys if (found[key].paused if key in found else key in paused_in_config)}


def set_paused(engine: Engine, key: str, paused: bool, reason: str | None = None) -> PauseState:
    """Pause or resume ``key`` (idempotent; the reason and time are replaced)."""
    now = clock.now()
    with session_scope(engine) as session:
        row = session.get(SourcePause, key)
        if row is None:
            session.add(SourcePause(key=key, paused=paused, reason=reason, changed_at=now))
        else:
            row.paused, row.reason, row.changed_at = paused, reason, now
    return PauseState(key, paused, reason, now)


def pause_source(
    key: str, paused: bool, reason: str | None = None, database_url: str | None = None
) -> PauseState:
    """Pause or resume the configured source ``key`` (what ``newsflow sources pause|resume`` runs).

    An unknown key is a usage error (a typo must not pause nothing quietly); the database is
    upgraded first, as other writing commands do, so 0006's table exists.
    """
    from pipeline import dagkit
    from pipeline.dagspecs import sources_view
    from pipeline.db import migrate
    from pipeline.db.engine import get_engine
    from pipeline.db.readonly import resolve_url
    from pipeline.errors import UsageError

    view = sources_view(dagkit.sources_path())
    if view.fatal is None and key not in view.keys:
        raise UsageError(f"unknown source {key!r} (not in {dagkit.sources_path()})")
    url = resolve_url(database_url)
    migrate.upgrade(url)
    return set_paused(get_engine(url), key, paused, reason)
