"""Tasks read their own source, not all of sources.yaml (issue 17): ``pipeline.sourcecache``.

Asserted: a task of a valid source runs every stage while another source has a bad line (as
its DAG loads), and the bad source's task fails naming file, line and key; the verdict for
one source is the whole-file validation's, duplicates included, with the cache on and off;
a warm task reads no YAML, and an edit of the file is a new entry.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline import dagspecs, yamlsafe
from pipeline.config import ConfigError, parse_sources_partial
from pipeline.sourcecache import load_source, load_valid_sources
from pipeline.stages.crawl import crawl
from tests.minisite import MiniSite
from tests.pipeline_runs import run_at
from tests.test_dags_scale import generated_sources, write_sources

T0 = datetime(2024, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture(params=["cache", "off"])
def cache(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    value = str(tmp_path / "dag-cache") if request.param == "cache" else "off"
    monkeypatch.setenv("NEWSFLOW_DAG_CACHE", value)
    return str(request.param)


def test_a_bad_line_in_another_source_fails_only_that_sources_tasks(
    site: MiniSite, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, cache: str
) -> None:
    for hours, slug in ((3, "budget-vote"), (2, "bridge-repairs"), (1, "school-opening")):
        site.add(slug, T0 - timedelta(hours=hours))
    path = site.sources_yaml(tmp_path / "sources.yaml", quality={"min_articles": 9})
    data = yaml.safe_load(path.read_text())
    data["sources"].append({"key": "broken", "nmae": "Typo", "homepage": "http://127.0.0.1:9/"})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    # Every stage of "mini" runs (the crawler subprocess included) and judges by its own entry.
    outcome = run_at(monkeypatch, T0, "r1", sources=path, db_url=sqlite_url)
    assert outcome.crawled.pages_fetched >= 4, outcome.crawled
    assert outcome.failure is not None, "min_articles 9 (mini's own threshold) was not applied"
    assert "articles per run 3 is below min_articles 9" in str(outcome.failure)
    # The broken source's task fails, naming file, line and key.
    line = next(n for n, text in enumerate(path.read_text().splitlines(), 1) if "nmae:" in text)
    with pytest.raises(ConfigError) as failed:
        crawl("broken", "r2", sources_path=path, database_url=sqlite_url)
    assert f"{path}:{line}: source 'broken'" in str(failed.value) and "unknown key 'nmae'" in str(
        failed.value
    )


BROKEN = """\
version: 1
sources:
  - key: alpha
    name: Alpha
    homepage: http://127.0.0.1:9001/
  - key: beta
    name: Beta
    homepage: http://127.0.0.1:9002/
    article_urls: {allow: ['(unclosed']}
  - key: gamma
    name: Gamma
    homepage: http://127.0.0.1:9003/
  - name: No key at all
    homepage: http://127.0.0.1:9004/
  - key: gamma
    name: Gamma again
    homepage: http://127.0.0.1:9005/
  - key: delta
    name: Delta
    name: Delta twice
    homepage: http://127.0.0.1:9006/
"""


def test_one_sources_verdict_is_the_whole_file_validations(tmp_path: Path, cache: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(BROKEN)
    valid, issues = parse_sources_partial(BROKEN, str(path))
    by_key: dict[str | None, list[str]] = {}
    for issue in issues:
        by_key.setdefault(issue.source_key, []).append(str(issue))
    assert set(by_key) == {"beta", "gamma", "#4", "delta"}  # the file as the DAG processor sees it
    for _ in range(2):  # the second time from the entry the first one wrote (cache on)
        assert load_source("alpha", path) == valid[0]
        for key in ("beta", "gamma", "delta"):
            with pytest.raises(ConfigError) as failed:
                load_source(key, path)
            assert [str(i) for i in failed.value.issues] == by_key[key], key
        with pytest.raises(KeyError, match="no source 'nope'"):
            load_source("nope", path)
        # The crawler's scope: the valid sources in file order (gamma's first entry is valid).
        assert [s.key for s in load_valid_sources(path)] == [s.key for s in valid] == ["alpha", "gamma"]
    # A file unusable as a whole fails every source, naming its line.
    path.write_text(BROKEN.replace("  - key: alpha", "  - key: [alpha"))
    for _ in range(2):
        with pytest.raises(ConfigError) as fatal:
            load_source("gamma", path)
        assert fatal.value.issues[0].location == "yaml" and fatal.value.issues[0].line is not None


def test_a_warm_task_reads_no_yaml_and_an_edit_is_a_new_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    real = yamlsafe.load

    def counting(text: str) -> Any:
        reads.append(len(text))
        return real(text)

    monkeypatch.setattr(yamlsafe, "load", counting)
    monkeypatch.setenv("NEWSFLOW_DAG_CACHE", str(tmp_path / "dag-cache"))
    rows = generated_sources(300)
    path = write_sources(tmp_path / "sources.yaml", rows)
    # The DAG processor's validation (a helper process here) also writes the tasks' entry.
    assert dagspecs.sources_view(path).fatal is None
    assert reads == []
    expected, _issues = parse_sources_partial(path.read_text(), str(path))
    reads.clear()
    got = [load_source(row["key"], path) for row in rows]
    assert reads == [] and got == expected
    assert [s.config_hash() for s in got] == [s.config_hash() for s in expected]
    assert load_valid_sources(path) == expected and reads == []
    # An edit: the first task validates the new text once, the others read the new entry.
    rows[7]["limits"]["max_pages"] = 4321
    write_sources(path, rows)
    assert load_source(rows[7]["key"], path).limits.max_pages == 4321 and len(reads) == 1
    assert load_source(rows[8]["key"], path).key == rows[8]["key"] and len(reads) == 1
    # Without a cache each task reads the YAML once, and validates its own source only.
    monkeypatch.setenv("NEWSFLOW_DAG_CACHE", "off")
    assert load_source(rows[7]["key"], path).limits.max_pages == 4321 and len(reads) == 2
