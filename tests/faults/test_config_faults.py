"""Fault rows: a sources file cannot exhaust the machine, hide a key, or take every DAG down.

Each row feeds a careless or hostile ``sources.yaml`` to the real parsers (``newsflow sources
check`` as a subprocess, Airflow's DagBag in a subprocess) and asserts a located error —
file, line, key — within bounded time and memory.
"""

from __future__ import annotations

import gc
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.config import ConfigError, load_sources, parse_sources, parse_sources_partial
from pipeline.yamlsafe import MAX_BYTES

#: The "billion laughs": 9^9 references from a few hundred bytes.
ALIAS_BOMB = (
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    + "".join(f"{n}: &{n} [{','.join(['*' + p] * 9)}]\n" for p, n in zip("abcdefgh", "bcdefghi", strict=True))
    + "sources: [*i]\n"
)

SOURCE = """\
  - key: {key}
    name: {key}
    homepage: http://127.0.0.1:9/{key}/
    schedule:
      cron: '{cron}'
      timezone: {tz}
"""


def sources_text(*rows: tuple[str, str, str]) -> str:
    return "version: 1\nsources:\n" + "".join(SOURCE.format(key=k, cron=c, tz=t) for k, c, t in rows)


def line_of(text: str, needle: str, occurrence: int = 1) -> int:
    hits = [i for i, row in enumerate(text.splitlines(), 1) if needle in row]
    return hits[occurrence - 1]


