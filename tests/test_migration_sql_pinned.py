"""The SQL that past migrations build from app code is pinned, so nobody rewrites history by accident.

Migrations 0003-0005 build the consumer views, their ``COMMENT ON`` texts and the PostgreSQL
search functions from ``pipeline.db.views``, ``pipeline.db.reader_views`` and
``pipeline.textsearch`` (one definition instead of a copy per migration). The price: editing
one of those functions silently changes what an *old* migration creates. A fresh database
would then differ from an upgraded one, and an old migration could reference a column that
only a later one adds. These digests make such an edit fail here, with the way out: keep the
old shape behind a parameter (as ``with_removal``/``with_v2`` do) and write a new migration
that recreates the view or function.
"""

from __future__ import annotations

import hashlib

import pytest

from pipeline.db.reader_views import VIEW_DOCS, comment_statements, reader_views
from pipeline.db.views import news_articles_view
from pipeline.textsearch import pg_cjk_function_sql, pg_config_function_sql

HOW_TO_CHANGE = (
    "the SQL a past migration creates changed; keep the old shape behind a parameter and add a "
    "migration that recreates it (see this module's docstring)"
)


def digest(sql: str) -> str:
    return hashlib.sha256(sql.encode()).hexdigest()[:16]


@pytest.mark.parametrize(
    ("dialect", "with_removal", "with_v2", "expected"),
    [
        ("postgresql", False, False, "891998e9b770f792"),  # 0003 downgrade
        ("postgresql", True, False, "d035e79abd4f588c"),  # 0003 upgrade, 0004 downgrade
        ("postgresql", True, True, "cb2b5843af384671"),  # 0004 upgrade
        ("sqlite", False, False, "6c604eef84417ebd"),
        ("sqlite", True, False, "56b87cc3d3c64df7"),
        ("sqlite", True, True, "c360e3376ffa1fa6"),
    ],
)
def test_news_articles_view_shapes_are_pinned(
    dialect: str, with_removal: bool, with_v2: bool, expected: str
) -> None:
    sql = news_articles_view(dialect, with_removal=with_removal, with_v2=with_v2)
    assert digest(sql) == expected, HOW_TO_CHANGE


@pytest.mark.parametrize(
    ("dialect", "expected"), [("postgresql", "a71239d3e137a913"), ("sqlite", "2664e64fb4b19fcb")]
)
def test_reader_views_of_0005_are_pinned(dialect: str, expected: str) -> None:
    assert digest(repr(sorted(reader_views(dialect).items()))) == expected, HOW_TO_CHANGE


def test_view_comments_of_0005_are_pinned() -> None:
    statements = [comment_statements(view) for view in sorted(VIEW_DOCS)]
    assert digest(repr(statements)) == "b88908dea0b0017e", HOW_TO_CHANGE


def test_search_functions_of_0005_are_pinned() -> None:
    assert digest(pg_config_function_sql()) == "52ba12c86f88ce2d", HOW_TO_CHANGE
    assert digest(pg_cjk_function_sql()) == "35e7c0e19f86ad06", HOW_TO_CHANGE


def test_a_changed_view_is_caught() -> None:
    """The guard can fail: one added column changes the digest."""
    sql = news_articles_view("sqlite", with_removal=True, with_v2=True)
    assert digest(sql.replace("a.language,", "a.language, a.section AS extra,")) != "c360e3376ffa1fa6"
