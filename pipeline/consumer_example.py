"""What the example consumer DAG does with an articles Asset event (kept out of the DAG file).

A consumer trusts the event's ``extra`` for *which* run published and over which window, and
the database for *what* is there now: the articles whose latest change came from that run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from pipeline.db.engine import get_engine, session_scope
from pipeline.db.models import Article, CrawlRun


def summarise_event(extra: dict[str, Any], *, database_url: str | None = None) -> dict[str, Any]:
    """Source, window and counts of one event, plus the articles its run last touched."""
    run_id = extra.get("run_id")
    touched = 0
    with session_scope(get_engine(database_url)) as session:
        if run_id:
            touched = int(
                session.scalar(
                    select(func.count(Article.id))
                    .join(CrawlRun, CrawlRun.id == Article.run_id)
                    .where(CrawlRun.run_id == run_id)
                )
                or 0
            )
    return {
        "source": extra.get("source"),
        "run_id": run_id,
        "window": [extra.get("window_start"), extra.get("window_end")],
        "articles_new": extra.get("articles_new", 0),
        "articles_updated": extra.get("articles_updated", 0),
        "articles_touched_by_run": touched,
    }
