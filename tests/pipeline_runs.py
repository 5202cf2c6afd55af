"""Run the real stages (crawl -> extract -> load -> check) at a simulated time, for the tests.

The same stage functions the CLI and the DAGs call; time moves through ``NEWSFLOW_NOW``
(read by the crawler subprocess too), so a test can replay hours or days of a site.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from pipeline.db.models import CrawlRun, Fetch
from pipeline.quality import QualityGateFailed
from pipeline.stages.check import CheckResult, check
from pipeline.stages.crawl import CrawlResult, crawl
from pipeline.stages.extract import extract
from pipeline.stages.load import load


@dataclass
class RunOutcome:
    crawled: CrawlResult
    checked: CheckResult | None
    failure: QualityGateFailed | None

    @property
    def passed(self) -> bool:
        return self.checked is not None and self.checked.passed


def run_at(
    monkeypatch: pytest.MonkeyPatch,
    now: datetime,
    run_id: str,
    *,
    sources: Path,
    db_url: str,
    source: str = "mini",
    backfill: bool = False,
    window: tuple[datetime | None, datetime | None] = (None, None),
) -> RunOutcome:
    """One run of ``source`` at ``now``: every stage, the gate's verdict captured, not raised."""
    monkeypatch.setenv("NEWSFLOW_NOW", now.isoformat())
    crawled = crawl(
        source, run_id, sources_path=sources, database_url=db_url, backfill=backfill, window=window
    )
    assert crawled.status == "succeeded", crawled
    extract(run_id, workers=0, database_url=db_url, sources_path=sources)
    load(run_id, database_url=db_url)
    try:
        return RunOutcome(crawled, check(run_id, database_url=db_url, sources_path=sources), None)
    except QualityGateFailed as failure:
        return RunOutcome(crawled, None, failure)


def fetches(db_url: str, run_id: str) -> list[Fetch]:
    engine = create_engine(db_url)
    with Session(engine) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one()
        rows = list(session.scalars(select(Fetch).where(Fetch.run_id == run.id).order_by(Fetch.id)))
    engine.dispose()
    return rows


def run_row(db_url: str, run_id: str) -> CrawlRun:
    engine = create_engine(db_url)
    with Session(engine) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one()
        session.expunge(run)
    engine.dispose()
    return run
