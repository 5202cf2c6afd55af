"""The crawler subprocess's log, relayed into the parent's logging at its own levels.

Scrapy logs to the subprocess's stderr. An Airflow task process forwards whatever reaches
its stderr as ``ERROR`` under ``task.stderr``, so an inherited stderr turned every Scrapy
line of a clean crawl into an error in the task log. The crawl stage therefore pipes the
subprocess's stderr here: each Scrapy record (``<time> [<logger>] <LEVEL>: <message>``, plus
its continuation lines: tracebacks, multi-line dicts) becomes one record of the logger
``crawler.<scrapy logger>`` at the level Scrapy gave it, and Scrapy's stats dump becomes one
readable summary line instead of ~40 lines of a Python dict.

Where nothing configured logging (a ``newsflow crawl`` in a shell), the lines go to stderr
unchanged, as before.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field

#: Scrapy's default ``LOG_FORMAT`` (``%(asctime)s [%(name)s] %(levelname)s: %(message)s``).
RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:[.,]\d+)? \[(?P<name>[^\]]+)\] "
    r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL): (?P<message>.*)$"
)
STATS_HEADER = "Dumping Scrapy stats:"
STAT_LINE = re.compile(r"^\s*[{ ]?'(?P<key>[^']+)': (?P<value>.*?),?}?$")


@dataclass
class _Record:
    name: str
    level: int
    lines: list[str] = field(default_factory=list)


def parse_stats(lines: Iterable[str]) -> dict[str, str]:
    """``{'key': value, …}`` lines of Scrapy's stats dump -> key -> value text."""
    stats = {}
    for line in lines:
        match = STAT_LINE.match(line)
        if match:
            stats[match["key"]] = match["value"].strip()
    return stats


def _number(stats: dict[str, str], key: str) -> int:
    try:
        return int(stats.get(key, "0"))
    except ValueError:
        return 0


def stats_summary(stats: dict[str, str]) -> str:
    """One line an operator reads: requests, responses by status, items, errors, time, reason."""
    statuses = sorted(
        (key.rsplit("/", 1)[1], _number(stats, key))
        for key in stats
        if key.startswith("downloader/response_status_count/")
    )
    by_status = ", ".join(f"{code}: {n}" for code, n in statuses)
    exceptions = _number(stats, "downloader/exception_count")
    retries = _number(stats, "retry/count")
    errors = _number(stats, "log_count/ERROR")
    try:
        seconds = f"{float(stats['elapsed_time_seconds']):.1f}"
    except (KeyError, ValueError):
        seconds = "?"
    parts = [
        f"{_number(stats, 'downloader/request_count')} requests",
        f"{_number(stats, 'downloader/response_count')} responses" + (f" ({by_status})" if by_status else ""),
        f"{_number(stats, 'item_scraped_count')} items",
        f"{retries} retries",
        f"{exceptions} download exceptions",
        f"{errors} errors logged",
        f"{_number(stats, 'response_received_count')} received",
        f"{seconds} s",
        f"finish reason {stats.get('finish_reason', '?').strip(chr(39))}",
    ]
    return "Scrapy stats: " + ", ".join(parts)


class CrawlLogRelay:
    """Feed it the subprocess's stderr lines; it emits one log record per Scrapy record."""

    def __init__(self, prefix: str = "crawler") -> None:
        self.prefix = prefix
        self.current: _Record | None = None
        self.levels: dict[str, int] = {}

    def feed(self, line: str) -> None:
        line = line.rstrip("\n")
        match = RECORD.match(line)
        if match:
            self.flush()
            level = int(logging.getLevelNamesMapping()[match["level"]])
            self.current = _Record(match["name"], level, [match["message"]])
        elif self.current is not None:
            self.current.lines.append(line)
        elif line.strip():
            # Not Scrapy's format and no record to continue: the runner's own "error: …" lines
            # (usage, crash before logging started) or a stray print.
            level = logging.ERROR if line.startswith(("error:", "Traceback")) else logging.WARNING
            self._emit(_Record("run", level, [line]))

    def flush(self) -> None:
        if self.current is not None:
            self._emit(self.current)
            self.current = None

    def _emit(self, record: _Record) -> None:
        name = logging.getLevelName(record.level)
        self.levels[name] = self.levels.get(name, 0) + 1
        if record.lines[0].startswith(STATS_HEADER):
            message = stats_summary(parse_stats(record.lines[1:]))
        elif record.level <= logging.INFO and record.lines[0].endswith(":"):
            # "Enabled extensions:" / "Overridden settings:" + a pretty-printed list or dict:
            # one line, so the task log stays one record per line.
            message = record.lines[0] + " " + " ".join(line.strip() for line in record.lines[1:])
        else:
            message = "\n".join(record.lines)  # tracebacks keep their lines
        logging.getLogger(f"{self.prefix}.{record.name}").log(record.level, "%s", message)

    def relay(self, lines: Iterable[str]) -> None:
        """Relay every line (until EOF), then the pending record."""
        passthrough = not logging.getLogger().handlers
        for line in lines:
            if passthrough:
                sys.stderr.write(line)
            else:
                self.feed(line)
        self.flush()
