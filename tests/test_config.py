"""sources.yaml validation: the shipped file passes, typos are named with key and line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.config import ConfigError, dump_sources, load_sources, parse_sources

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
version: 1
sources:
  - key: alpha
    name: Alpha News
    homepage: https://alpha.example/
    discovery:
      feeds: [https://alpha.example/rss]
  - key: beta
    name: Beta
    homepage: https://beta.example/
"""


def test_shipped_sources_file_is_valid() -> None:
    sources = load_sources(ROOT / "sources.yaml")
    assert len(sources.sources) >= 3
    assert len({s.key for s in sources.sources}) == len(sources.sources)


def test_defaults_fill_allowed_domains_and_hash_is_stable() -> None:
    parsed = parse_sources(GOOD)
    alpha = parsed.get("alpha")
    assert alpha.allowed_domains == ["alpha.example"]
    assert alpha.related.depth == 1 and alpha.related.scope == "same_site"
    assert alpha.allow_private_networks == []  # public addresses only
    assert alpha.config_hash() == parse_sources(GOOD).get("alpha").config_hash()
    assert alpha.config_hash() != parsed.get("beta").config_hash()


def test_misspelt_key_names_source_and_line() -> None:
    bad = GOOD.replace("    discovery:\n      feeds:", "    discovery:\n      feedz:")
    with pytest.raises(ConfigError) as info:
        parse_sources(bad, "s.yaml")
    (issue,) = info.value.issues
    assert issue.source_key == "alpha"
    assert issue.line == 7
    assert "unknown key 'feedz'" in issue.message
    assert str(issue).startswith("s.yaml:7:")


def test_bad_regex_names_source_and_line() -> None:
    bad = GOOD + "    article_urls:\n      allow: ['/news/(']\n"
    with pytest.raises(ConfigError) as info:
        parse_sources(bad)
    (issue,) = info.value.issues
    assert issue.source_key == "beta"
    assert issue.line == 12
    assert "invalid regular expression" in issue.message


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        ("    schedule: {cron: '61 * *'}\n", "5 fields"),
        ("    schedule: {timezone: Mars/Olympus}\n", "unknown time zone"),
        ("    politeness: {concurrency: 0}\n", "greater than or equal to 1"),
        ("    homepage2: x\n", "unknown key"),
    ],
)
def test_other_errors_are_located(snippet: str, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_sources(GOOD + snippet)
    assert any(expected in i.message and i.source_key == "beta" for i in info.value.issues)


def test_duplicate_keys_and_yaml_syntax() -> None:
    with pytest.raises(ConfigError, match="duplicate source key"):
        parse_sources(GOOD.replace("key: beta", "key: alpha"))
    with pytest.raises(ConfigError) as info:
        parse_sources("sources: [\n  - key: a\n")
    assert info.value.issues[0].line is not None


def test_dump_round_trips() -> None:
    text = dump_sources(
        [
            {
                "key": "x",
                "name": "X",
                "homepage": "http://127.0.0.1:9/",
                "allow_private_networks": ["127.0.0.1:9"],
            }
        ]
    )
    assert parse_sources(text).get("x").allow_private_networks == ["127.0.0.1:9"]


def test_cli_check_exit_codes(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(GOOD)
    bad = tmp_path / "bad.yaml"
    bad.write_text(GOOD.replace("name: Beta", "nmae: Beta"))
    cli = [sys.executable, "-m", "pipeline", "sources", "check"]
    ok = subprocess.run([*cli, str(good)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "alpha" in ok.stdout
    failed = subprocess.run([*cli, str(bad)], capture_output=True, text=True, check=False)
    assert failed.returncode == 2
    assert "bad.yaml:9:" in failed.stderr and "'beta'" in failed.stderr and "nmae" in failed.stderr
    assert "Traceback" not in failed.stderr
