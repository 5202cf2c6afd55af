"""Load-stage benchmark: articles/s into PostgreSQL next to the schema floor (a ``COPY`` into ``articles``).

For each size (default 10,000 and 100,000 records) it creates a fresh PostgreSQL database,
stages the records the way extraction leaves them (``fetches`` + ``extracted_records``), runs
``newsflow load`` in a subprocess (peak RSS sampled), then measures two floors for the very
rows the load writes (prepared beforehand, not timed):

- **schema floor** (the figure to compare with): one ``COPY`` of the rows into the real
  ``articles`` table of a second, freshly migrated database (staged the same way, so the
  foreign keys hold), with its full-text trigger, GIN index (then
  ``gin_clean_pending_list``, as the load ends with), unique and secondary indexes, and the
  same lz4 TOAST compression the load uses. What the schema costs whatever the loader does;
  ``load/floor`` is the loader's own overhead on top (upserts, versions, links, clusters).
- **plain COPY** (for reference, the older figure): the same rows into an index-free table.

The same records are then loaded into a fresh SQLite file. Records are synthetic news-like
articles (~400 words from a Zipf-distributed 40k-word vocabulary, 1% syndicated near-copies).

    .venv/bin/python -m benchmarks.load [--sizes 10000,100000] [--repeat 3] [--fts-off]
        [--no-sqlite] [--pg-url URL] [--output PATH]

Each size is run ``--repeat`` times on fresh databases; medians are reported and the ratios are
medians of the same-run ratios (load and both floors measured back to back). The load average
during the run is printed too (the machine is shared).

PostgreSQL defaults to the local trust-auth server (``NEWSFLOW_TEST_PG_URL`` if set);
everything stays on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

from benchmarks._machine import LoadSampler, describe_load
from benchmarks._rss import PeakRss

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
T0 = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
SYLLABLES = [a + b for a in "bcdfghklmnprstvwz" for b in ("a", "e", "i", "o", "u", "ai", "ou", "an", "er")]


def vocabulary(size: int = 40_000, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    words = {"".join(rng.choice(SYLLABLES, size=int(rng.integers(1, 4)))) for _ in range(size * 2)}
    return np.array(sorted(words)[:size])


def records(count: int, port: int = 8701, seed: int = 11) -> Iterator[dict[str, Any]]:
    """Deterministic ExtractedArticle payloads; every 100th is a near-copy of its predecessor."""
    vocab = vocabulary()
    rng = np.random.default_rng(seed)
    previous = ""
    for i in range(count):
        if i % 100 == 99:
            body = "By Wire Staff\n\n" + previous + "\n\nThis story was distributed by a news agency."
        else:
            ids = np.minimum(rng.zipf(1.15, size=420), len(vocab)) - 1
            words = vocab[ids]
            paragraphs = [" ".join(words[k : k + 60]).capitalize() + "." for k in range(0, 420, 60)]
            body = "\n\n".join(paragraphs)
        previous = body
        yield {
            "url": f"http://127.0.0.1:{port}/2026/05/01/story-{i}",
            "canonical_url": f"http://127.0.0.1:{port}/2026/05/01/story-{i}",
            "title": f"Story number {i}: " + " ".join(vocab[rng.integers(0, 5000, size=6)]),
            "text": body,
            "authors": ["Ana Writer"],
            "published_at": (T0 - timedelta(minutes=i)).isoformat(),
            "section": "news",
            "language": "en",
            "extractor_version": "bench-1",
            "links": [[f"http://127.0.0.1:{port}/2026/05/01/story-{max(0, i - 1)}", "related"]],
        }


def _setup_run(url: str) -> tuple[int, int]:
    from pipeline.db import migrate

    migrate.upgrade(url)
    engine = create_engine(url)
    with engine.begin() as conn:
        source_id = conn.execute(
            text(
                "INSERT INTO sources (key, name, homepage, config_hash, created_at, updated_at) "
                "VALUES ('bench', 'Bench', 'http://127.0.0.1:8701/', 'x', :t, :t) RETURNING id"
            ),
            {"t": T0.replace(tzinfo=None) if url.startswith("sqlite") else T0},
        ).scalar_one()
        run_pk = conn.execute(
            text(
                "INSERT INTO crawl_runs (run_id, source_id, kind, started_at, status, stage, params, "
                "pages_fetched, pages_failed, pages_unchanged, pages_extracted, pages_not_article, "
                "extract_failed, articles_new, articles_updated, articles_unchanged, articles_duplicate, "
                "articles_rejected, errors_by_category, stats) VALUES ('bench', :s, 'crawl', :t, "
                "'running', 'extract', '{}', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, '{}', '{}') RETURNING id"
            ),
            {"s": source_id, "t": T0.replace(tzinfo=None) if url.startswith("sqlite") else T0},
        ).scalar_one()
    engine.dispose()
    return int(source_id), int(run_pk)


def stage_postgres(url: str, count: int) -> None:
    """Stage fetches + extracted records with COPY (setup, not measured)."""
    import psycopg

    source_id, run_pk = _setup_run(url)
    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY fetches (id, run_id, source_id, url, url_hash, canonical_url, status, fetched_at, "
            "discovery, depth, hints, is_article_candidate, outcome) FROM STDIN"
        ) as copy:
            for i, rec in enumerate(records(count), start=1):
                copy.write_row(
                    (
                        i,
                        run_pk,
                        source_id,
                        rec["url"],
                        f"{i:064x}",
                        rec["url"],
                        200,
                        T0,
                        "sitemap",
                        0,
                        "{}",
                        True,
                        "fetched",
                    )
                )
        with cur.copy(
            "COPY extracted_records (id, run_id, fetch_id, status, record, extractor_version, created_at) "
            "FROM STDIN"
        ) as copy:
            for i, rec in enumerate(records(count), start=1):
                copy.write_row((i, run_pk, i, "ok", json.dumps(rec), "bench-1", T0))
        cur.execute("SELECT setval(pg_get_serial_sequence('fetches', 'id'), %s)", (count,))
        cur.execute("SELECT setval(pg_get_serial_sequence('extracted_records', 'id'), %s)", (count,))
        cur.execute("ANALYZE")


def stage_sqlite(url: str, count: int) -> None:
    from pipeline.db.engine import make_engine
    from pipeline.db.models import ExtractedRecord, Fetch

    source_id, run_pk = _setup_run(url)
    engine = make_engine(url)
    chunk: list[dict[str, Any]] = []
    with engine.begin() as conn:
        for i, rec in enumerate(records(count), start=1):
            chunk.append(rec)
            if len(chunk) == 5000 or i == count:
                first = i - len(chunk) + 1
                conn.execute(
                    insert(Fetch),
                    [
                        {
                            "id": first + k,
                            "run_id": run_pk,
                            "source_id": source_id,
                            "url": r["url"],
                            "url_hash": f"{first + k:064x}",
                            "canonical_url": r["url"],
                            "status": 200,
                            "fetched_at": T0,
                            "discovery": "sitemap",
                            "depth": 0,
                            "hints": {},
                            "is_article_candidate": True,
                            "outcome": "fetched",
                        }
                        for k, r in enumerate(chunk)
                    ],
                )
                conn.execute(
                    insert(ExtractedRecord),
                    [
                        {
                            "id": first + k,
                            "run_id": run_pk,
                            "fetch_id": first + k,
                            "status": "ok",
                            "record": r,
                            "extractor_version": "bench-1",
                            "created_at": T0,
                        }
                        for k, r in enumerate(chunk)
                    ],
                )
                chunk = []
    engine.dispose()


def run_load(url: str, batch_size: int) -> dict[str, Any]:
    """``newsflow load`` in a subprocess; its own timing plus its peak RSS."""
    env = dict(os.environ, NEWSFLOW_DATABASE_URL=url)
    started = time.perf_counter()
    with PeakRss(interval=0.05) as rss:
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "pipeline",
                "load",
                "--run",
                "bench",
                "--json",
                "--batch-size",
                str(batch_size),
            ],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    result: dict[str, Any] = json.loads(out)
    result["wall_seconds"] = round(time.perf_counter() - started, 2)
    result["peak_rss_mb"] = round(rss.peaks.get("pipeline", 0) / 2**20, 1)
    return result


ARTICLE_COLUMNS = (
    "id, url_hash, source_id, url, canonical_url, title, authors, published_at, text, word_count, "
    "content_hash, minhash, version, first_seen_at, last_seen_at, updated_at, fetch_id, run_id, "
    "extractor_version, tags"
)


def prepared_rows(count: int, source_id: int = 1, run_pk: int = 1) -> list[tuple[Any, ...]]:
    """The article rows the load writes for these records, ready for ``COPY`` (not timed)."""
    from psycopg.types.json import Jsonb

    from pipeline.load.prepare import StagedRow, prepare

    rows: list[tuple[Any, ...]] = []
    for i, rec in enumerate(records(count), start=1):
        staged = StagedRow(i, i, source_id, T0, rec["url"], None, rec["url"], "bench-1", rec)
        row = prepare(staged, datetime.now(UTC), run_pk).row
        rows.append(
            (
                i,
                row["url_hash"],
                row["source_id"],
                row["url"],
                row["canonical_url"],
                row["title"],
                Jsonb(row["authors"]),
                row["published_at"],
                row["text"],
                row["word_count"],
                row["content_hash"],
                row["minhash"],
                1,
                row["first_seen_at"],
                row["last_seen_at"],
                row["updated_at"],
                row["fetch_id"],
                row["run_id"],
                row["extractor_version"],
                Jsonb(row["tags"]),
            )
        )
    return rows


def _copy(url: str, table: str, rows: list[tuple[Any, ...]], *, schema: bool) -> float:
    """Seconds to ``COPY`` ``rows`` into ``table`` in one transaction (plus the GIN merge for ``schema``)."""
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        if not schema:
            conn.execute(
                "CREATE TABLE bench_copy (id bigint, url_hash varchar(64), source_id int, url text, "
                "canonical_url text, title text, authors jsonb, published_at timestamptz, text text, "
                "word_count int, content_hash varchar(64), minhash bytea, version int, "
                "first_seen_at timestamptz, last_seen_at timestamptz, updated_at timestamptz, "
                "fetch_id bigint, run_id int, extractor_version varchar(40), tags jsonb)"
            )
        lz4 = conn.execute(
            "SELECT 'lz4' = ANY(enumvals) FROM pg_settings WHERE name = 'default_toast_compression'"
        ).fetchone()
        started = time.perf_counter()
        with conn.transaction(), conn.cursor() as cur:
            if lz4 and lz4[0]:
                cur.execute("SET LOCAL default_toast_compression = lz4")  # as the load does
            with cur.copy(f"COPY {table} ({ARTICLE_COLUMNS}) FROM STDIN") as copy:
                for values in rows:
                    copy.write_row(values)
        if schema:
            conn.execute("SELECT gin_clean_pending_list('ix_articles_search_vector'::regclass)")
        return time.perf_counter() - started


def copy_baseline(url: str, count: int) -> float:
    """Seconds to COPY the rows the load writes into a plain, index-free table (rows prepared beforehand)."""
    return _copy(url, "bench_copy", prepared_rows(count), schema=False)


def schema_floor(admin: str, count: int) -> float:
    """Seconds to COPY the rows the load writes into ``articles`` of a fresh, migrated, staged database."""
    url = _pg_database(admin)
    try:
        stage_postgres(url, count)  # fetches/sources/run rows for the foreign keys (not timed)
        engine = create_engine(url)
        with engine.connect() as conn:
            source_id, run_pk = conn.execute(text("SELECT source_id, id FROM crawl_runs")).one()
        engine.dispose()
        rows = prepared_rows(count, int(source_id), int(run_pk))
        return _copy(url, "articles", rows, schema=True)
    finally:
        _drop(admin, url)


def _pg_database(admin: str) -> str:
    name = f"nf_bench_{uuid.uuid4().hex[:8]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def _drop(admin: str, url: str) -> None:
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
    engine.dispose()


def bench_once(count: int, admin: str, batch_size: int, sqlite: bool, fts_off: bool) -> dict[str, Any]:
    """One repetition: load, COPY of the same rows (same database, same run), optional extras."""
    out: dict[str, Any] = {}
    url = _pg_database(admin)
    try:
        stage_postgres(url, count)
        load = run_load(url, batch_size)
        copy_seconds = copy_baseline(url, count)
        out["pg_load_s"] = load["seconds"]
        out["pg_rss_mb"] = load["peak_rss_mb"]
        out["copy_s"] = copy_seconds
        out["ratio"] = copy_seconds / load["seconds"]
        out["near_duplicates"] = load["near_duplicates"]
        out["new"] = load["new"]
        if fts_off:
            # The same load again with the search-vector trigger off: what FTS-on-write costs.
            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(text("TRUNCATE articles CASCADE"))
                conn.execute(text("ALTER TABLE articles DISABLE TRIGGER articles_search_vector_trg"))
            engine.dispose()
            bare = run_load(url, batch_size)
            out["pg_load_no_fts_s"] = bare["seconds"]
            out["ratio_no_fts"] = copy_seconds / bare["seconds"]
    finally:
        _drop(admin, url)
    floor_seconds = schema_floor(admin, count)
    out["floor_s"] = floor_seconds
    out["load_over_floor"] = out["pg_load_s"] / floor_seconds
    if sqlite:
        with tempfile.TemporaryDirectory(prefix="newsflow-bench-") as tmp:
            lite = f"sqlite:///{tmp}/bench.db"
            stage_sqlite(lite, count)
            load = run_load(lite, batch_size)
        out["sqlite_load_s"] = load["seconds"]
        out["sqlite_rss_mb"] = load["peak_rss_mb"]
    return out


def summarise(count: int, runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians over the repetitions; the ratio is the median of same-run ratios."""

    def med(key: str) -> float:
        return float(statistics.median(run[key] for run in runs))

    pg: dict[str, Any] = {
        "load_seconds": round(med("pg_load_s"), 2),
        "load_articles_per_s": round(count / med("pg_load_s")),
        "copy_seconds": round(med("copy_s"), 2),
        "copy_rows_per_s": round(count / med("copy_s")),
        "ratio_vs_copy": round(med("ratio"), 3),
        "ratios": [round(run["ratio"], 3) for run in runs],
        "floor_seconds": round(med("floor_s"), 2),
        "floor_rows_per_s": round(count / med("floor_s")),
        "load_over_floor": round(med("load_over_floor"), 3),
        "load_over_floor_runs": [round(run["load_over_floor"], 3) for run in runs],
        "peak_rss_mb": round(max(run["pg_rss_mb"] for run in runs), 1),
        "new": runs[0]["new"],
        "near_duplicates": runs[0]["near_duplicates"],
    }
    if "pg_load_no_fts_s" in runs[0]:
        pg["load_without_fts_seconds"] = round(med("pg_load_no_fts_s"), 2)
        pg["ratio_vs_copy_without_fts"] = round(med("ratio_no_fts"), 3)
    out: dict[str, Any] = {"records": count, "repeats": len(runs), "postgresql": pg}
    if "sqlite_load_s" in runs[0]:
        out["sqlite"] = {
            "load_seconds": round(med("sqlite_load_s"), 2),
            "load_articles_per_s": round(count / med("sqlite_load_s")),
            "peak_rss_mb": round(max(run["sqlite_rss_mb"] for run in runs), 1),
        }
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated record counts")
    parser.add_argument("--pg-url", default=os.environ.get("NEWSFLOW_TEST_PG_URL", DEFAULT_PG))
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per size (medians reported)")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--fts-off", action="store_true", help="also load with the FTS trigger off")
    parser.add_argument("--output", type=Path, default=RESULTS / "load.json")
    args = parser.parse_args(argv)
    from pipeline.db.engine import normalise_url

    admin = normalise_url(args.pg_url)
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        with LoadSampler() as machine:
            runs = [
                bench_once(size, admin, args.batch_size, not args.no_sqlite, args.fts_off)
                for _ in range(args.repeat)
            ]
        result = summarise(size, runs)
        result["load_average"] = machine.summary()
        results.append(result)
        pg = result["postgresql"]
        extra = (
            f" (FTS trigger off: {pg['load_without_fts_seconds']}s, {pg['ratio_vs_copy_without_fts']}x)"
            if "load_without_fts_seconds" in pg
            else ""
        )
        print(
            f"{size:>7} records x{args.repeat}  PostgreSQL load {pg['load_articles_per_s']:>6}/s "
            f"({pg['load_seconds']}s, peak RSS {pg['peak_rss_mb']} MB)  schema floor (COPY into articles) "
            f"{pg['floor_rows_per_s']:>6}/s ({pg['floor_seconds']}s)  load/floor = {pg['load_over_floor']} "
            f"{pg['load_over_floor_runs']}",
            flush=True,
        )
        print(
            f"{size:>7} records x{args.repeat}  reference: plain-table COPY {pg['copy_rows_per_s']:>6}/s "
            f"({pg['copy_seconds']}s), COPY/load = {pg['ratio_vs_copy']} {pg['ratios']}{extra}",
            flush=True,
        )
        print("         " + describe_load(result["load_average"]), flush=True)
        if "sqlite" in result:
            lite = result["sqlite"]
            print(
                f"{size:>7} records x{args.repeat}  SQLite load {lite['load_articles_per_s']:>6}/s "
                f"({lite['load_seconds']}s, peak RSS {lite['peak_rss_mb']} MB)",
                flush=True,
            )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"saved {args.output}")


if __name__ == "__main__":
    main()