def cli_usage(args: list[str]) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run ``newsflow`` in a fresh process: (result, CPU seconds, peak RSS MiB) of that child.

    Measured from a wrapper process so no earlier child of the test run counts.
    """
    wrapper = (
        "import resource, subprocess, sys, json\n"
        "p = subprocess.run([sys.executable, '-m', 'pipeline', *sys.argv[1:]], capture_output=True, text=True,"
        " preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)))\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(json.dumps([p.returncode, p.stdout, p.stderr, u.ru_utime + u.ru_stime, u.ru_maxrss / 1024]))\n"
    )
    import json

    out = subprocess.run([sys.executable, "-c", wrapper, *args], capture_output=True, text=True, timeout=60)
    code, stdout, stderr, cpu, rss = json.loads(out.stdout)
    return subprocess.CompletedProcess(args, code, stdout, stderr), cpu, rss


def test_alias_bomb_is_refused_fast_and_small(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB)
    assert len(ALIAS_BOMB) < 1000
    started = time.monotonic()
    with pytest.raises(ConfigError) as info:
        load_sources(bomb)
    assert time.monotonic() - started < 0.1
    assert f"{bomb}:1:" in str(info.value) and "anchor &a is not allowed" in str(info.value)

    result, cpu, rss = cli_usage(["sources", "check", str(bomb)])
    baseline, base_cpu, _ = cli_usage(["--help"])
    assert baseline.returncode == 0
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        f"error: {bomb}:1: yaml: anchor &a is not allowed in this file"
    ]
    assert rss < 100, f"peak RSS {rss:.0f} MiB"
    # The interpreter and CLI imports take most of a second on a busy machine; the bomb
    # itself must cost next to nothing on top of that.
    assert cpu - base_cpu < 0.5, (cpu, base_cpu)


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        (
            "version: 1\nsources:\n  - &one {key: a, name: a, homepage: 'http://x/'}\n  - *one\n",
            3,
            "anchor &one",
        ),
        ("version: 1\nbase: &b {x: 1}\nsources: []\n", 2, "anchor &b"),
        (
            "version: 1\nsources: " + "[" * 10_000 + "]" * 10_000 + "\n",
            2,
            "nested",
        ),
        ("version: 1\nversion: 1\nsources: []\n", 2, "duplicate key 'version' (first on line 1)"),
    ],
)
def test_unsafe_yaml_is_a_located_error(text: str, line: int, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_sources(text, "s.yaml")
    issue = info.value.issues[0]
    assert issue.line == line and message in issue.message, issue


def test_oversized_file_is_refused_before_parsing(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("version: 1\nsources: []\n" + "#" * MAX_BYTES)
    started = time.monotonic()
    with pytest.raises(ConfigError, match=f"more than the {MAX_BYTES:,} allowed"):
        load_sources(big)
    assert time.monotonic() - started < 0.5


def test_duplicate_key_in_a_source_names_line_and_key() -> None:
    """A second ``allow_private_networks:`` no longer silently wins."""
    text = sources_text(("alpha", "0 * * * *", "UTC")) + "    allow_private_networks: []\n"
    text += "    allow_private_networks: ['127.0.0.1:9']\n"
    with pytest.raises(ConfigError) as info:
        parse_sources(text, "s.yaml")
    [issue] = info.value.issues
    assert issue.line == line_of(text, "allow_private_networks", 2)
    assert issue.source_key == "alpha" and issue.location == "sources.0.allow_private_networks"
    assert "duplicate key 'allow_private_networks'" in str(issue)


BAD_CRONS = ["61 * * * *", "* * *", "*/0 * * * *", "0 0 * * 9", "@fortnightly", "0 0 * * * * *", "0 25 * * *"]
GOOD_CRONS = ["*/20 * * * *", "@daily", "@quarterly", "0 6 * * MON-FRI", "0 0 1 */3 *", "30 2 * * 7"]


def test_cron_verdicts_agree_with_airflows_timetable() -> None:
    """Airflow parses ``schedule.cron`` with this timetable; what it refuses we refuse, naming the line."""
    from airflow.sdk import CronDataIntervalTimetable

    def airflow_accepts(expr: str) -> bool:
        try:
            CronDataIntervalTimetable(expr, timezone="UTC").validate()
            return True
        except Exception:
            return False

    for expr in GOOD_CRONS:
        assert airflow_accepts(expr), expr
        parse_sources(sources_text(("alpha", expr, "UTC")))
    for expr in BAD_CRONS:
        assert not airflow_accepts(expr) or len(expr.split()) > 5, expr  # croniter takes seconds; Airflow not
        text = sources_text(("alpha", "0 * * * *", "UTC"), ("beta", expr, "UTC"))
        with pytest.raises(ConfigError) as info:
            parse_sources(text, "s.yaml")
        [issue] = info.value.issues
        assert issue.line == line_of(text, "cron:", 2) and issue.source_key == "beta", (expr, issue)
        assert issue.location == "sources.1.schedule.cron"


def test_cron_that_never_fires_and_bad_timezones_are_refused() -> None:
    for cron, tz, location in [
        ("0 0 30 2 *", "UTC", "schedule.cron"),  # 30 February: parses, never fires
        ("0 * * * *", "Mars/Olympus", "schedule.timezone"),
        ("0 * * * *", "../../etc/passwd", "schedule.timezone"),
    ]:
        with pytest.raises(ConfigError) as info:
            parse_sources(sources_text(("alpha", cron, tz)))
        assert info.value.issues[0].location == f"sources.0.{location}", (cron, tz)


def test_a_bad_source_is_skipped_and_the_others_kept() -> None:
    text = sources_text(
        ("alpha", "0 * * * *", "UTC"), ("beta", "61 * * * *", "UTC"), ("gamma", "@daily", "UTC")
    )
    text += "    tags: [a]\n    tags: [b]\n"  # gamma: a duplicate key
    text += SOURCE.format(key="alpha", cron="@daily", tz="UTC")  # a second alpha
    valid, issues = parse_sources_partial(text, "s.yaml")
    assert [s.key for s in valid] == ["alpha"]
    assert [(i.source_key, i.line) for i in issues] == [
        ("beta", line_of(text, "61 * * * *")),
        ("gamma", line_of(text, "tags:", 2)),
        ("alpha", line_of(text, "key: alpha", 2)),
    ]


def test_dagbag_loads_the_good_sources_and_names_the_bad_line(tmp_path: Path) -> None:
    """Airflow's DagBag: one source with a bad cron loses only its own DAG, with a located error."""
    from pipeline.airflow_local import DAGS_FOLDER
    from tests.test_dags_integrity import MAINTENANCE, dagbag

    text = sources_text(
        ("alpha", "0 * * * *", "UTC"), ("beta", "0 0 * * 9", "UTC"), ("gamma", "@daily", "UTC")
    )
    sources = tmp_path / "sources.yaml"
    sources.write_text(text)
    bag = dagbag(tmp_path, sources)
    assert set(bag["dags"]) == {"news_ingest__alpha", "news_ingest__gamma"} | MAINTENANCE
    assert list(bag["errors"]) == [str(DAGS_FOLDER / "news_sources_errors.py")]
    message = bag["errors"][str(DAGS_FOLDER / "news_sources_errors.py")]
    assert f"{sources}:{line_of(text, '0 0 * * 9')}: source 'beta' sources.1.schedule.cron" in message
    assert "alpha" not in message and "gamma" not in message
    reextract_sources = bag["dags"]["news_reextract"]["params"]["source"]["schema"]["enum"]
    assert sorted(reextract_sources) == ["alpha", "gamma"]


