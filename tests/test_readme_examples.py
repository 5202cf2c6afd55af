"""Every README consumer example returns rows on the demo data, on both backends.

The demo network's stories (both editions: new stories, one changed story, the syndicated
pair, related links) are loaded as a perfect extraction would store them, one story is purged
as the README shows, then each SQL example runs as a consumer would run it: on PostgreSQL as
the ``newsflow_reader`` role, on SQLite through the plain ``sqlite3`` module (no newsflow code
on the connection). The CLI examples run as subprocesses, on PostgreSQL as the reader role.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from pipeline.db.engine import make_engine
from pipeline.demo_site import DemoNetwork
from pipeline.stages.purge import purge
from tests.readme_examples import CLI_EXAMPLES, PURGE_PATH, SQL_EXAMPLES
from tests.test_load_demo import load_edition

ROOT = Path(__file__).resolve().parents[1]


def reader_url(db_url: str) -> str:
    """The same database, every session switched to the reader role (libpq ``options``)."""
    if not db_url.startswith("postgresql"):
        return db_url
    return make_url(db_url).update_query_dict({"options": "-c role=newsflow_reader"}).render_as_string(False)


@pytest.fixture
def demo_db(db_url: str, demo_network: DemoNetwork) -> dict[str, str]:
    engine = make_engine(db_url)
    load_edition(engine, db_url, demo_network, demo_network.manifest(1, include_generated=False))
    demo_network.set_edition(2)
    second = demo_network.manifest(2, include_generated=False)
    load_edition(engine, db_url, demo_network, second)
    engine.dispose()
    purged = second.outlet("harbour-times").base_url.rstrip("/") + PURGE_PATH
    purge(url=purged, reason="README example takedown", database_url=db_url)
    urls = {truth.id: url for url, truth in second.articles.items()}
    return {"url": db_url, "ru": urls["belgorod-ru"], "zh": urls["lantern-festival-zh"]}


def run_sql(db_url: str, sql: str) -> list[tuple[object, ...]]:
    if db_url.startswith("sqlite"):
        path = make_url(db_url).database
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
            return conn.execute(sql).fetchall()
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SET ROLE newsflow_reader"))
            return [tuple(row) for row in conn.execute(text(sql)).all()]
    finally:
        engine.dispose()


def test_every_readme_example_returns_rows(demo_db: dict[str, str]) -> None:
    db_url = demo_db["url"]
    backend = "sqlite" if db_url.startswith("sqlite") else "postgresql"
    for example in SQL_EXAMPLES:
        if backend in example.backends:
            assert run_sql(db_url, example.sql), example.title
    env = {"NEWSFLOW_DATABASE_URL": reader_url(db_url), "PATH": "/usr/bin:/bin"}
    for cli in CLI_EXAMPLES:
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", *cli.args], cwd=ROOT, env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, (cli.title, done.stderr)
        document = json.loads(done.stdout)
        assert document["count"] >= 1, cli.title
    # The multilingual examples find their own article, not just anything.
    for query, key in (("губернатором", "ru"), ("губернатору", "ru"), ("灯笼节", "zh"), ("码头夜景", "zh")):
        done = subprocess.run(
            [sys.executable, "-m", "pipeline", "search", query, "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        hits = json.loads(done.stdout)["hits"]
        assert hits and hits[0]["url"] == demo_db[key], (query, hits)


def test_the_readme_shows_exactly_these_examples() -> None:
    """The README copies the examples verbatim: an edited README example is an untested one."""
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    for example in SQL_EXAMPLES:
        assert " ".join(example.sql.split()) + ";" in readme, example.title
    for cli in CLI_EXAMPLES:
        shown = " ".join(f'"{arg}"' if " " in arg else arg for arg in cli.args)
        assert f"newsflow {shown}" in readme, cli.args
