"""``newsflow run`` over the demo network, SQLite and PostgreSQL: counts match what is served,
the second run is incremental, and the consumer never sees the seed story's boilerplate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.db.engine import make_engine
from pipeline.db.models import Article, Source
from pipeline.demo import SEED_BOILERPLATE, seed_report
from pipeline.demo_site import DemoNetwork

pytestmark = pytest.mark.slow


def _run_cli(args: list[str], db_url: str, raw: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEWSFLOW_DATABASE_URL": db_url, "NEWSFLOW_RAW_STORE": str(raw)}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=600,
    )


def _expected_urls(network: DemoNetwork, key: str) -> set[str]:
    """Articles of an outlet a crawl must store: all served ones except pages built to fail."""
    manifest = network.manifest(include_generated=False)
    failing = {f.url for f in manifest.outlet(key).faults if not f.transient}
    return {a.url for a in manifest.articles_of(key) if a.url not in failing}


def test_run_twice_counts_and_incremental(db_url: str, tmp_path: Path) -> None:
    with DemoNetwork(port=0, slow_seconds=2.0) as network:
        sources = network.write_sources(tmp_path / "sources.yaml")
        started = time.monotonic()
        first = _run_cli(["run", "--sources", str(sources), "--json"], db_url, tmp_path / "raw")
        wall = time.monotonic() - started
        assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
        summaries = {s["source_key"]: s for s in json.loads(first.stdout)["runs"]}
        assert set(summaries) == {o.key for o in network.outlets}
        # --json runs sources at once too (default --parallel): less wall time than their sum.
        assert wall < sum(s["seconds"] for s in summaries.values()), (wall, summaries)

        engine = make_engine(db_url)
        with engine.connect() as conn:
            stored = {
                key: {
                    url
                    for (url,) in conn.execute(
                        select(Article.canonical_url).join(Source).where(Source.key == key)
                    )
                }
                for key in summaries
            }
        manifest = network.manifest(include_generated=False)
        for key, summary in summaries.items():
            expected = _expected_urls(network, key)
            missing = expected - stored[key]
            assert not missing, f"{key}: served articles not stored: {sorted(missing)}"
            non_articles = set(manifest.outlet(key).non_articles) | set(manifest.outlet(key).listing_urls)
            assert not stored[key] & non_articles, f"{key}: non-articles stored"
            assert summary["articles_new"] + summary["articles_duplicate"] >= len(expected) - 1
            assert summary["status"] == "success" and summary["quality"] == "passed"

        report = seed_report(engine, manifest.seed_url)
        assert report is not None
        for marker in SEED_BOILERPLATE:
            assert marker not in report.text
        for paragraph in manifest.article(manifest.seed_url).paragraphs:
            assert paragraph in report.text
        assert report.removed_lines, "cleaning removed nothing from the seed story"

        second = _run_cli(["run", "--sources", str(sources), "--json"], db_url, tmp_path / "raw")
        assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
        again = {s["source_key"]: s for s in json.loads(second.stdout)["runs"]}
        for key, summary in again.items():
            assert summary["articles_new"] == 0, f"{key}: second run created articles"
            assert summary["articles_updated"] == 0
            assert summary["pages_fetched"] < summaries[key]["pages_fetched"], (
                f"{key}: not incremental: {summary}"
            )
        with engine.connect() as conn:
            total = conn.execute(select(Article.id)).all()
        assert len(total) == sum(len(v) for v in stored.values())
        engine.dispose()


def test_status_json_reports_runs(db_url: str, tmp_path: Path) -> None:
    out = _run_cli(["status", "--json"], db_url, tmp_path / "raw")
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["runs"] == [] and report["article_count"] == 0
