"""Migration 0005: the reader's documented views and the re-indexing of stored articles.

- On PostgreSQL every column of every ``news_`` view carries a ``COMMENT`` (the docs are
  complete, not just present) and ``newsflow_reader`` reads all five views, still not a table.
- Articles stored before 0005 (English-only index) are re-indexed in their own language by
  the upgrade: a Russian inflection the text does not contain and a CJK word find them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import ProgrammingError

from pipeline.db import migrate
from pipeline.db.engine import dispose_engines, make_engine
from pipeline.db.reader_views import VIEW_DOCS
from pipeline.search import search
from pipeline.stages.load import load
from tests.conftest import create_pg_database, drop_pg_database
from tests.loadkit import add_record, article, make_run, make_source

RUSSIAN = (
    "Губернатор Белгородской области объявил режим контртеррористической операции.\n\n"
    "По словам губернатора, ситуация в приграничных сёлах остаётся крайне напряжённой."
)
CHINESE = "港口灯笼节周六晚在旧海关大楼前开幕，吸引了数万名游客。\n\n码头夜景和灯笼相映成趣。"


def test_every_view_column_is_commented_and_readable_by_the_reader(pg_url: str) -> None:
    engine = make_engine(pg_url)
    with engine.connect() as conn:
        columns = conn.execute(
            text(
                "SELECT c.table_name, c.column_name, col_description(format('%I', c.table_name)::regclass, "
                "c.ordinal_position) FROM information_schema.columns c "
                "WHERE c.table_schema = 'public' AND c.table_name LIKE 'news\\_%'"
            )
        ).all()
        views = {row[0] for row in columns}
        assert views == set(VIEW_DOCS)
        missing = [(view, column) for view, column, comment in columns if not comment]
        assert not missing, missing
        for view in views:
            comment = conn.execute(text("SELECT obj_description(CAST(:v AS regclass))"), {"v": view}).scalar()
            assert comment == VIEW_DOCS[view][0]
            conn.execute(text("SET ROLE newsflow_reader"))
            conn.execute(text(f"SELECT * FROM {view} LIMIT 1")).all()
            conn.execute(text("RESET ROLE"))
    with engine.connect() as conn:
        conn.execute(text("SET ROLE newsflow_reader"))
        with pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text("SELECT count(*) FROM article_versions"))  # a table, not a view
    engine.dispose()


def _store_at_0004(url: str) -> None:
    migrate.upgrade(url, "0004")
    engine = make_engine(url)
    source = make_source(engine, "ledger", 8702)
    run = make_run(engine, source, "r1")
    add_record(engine, run, source, article("http://127.0.0.1:8702/ru", RUSSIAN, language="ru"))
    add_record(engine, run, source, article("http://127.0.0.1:8702/zh", CHINESE, language="zh"))
    load("r1", database_url=url)
    engine.dispose()


def _found(url: str, query: str) -> list[str]:
    return [hit.url.rsplit("/", 1)[-1] for hit in search(query, database_url=url)]


def _check_upgrade_reindexes(url: str) -> None:
    _store_at_0004(url)
    migrate.upgrade(url)
    dispose_engines()
    assert _found(url, "губернатором") == ["ru"]
    assert _found(url, "губернатору") == ["ru"]
    assert _found(url, "губернатор -операции") == []  # exclusion in the article's own language
    assert _found(url, "灯笼节") == ["zh"]
    assert _found(url, "夜景") == ["zh"]
    assert _found(url, "海关大楼 -游客") == []


def test_upgrade_reindexes_stored_articles_sqlite(tmp_path: Path) -> None:
    _check_upgrade_reindexes(f"sqlite:///{tmp_path}/old.db")


def test_upgrade_reindexes_stored_articles_postgresql() -> None:
    url = create_pg_database()
    try:
        _check_upgrade_reindexes(url)
    finally:
        drop_pg_database(url)
