"""Run bookkeeping: source rows mirror the config; rerunning a run id replaces its raw data."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pipeline.config import parse_sources
from pipeline.db.engine import make_engine, session_scope
from pipeline.db.models import Fetch, Source
from pipeline.errors import UsageError
from pipeline.runs import get_run, new_run_id, start_run, sync_source, utcnow

CONFIG = """\
sources:
  - key: one
    name: One
    homepage: http://127.0.0.1:9/
"""


def test_rerun_resets_counters_and_fetches(db_url: str) -> None:
    engine = make_engine(db_url)
    config = parse_sources(CONFIG).get("one")
    with session_scope(engine) as s:
        source = sync_source(s, config)
        run = start_run(s, source, "r1", params={"max_pages": 3})
        run.pages_fetched = 7
        s.add(
            Fetch(
                run_id=run.id,
                source_id=source.id,
                url="http://x/",
                url_hash="h",
                fetched_at=utcnow(),
                discovery="seed",
                outcome="fetched",
            )
        )
    with session_scope(engine) as s:
        source = sync_source(s, config)
        run = start_run(s, source, "r1")
        assert run.pages_fetched == 0 and run.params == {} and run.status == "running"
        assert s.scalar(select(func.count(Fetch.id))) == 0
        assert s.scalar(select(func.count(Source.id))) == 1
    with session_scope(engine) as s:
        assert get_run(s, "r1").run_id == "r1"
        with pytest.raises(UsageError, match="no run 'nope'"):
            get_run(s, "nope")
    engine.dispose()


def test_new_run_ids_are_unique_and_readable() -> None:
    a, b = new_run_id("src"), new_run_id("src")
    assert a.startswith("src__manual__") and a != b
