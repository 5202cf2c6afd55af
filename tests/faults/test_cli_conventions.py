"""CLI conventions a script relies on (issue 16 part 5), as subprocesses on real databases.

``--json`` is one JSON document and ``--jsonl`` one object per line; ``source_key`` and ISO
``Z`` timestamps everywhere; bad usage exits 2 with one line, an unavailable database exits 3
with one line; read commands never create or migrate a database; unknown source keys and
unknown DAG Params are errors.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from pipeline.airflow_client import check_conf
from pipeline.db import migrate
from pipeline.errors import UsageError
from pipeline.orchestrate import run_source
from pipeline.search import search
from tests.loopback import serving
from tests.minisite import MiniSite

ROOT = Path(__file__).resolve().parents[2]


def newsflow(*args: str, cwd: Path = ROOT, db: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    if db is not None:
        env["NEWSFLOW_DATABASE_URL"] = db
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args], cwd=cwd, env=env, capture_output=True, text=True
    )


def one_line_error(done: subprocess.CompletedProcess[str], code: int) -> str:
    assert done.returncode == code, (done.returncode, done.stderr)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), done.stderr
    return lines[0]


def test_read_commands_never_create_a_database(tmp_path: Path) -> None:
    for args in (("status",), ("search", "anything"), ("articles", "--json")):
        line = one_line_error(newsflow(*args, cwd=tmp_path), 3)
        assert "no database at data/newsflow.db" in line
    assert not (tmp_path / "data").exists()


def test_status_reads_without_migrating(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    migrate.upgrade(url, "0004")
    done = newsflow("status", "--json", db=url)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["runs"] == [] and report["article_count"] == 0
    assert migrate.current_revision(url) == "0004"


def test_unreachable_database_is_one_line_and_exit_3() -> None:
    done = newsflow("search", "harbour", db="postgresql+psycopg://postgres@127.0.0.1:1/nowhere")
    assert "database unavailable" in one_line_error(done, 3)


def test_json_is_one_document_jsonl_a_stream_and_source_errors(loaded: str) -> None:
    done = newsflow("search", "tidal barrier", "--json", db=loaded)
    document = json.loads(done.stdout)
    assert document["count"] == len(document["hits"]) >= 1
    hit = document["hits"][0]
    assert hit["source_key"] == "capital" and "source" not in hit
    assert hit["published_at"].endswith("Z")
    lines = newsflow("search", "tidal barrier", "--jsonl", "--all-copies", db=loaded).stdout.splitlines()
    assert len(lines) >= 2 and all(json.loads(line)["source_key"] for line in lines)
    articles = json.loads(newsflow("articles", "--json", db=loaded).stdout)
    assert articles["count"] == 4 and all(a["updated_at"].endswith("Z") for a in articles["articles"])
    line = one_line_error(newsflow("search", "barrier", "--source", "nope", db=loaded), 2)
    assert "unknown source 'nope'" in line
    one_line_error(newsflow("articles", "--source", "nope", db=loaded), 2)
    one_line_error(newsflow("articles", "--format", "xml", db=loaded), 2)
    status = json.loads(newsflow("status", "--json", db=loaded).stdout)
    run = status["runs"][0]
    assert run["source_key"] in {"capital", "ledger"} and run["started_at"].endswith("Z")
    assert run["gate"] == {"verdict": "not_checked", "passed": None, "reasons": []}


def test_exports_csv_and_parquet(loaded: str, tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    done = newsflow("articles", "--format", "csv", db=loaded)
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == 4 and json.loads(rows[0]["authors"]) == [] and rows[0]["published_at"].endswith("Z")
    target = tmp_path / "articles.parquet"
    done = newsflow(
        "articles", "--format", "parquet", "--output", str(target), "--source", "ledger", db=loaded
    )
    assert done.returncode == 0, done.stderr
    table = pq.read_table(target)
    assert table.num_rows == 2 and set(table.column("source_key").to_pylist()) == {"ledger"}
    assert table.schema.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert table.schema.field("authors").type == pa.list_(pa.string())
    assert table.schema.field("article_id").type == pa.int64()
    empty = tmp_path / "none.parquet"
    newsflow("articles", "--format", "parquet", "-o", str(empty), "--since", "2099-01-01", db=loaded)
    assert pq.read_table(empty).num_rows == 0


def test_run_summary_json_has_the_gate_as_fields(site: MiniSite, sqlite_url: str, tmp_path: Path) -> None:
    """``newsflow run --json``: the verdict recorded at the gate, with each failure as a reason."""
    sources = site.sources_yaml(tmp_path / "sources.yaml")
    empty = run_source("mini", run_id="empty", sources_path=sources, database_url=sqlite_url).as_dict()
    assert empty["source_key"] == "mini" and "source" not in empty and empty["status"] == "failed"
    gate = empty["gate"]
    assert gate["verdict"] == "failed" and gate["passed"] is False and gate["reasons"]
    assert [r.split(" (")[0] for r in gate["reasons"]] == ["articles per run 0 is below min_articles 1"]
    site.add("budget-vote", datetime.now(UTC) - timedelta(hours=1))
    ok = run_source("mini", run_id="stories", sources_path=sources, database_url=sqlite_url).as_dict()
    assert ok["gate"] == {"verdict": "passed", "passed": True, "reasons": []}, ok


def test_trigger_rejects_unknown_params() -> None:
    declared = {"max_pages": {"value": None}, "recrawl": {"value": False}}
    check_conf("news_ingest__x", {"max_pages": 5}, declared)
    with pytest.raises(UsageError, match=r"no Param 'max_page' \(did you mean 'max_pages'\?\)"):
        check_conf("news_ingest__x", {"max_page": 5}, declared)


@pytest.fixture
def airflow_api() -> Iterator[tuple[str, list[tuple[str, str]]]]:
    """The few Airflow REST calls ``airflow trigger`` makes, on loopback; records (method, path).

    ``news_ingest__x`` is paused and declares ``max_pages`` and ``recrawl``.
    """
    calls: list[tuple[str, str]] = []
    details = {"is_paused": True, "params": {"max_pages": {"value": None}, "recrawl": {"value": False}}}

    class Handler(BaseHTTPRequestHandler):
        def _answer(self, body: dict[str, Any]) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            calls.append((self.command, self.path))
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._answer(details)

        def do_POST(self) -> None:
            token = self.path == "/auth/token"
            self._answer({"access_token": "t"} if token else {"dag_run_id": "manual__1"})

        def do_PATCH(self) -> None:
            self._answer({"is_paused": False})

        def log_message(self, *args: Any) -> None:
            pass

    with serving(Handler) as port:
        yield f"http://127.0.0.1:{port}", calls


def test_trigger_rejects_a_misspelt_param_and_unpauses_only_when_asked(
    airflow_api: tuple[str, list[tuple[str, str]]],
) -> None:
    url, calls = airflow_api
    base = ("airflow", "trigger", "news_ingest__x", "--url", url, "--password", "p")
    line = one_line_error(newsflow(*base, "--conf", '{"max_page": 5}'), 2)
    assert "did you mean 'max_pages'" in line
    assert [c for c in calls if c[0] != "GET" and c[1] != "/auth/token"] == []  # nothing triggered
    calls.clear()
    done = newsflow(*base, "--conf", '{"max_pages": 5}')
    assert done.returncode == 0, done.stderr
    assert "triggered news_ingest__x run manual__1" in done.stdout and "is paused" in done.stderr
    assert ("POST", "/api/v2/dags/news_ingest__x/dagRuns") in calls
    assert not [c for c in calls if c[0] == "PATCH"]  # the DAG stays paused without --unpause
    calls.clear()
    done = newsflow(*base, "--unpause")
    assert done.returncode == 0, done.stderr
    assert ("PATCH", "/api/v2/dags/news_ingest__x") in calls and "is paused" not in done.stderr


@pytest.mark.parametrize("language", ["fil", "fin", "fi-FI", "en", None])
def test_search_finds_an_article_whatever_its_language_code(db_url: str, language: str | None) -> None:
    """SQLite matched articles of a Snowball language through the stemmed column only, and
    picked them by the code's first two letters: 'fil' (Filipino) or 'fin' (ISO 639-2 Finnish)
    read as 'fi', so the porter column was skipped while the stemmed one held nothing."""
    from pipeline.db.engine import make_engine
    from pipeline.stages.load import load
    from tests.loadkit import add_record, article, make_run, make_source, story

    engine = make_engine(db_url)
    source = make_source(engine, "capital", 8701)
    run = make_run(engine, source, "r1")
    text = "The zeppelin hangar on the old quay opened to visitors on Saturday. " + story(4)
    add_record(engine, run, source, article("http://127.0.0.1:8701/z", text, language=language))
    engine.dispose()
    load("r1", database_url=db_url)
    assert [hit.url for hit in search("zeppelin hangar", database_url=db_url)] == ["http://127.0.0.1:8701/z"]
