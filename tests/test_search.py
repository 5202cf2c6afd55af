"""The consumer interface on both backends: the view, full-text search, export, reader role."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, ProgrammingError

from pipeline.db.engine import make_engine
from pipeline.search import parse_since, search, to_fts5
from pipeline.stages.load import load
from tests.loadkit import SEED, T0, add_record, article, make_run

ROOT = Path(__file__).resolve().parents[1]


def test_phrase_from_the_seed_story_ranks_it_first(loaded: str) -> None:
    for query in ("floating tidal barrier", '"rise with each spring tide"', "flooding quay barrier"):
        hits = search(query, database_url=loaded)
        assert hits, query
        assert hits[0].url == "http://127.0.0.1:8701/seed", (query, hits)
        assert "**" in hits[0].snippet
    # The syndicated copy is collapsed into the seed's cluster unless all copies are asked for.
    urls = [h.url for h in search("tidal barrier", database_url=loaded)]
    assert "http://127.0.0.1:8702/copy" not in urls
    copies = [h.url for h in search("tidal barrier", all_copies=True, database_url=loaded)]
    assert {"http://127.0.0.1:8701/seed", "http://127.0.0.1:8702/copy"} <= set(copies)


def test_filters_exclusions_and_odd_queries(loaded: str) -> None:
    assert [h.source_key for h in search("barrier", source="ledger", database_url=loaded)] == ["ledger"]
    recent = search("barrier quay", since=T0 - timedelta(days=2), all_copies=True, database_url=loaded)
    assert "http://127.0.0.1:8701/old" not in {h.url for h in recent}
    assert "http://127.0.0.1:8701/old" in {h.url for h in search("red tape", database_url=loaded)}
    excluded = search("barrier -tidal", all_copies=True, database_url=loaded)
    assert [h.url for h in excluded] == ["http://127.0.0.1:8701/old"]
    for odd in ('"unbalanced', "AND OR NOT (", "-only", "   ", "***"):
        search(odd, database_url=loaded)  # never a syntax error
    assert search("zebra crossing xylophone", database_url=loaded) == []
    assert len(search("barrier", limit=1, database_url=loaded)) == 1


def test_search_index_follows_updates(loaded: str) -> None:
    engine = make_engine(loaded)
    with engine.begin() as conn:
        run = conn.execute(text("SELECT id, source_id FROM crawl_runs WHERE run_id = 'r1'")).one()
    r3 = make_run(engine, run.source_id, "r3")
    add_record(
        engine,
        r3,
        run.source_id,
        article("http://127.0.0.1:8701/seed", SEED.replace("floating", "submersible")),
        fetched_at=T0 + timedelta(hours=2),
    )
    load("r3", database_url=loaded)
    assert search("submersible", database_url=loaded)[0].url == "http://127.0.0.1:8701/seed"
    assert "http://127.0.0.1:8701/seed" not in {
        h.url for h in search("floating", all_copies=True, database_url=loaded)
    }
    engine.dispose()


def test_view_has_clean_types_and_provenance(loaded: str) -> None:
    engine = make_engine(loaded)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT * FROM news_articles ORDER BY article_id")).mappings().all()
    engine.dispose()
    assert len(rows) == 4
    seed = next(r for r in rows if r["url"].endswith("/seed"))
    copy = next(r for r in rows if r["url"].endswith("/copy"))
    assert seed["cluster_id"] == copy["cluster_id"] == seed["article_id"]
    assert seed["source_key"] == "capital" and seed["run_id"] == "r1" and seed["warc_path"]
    published = seed["published_at"]
    if loaded.startswith("sqlite"):
        assert published == "2026-05-01T11:00:00.000Z" and json.loads(seed["authors"]) == []
    else:
        assert published == datetime(2026, 5, 1, 11, tzinfo=UTC) and seed["authors"] == []


def test_cli_search_and_articles_export(loaded: str) -> None:
    env = {"NEWSFLOW_DATABASE_URL": loaded, "PATH": "/usr/bin:/bin"}
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "search", "tidal barrier", "--jsonl", "--limit", "5"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    hits = [json.loads(line) for line in out.splitlines()]
    assert hits[0]["url"] == "http://127.0.0.1:8701/seed" and hits[0]["source_key"] == "capital"
    out = subprocess.run(
        [sys.executable, "-m", "pipeline", "articles", "--since", "2026-04-30", "--jsonl"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rows = [json.loads(line) for line in out.splitlines()]
    assert {r["url"].rsplit("/", 1)[-1] for r in rows} == {"seed", "copy", "other"}
    assert all(r["published_at"].endswith("Z") and isinstance(r["authors"], list) for r in rows)
    bad = subprocess.run(
        [sys.executable, "-m", "pipeline", "articles", "--since", "last tuesday"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "--since" in bad.stderr


def test_reader_role_can_select_the_view_and_nothing_else(pg_url: str) -> None:
    engine = make_engine(pg_url)
    with engine.begin() as conn:
        conn.execute(text("SET ROLE newsflow_reader"))
        assert conn.execute(text("SELECT count(*) FROM news_articles")).scalar_one() == 0
        conn.execute(text("RESET ROLE"))
    for statement in (
        "INSERT INTO news_articles (article_id) VALUES (1)",
        "UPDATE news_articles SET title = 'x'",
        "DELETE FROM news_articles",
    ):
        with engine.connect() as conn, pytest.raises(DBAPIError):
            conn.execute(text("SET ROLE newsflow_reader"))
            conn.execute(text(statement))
    statements = [
        "SELECT count(*) FROM articles",
        "UPDATE articles SET title = 'x'",
        "DELETE FROM article_versions",
        "INSERT INTO sources (key, name, homepage, config_hash, created_at, updated_at) "
        "VALUES ('k', 'n', 'h', 'c', now(), now())",
        "DELETE FROM crawl_runs",
        "CREATE TABLE reader_scratch (x int)",
    ]
    for statement in statements:
        with engine.connect() as conn, pytest.raises(ProgrammingError, match="permission denied"):
            conn.execute(text("SET ROLE newsflow_reader"))
            conn.execute(text(statement))
    with engine.connect() as conn:
        can_login = conn.execute(
            text("SELECT rolcanlogin FROM pg_roles WHERE rolname = 'newsflow_reader'")
        ).scalar_one()
    assert can_login is False
    engine.dispose()


def test_query_helpers() -> None:
    assert to_fts5('tidal "spring tide" or flood -quay') == '("tidal" "spring tide" OR "flood") NOT "quay"'
    assert to_fts5("-only") is None and to_fts5("or") is None
    now = datetime(2026, 5, 10, tzinfo=UTC)
    assert parse_since("7d", now) == datetime(2026, 5, 3, tzinfo=UTC)
    assert parse_since("2026-05-01") == datetime(2026, 5, 1, tzinfo=UTC)
    assert parse_since(None) is None