def test_generated_sources_never_carry_anchors() -> None:
    """PyYAML's safe_dump writes ``&id001`` for a list two sources share, which the strict
    loader refuses: every generated sources file goes through :func:`yamlsafe.dump`."""
    from pipeline import yamlsafe

    schedule = ["1h", "1d"]
    data = {"version": 1, "sources": [{"key": k, "limits": {"revisit": schedule}} for k in ("a", "b")]}
    text = yamlsafe.dump(data)
    assert "&" not in text and "*" not in text
    assert yamlsafe.load(text).data == data


def test_thousands_of_sources_are_read() -> None:
    """Issue 17: a file of 4,000 sources (1.1 MB) was refused by the old 1 MB limit; 10,000
    sources are 3-5 MB. Read with libyaml: one bad source skipped and located, the rest valid."""
    from pipeline import yamlsafe

    rows = [
        {"key": f"site-{i:04d}", "name": f"Site {i}", "homepage": f"http://127.0.0.1:{9000 + i}/"}
        for i in range(4000)
    ]
    for row in rows:  # the size of a realistic entry
        row["discovery"] = {"feeds": [f"{row['homepage']}feed.rss"], "listings": [row["homepage"]]}
        row["allow_private_networks"] = [row["homepage"][7:-1]]
        row["tags"] = ["regional", "daily"]
    text = yamlsafe.dump({"version": 1, "sources": rows})
    text = text.replace("key: site-3900\n", "key: site-3900\n  schedule: {cron: '61 * * * *'}\n")
    assert 1_000_000 < len(text) < MAX_BYTES
    valid, issues = parse_sources_partial(text, "s.yaml")
    assert len(valid) == 3999 and valid[-1].key == "site-3999"
    assert [(i.source_key, i.line) for i in issues] == [("site-3900", line_of(text, "61 * * * *"))]


def test_validation_time_grows_linearly_with_sources() -> None:
    """Issue 17: 10,000 sources took 75 s to validate — the duplicate-key check scanned the
    valid list for every source. CPU time of 8,000 vs 2,000 sources: ~4x when linear, ~10x
    with the quadratic check."""
    from pipeline import yamlsafe

    def cpu_seconds(count: int) -> float:
        rows = [{"key": f"k{i}", "name": "n", "homepage": f"http://127.0.0.1:{1 + i}/"} for i in range(count)]
        text = yamlsafe.dump({"version": 1, "sources": rows})
        # Without the cyclic GC: its full collections scan every object alive in the test
        # process (more after other tests ran), which made 8,000 vs 2,000 read ~7x when linear.
        gc.collect()
        gc.disable()
        try:
            started = time.process_time()
            valid, issues = parse_sources_partial(text, "s.yaml")
            elapsed = time.process_time() - started
        finally:
            gc.enable()
        assert len(valid) == count and not issues
        return elapsed

    cpu_seconds(200)  # imports and caches warm
    small, large = cpu_seconds(2000), cpu_seconds(8000)
    assert large / small < 6.5, (small, large)
