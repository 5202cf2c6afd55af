"""``sources.yaml``: the one file an ops person edits to add, tune or pause a site.

The file is validated strictly (unknown keys are errors) and every error names the file,
the source key and the line, so that a typo is caught by ``newsflow sources check`` and by
the DAG processor before anything runs.

About 460 lines, kept whole on purpose: they are the schema of one file (the pydantic models
of every section, their cross-field checks and the two parse entry points), read and changed
together; locating errors in the file lives in :mod:`pipeline.config_errors`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    ValidationError,
    field_validator,
    model_validator,
)

from pipeline import yamlsafe
from pipeline.config_errors import ConfigError as ConfigError
from pipeline.config_errors import ConfigIssue as ConfigIssue
from pipeline.config_errors import (
    line_for,
    problem_issues,
    read_document,
    read_sources_text,
    validation_issues,
)
from pipeline.hosts import bracketed, normalize_host
from pipeline.netpolicy import parse_opening
from pipeline.rendering import RenderMode
from pipeline.urls import split_domain

SLUG = r"^[a-z0-9][a-z0-9_-]{0,62}$"


def _check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {pattern!r}: {exc}") from exc
    return pattern


Regex = Annotated[str, AfterValidator(_check_regex)]


#: Airflow's cron presets (``airflow.utils.dates.cron_presets``), which its timetables accept.
CRON_PRESETS = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@quarterly": "0 0 1 */3 *",
    "@yearly": "0 0 1 1 *",
}


@functools.lru_cache(maxsize=4096)
def _check_cron(expr: str) -> str:
    """Validate with croniter, as Airflow's ``CronDataIntervalTimetable`` does, and ask it for a
    next tick: an expression that parses but never fires (``0 0 30 2 *``) would break the
    scheduler later, far from the file.

    Cached: thousands of sources share a handful of expressions, and this check was half of
    the validation time of a large ``sources.yaml`` (a refused expression is not cached).
    """
    from datetime import datetime

    from croniter import CroniterBadCronError, CroniterBadDateError, CroniterError, croniter

    expression = CRON_PRESETS.get(expr, expr)
    if expr.startswith("@") and expr not in CRON_PRESETS:
        raise ValueError(f"unknown cron preset {expr!r} (known: {', '.join(CRON_PRESETS)})")
    fields = expression.split()
    if len(fields) != 5:  # croniter also takes seconds/years; Airflow's timetables do not
        raise ValueError(f"cron expression {expr!r} must have 5 fields, has {len(fields)}")
    try:
        croniter(expression, datetime(2025, 1, 1), max_years_between_matches=5).get_next(datetime)
    except (CroniterBadCronError, CroniterBadDateError, CroniterError, ValueError, KeyError) as exc:
        raise ValueError(f"invalid cron expression {expr!r}: {exc}") from None
    return expr


@functools.lru_cache(maxsize=1024)
def _check_timezone(name: str) -> str:
    """Validate with pendulum, which Airflow's timetables use to read the name (cached, as above)."""
    import pendulum

    try:
        ZoneInfo(name)
        pendulum.timezone(name)
    except Exception as exc:  # ZoneInfoNotFoundError, ValueError, pendulum's own errors
        raise ValueError(f"unknown time zone {name!r}") from exc
    return name


class StrictModel(BaseModel):
    """Base for every config section: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Discovery(StrictModel):
    """Where the crawler starts looking for articles."""

    feeds: list[HttpUrl] = Field(default_factory=list, description="RSS 2.0 / Atom feed URLs.")
    sitemaps: list[HttpUrl] = Field(
        default_factory=list, description="XML sitemaps, sitemap indexes, Google News sitemaps."
    )
    listings: list[HttpUrl] = Field(
        default_factory=list, description="Homepage/section pages whose links and pagination are followed."
    )
    seeds: list[HttpUrl] = Field(default_factory=list, description="Article URLs fetched directly.")
    robots_sitemaps: bool = Field(default=False, description="Also use the Sitemap: lines of robots.txt.")
    max_listing_pages: int = Field(default=5, ge=0, description="Pagination depth per listing.")
    max_age_days: int | None = Field(
        default=None, ge=1, description="Skip feed/sitemap entries older than this."
    )


class ArticleUrls(StrictModel):
    """Which URLs may be articles. Empty ``allow`` means: decide from page signals alone."""

    allow: list[Regex] = Field(default_factory=list)
    deny: list[Regex] = Field(default_factory=list)


class Related(StrictModel):
    """How far to follow "related article" links from an article page."""

    depth: int = Field(default=1, ge=0, le=5, description="Hops of related links to follow.")
    scope: Literal["same_site", "configured_sources", "any"] = "same_site"
    selectors: list[str] = Field(
        default_factory=list, description="Extra CSS selectors of related-link blocks."
    )


class Schedule(StrictModel):
    """When the source's DAG runs; each run owns the window between two cron ticks."""

    cron: Annotated[str, AfterValidator(_check_cron)] = "0 * * * *"
    timezone: Annotated[str, AfterValidator(_check_timezone)] = "UTC"
    paused: bool = False


class Politeness(StrictModel):
    """Crawl manners for the source's domains."""

    concurrency: int = Field(default=4, ge=1, le=64, description="Concurrent requests per domain.")
    delay: float = Field(
        default=0.25, ge=0, le=60, description="Seconds between requests (AutoThrottle start)."
    )
    autothrottle: bool = True
    download_timeout: float = Field(default=20.0, gt=0, le=600)
    max_response_bytes: int = Field(default=5_000_000, ge=10_000)
    obey_robots: bool = True


DURATION_UNITS = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
DEFAULT_REVISIT = ("1h", "3h", "12h", "1d", "2d", "5d", "10d", "20d", "30d")


def parse_duration(text: str) -> timedelta:
    """A duration written as a number and a unit: ``"90m"``, ``"1h"``, ``"1.5d"``, ``"2w"``.

    Small on purpose: ops write revisit schedules by hand, and one obvious spelling is
    easier to validate (and to read in a review) than ISO 8601 durations.
    """
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*", text)
    if match is None:
        raise ValueError(
            f"invalid duration {text!r}: expected a number and a unit m/h/d/w, e.g. '6h' or '2d'"
        )
    seconds = float(match.group(1)) * DURATION_UNITS[match.group(2)]
    if seconds <= 0:
        raise ValueError(f"invalid duration {text!r}: must be positive")
    return timedelta(seconds=seconds)


def _check_duration(text: str) -> str:
    parse_duration(text)
    return text.strip()


Duration = Annotated[str, AfterValidator(_check_duration)]


class Limits(StrictModel):
    """Per-run ceilings and the revisit schedule of stored articles."""

    max_pages: int = Field(default=1000, ge=1, description="Responses fetched per run, at most.")
    revisit: list[Duration] = Field(
        default_factory=lambda: list(DEFAULT_REVISIT),
        description=(
            "Ages after publication at which a stored article is refetched (conditionally) to "
            "catch corrections and retractions; never after the last one. Empty: no revisits."
        ),
    )
    max_revisits_per_run: int = Field(
        default=100, ge=0, description="Scheduled revisits per run, at most (the most overdue first)."
    )

    def revisit_ages(self) -> list[timedelta]:
        """The schedule as sorted, de-duplicated ages."""
        return sorted({parse_duration(d) for d in self.revisit})


class ExtractionOverrides(StrictModel):
    """Per-source cleaning, on top of the generic rules."""

    drop_selectors: list[str] = Field(
        default_factory=list, description="CSS selectors removed from the HTML before extraction."
    )
    drop_patterns: list[Regex] = Field(
        default_factory=list, description="Regexes; a text line matching one is removed."
    )
    learn_boilerplate: bool = True


class Quality(StrictModel):
    """Thresholds of the quality gate that fails a run (so a redesign is caught early)."""

    min_extraction_yield: float = Field(default=0.5, ge=0, le=1)
    max_empty_text_rate: float = Field(default=0.2, ge=0, le=1)
    max_error_rate: float = Field(default=0.5, ge=0, le=1)
    min_articles: int = Field(default=1, ge=0)
    max_lost_articles: int = Field(
        default=0,
        ge=0,
        description=(
            "Article pages vouched for (feed/sitemap entries, stored articles revisited) that may "
            "give no article in one run (JS shells, empty pages, new templates) before it fails."
        ),
    )


class Source(StrictModel):
    """One news site."""

    key: Annotated[str, Field(pattern=SLUG)]
    name: str = Field(min_length=1)
    homepage: HttpUrl
    allowed_domains: list[str] = Field(default_factory=list)
    discovery: Discovery = Field(default_factory=Discovery)
    article_urls: ArticleUrls = Field(default_factory=ArticleUrls)
    related: Related = Field(default_factory=Related)
    schedule: Schedule = Field(default_factory=Schedule)
    politeness: Politeness = Field(default_factory=Politeness)
    limits: Limits = Field(default_factory=Limits)
    extraction: ExtractionOverrides = Field(default_factory=ExtractionOverrides)
    quality: Quality = Field(default_factory=Quality)
    language: str | None = Field(default=None, description="Expected language (ISO 639-1), a hint.")
    tags: list[str] = Field(default_factory=list)
    owner: str = "newsflow"
    trailing_slash: Literal["keep", "strip", "add"] = "keep"
    render: RenderMode = Field(
        default="none",
        description="'browser': fetch article pages with headless Chromium (see pipeline.rendering).",
    )
    allow_private_networks: list[str] = Field(
        default_factory=list,
        description=(
            "Non-public addresses the source may reach, as narrowly as possible: addresses or "
            "CIDR blocks, optionally with a port ('127.0.0.1:8701', '[::1]:8701', '10.0.0.0/8'). "
            "Empty: public addresses only."
        ),
    )

    @field_validator("allowed_domains")
    @classmethod
    def _normalise_domains(cls, domains: list[str]) -> list[str]:
        out = []
        for domain in domains:
            try:
                host, port = split_domain(domain)
            except ValueError as exc:
                raise ValueError(f"invalid domain {domain!r}: {exc}") from None
            out.append(bracketed(host) if port is None else f"{bracketed(host)}:{port}")
        return out

    @field_validator("allow_private_networks", mode="before")
    @classmethod
    def _explicit_openings(cls, value: Any) -> Any:
        # ``true`` used to open every private range: refused, because the point is to say which.
        if value is True:
            raise ValueError(
                "'true' is no longer accepted: list the addresses the source may reach, "
                "e.g. ['127.0.0.1:8701'] (an address or CIDR block, optionally with a port)"
            )
        if value is False or value is None:
            return []
        return value

    @field_validator("allow_private_networks")
    @classmethod
    def _valid_openings(cls, entries: list[str]) -> list[str]:
        return [str(parse_opening(entry)) for entry in entries]

    @model_validator(mode="after")
    def _default_domain(self) -> Source:
        if not self.allowed_domains and self.homepage.host:
            # Keep a non-default port: several demo outlets share 127.0.0.1 on different ports.
            host = bracketed(normalize_host(self.homepage.host))
            default_port = {"http": 80, "https": 443}.get(self.homepage.scheme)
            if self.homepage.port is not None and self.homepage.port != default_port:
                host = f"{host}:{self.homepage.port}"
            object.__setattr__(self, "allowed_domains", [host])
        return self

    def config_hash(self) -> str:
        """Stable hash of the effective config, stored with the source row to spot edits."""
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:16]

    def all_start_urls(self) -> Iterator[str]:
        d = self.discovery
        for group in (d.feeds, d.sitemaps, d.listings, d.seeds):
            for url in group:
                yield str(url)


class SourcesFile(StrictModel):
    """The whole file: ``version`` and the list of ``sources``."""

    version: Literal[1] = 1
    sources: list[Source]

    @model_validator(mode="after")
    def _unique_keys(self) -> SourcesFile:
        seen: set[str] = set()
        for src in self.sources:
            if src.key in seen:
                raise ValueError(f"duplicate source key {src.key!r}")
            seen.add(src.key)
        return self

    def get(self, key: str) -> Source:
        for src in self.sources:
            if src.key == key:
                return src
        known = ", ".join(s.key for s in self.sources) or "none"
        raise KeyError(f"no source {key!r} in the sources file (known: {known})")


def parse_sources(text: str, path: str = "sources.yaml") -> SourcesFile:
    """Validate YAML text; raise :class:`ConfigError` with located issues (all of them)."""
    doc, raw_sources = read_document(text, path)
    issues = [issue for group in problem_issues(doc, raw_sources, path).values() for issue in group]
    try:
        parsed = SourcesFile.model_validate(doc.data)
    except ValidationError as exc:
        issues += validation_issues(exc, (), raw_sources, doc, path)
    if issues:
        raise ConfigError(sorted(issues, key=lambda i: i.line or 0))
    return parsed


def parse_sources_partial(text: str, path: str = "sources.yaml") -> tuple[list[Source], list[ConfigIssue]]:
    """The valid sources of a file and the issues of the invalid ones, for the DAG processor.

    One source's typo must not hide every other source's DAG: a source with an issue (or a
    duplicate key, or a key an earlier source already took) is left out and reported. Only
    problems of the file as a whole (YAML syntax, aliases, size, a bad top level) raise
    :class:`ConfigError`.
    """
    checked = check_sources(text, path)
    return [source for source, _raw in checked.valid], checked.issues


@dataclass(frozen=True)
class CheckedSources:
    """:func:`check_sources`' answer: each valid source with the raw data it was validated from."""

    valid: list[tuple[Source, dict[str, Any]]]
    issues: list[ConfigIssue]


def check_sources(text: str, path: str = "sources.yaml", *, only_key: str | None = None) -> CheckedSources:
    """:func:`parse_sources_partial`, keeping the raw data; ``only_key``: validate that source only.

    With ``only_key`` the YAML is still read whole (problems of the file as a whole still
    raise), but pydantic sees only the entries whose ``key`` is ``only_key``, judged exactly
    as in the whole-file pass (a later entry with the same key is a duplicate), so a task
    that needs one source (:mod:`pipeline.sourcecache`) gets the same verdict for it.
    """
    doc, raw_sources = read_document(text, path)
    data = doc.data
    top = {k: v for k, v in data.items() if k != "sources"}
    try:
        SourcesFile.model_validate({**top, "sources": []})
    except ValidationError as exc:
        raise ConfigError(validation_issues(exc, (), raw_sources, doc, path)) from None
    if not isinstance(data.get("sources"), list):
        line = line_for(("sources",), doc.lines)
        raise ConfigError([ConfigIssue(path, line, None, "sources", "expected a list of sources")])
    by_index = problem_issues(doc, raw_sources, path)
    valid: list[tuple[Source, dict[str, Any]]] = []
    taken: set[str] = set()  # a set: checking the list was quadratic (10,000 sources: 75 s)
    issues: list[ConfigIssue] = []
    for index, item in enumerate(raw_sources):
        if only_key is not None and not (isinstance(item, dict) and item.get("key") == only_key):
            continue
        if index in by_index:
            issues += by_index[index]
            continue
        try:
            source = Source.model_validate(item)
        except ValidationError as exc:
            issues += validation_issues(exc, ("sources", index), raw_sources, doc, path)
            continue
        if source.key in taken:
            line = line_for(("sources", index, "key"), doc.lines)
            issues.append(
                ConfigIssue(
                    path, line, source.key, f"sources.{index}.key", f"duplicate source key {source.key!r}"
                )
            )
            continue
        valid.append((source, item))
        taken.add(source.key)
    return CheckedSources(valid, issues)


def load_sources(path: Path | str | None = None) -> SourcesFile:
    """Read and validate the sources file (default: ``NEWSFLOW_SOURCES``)."""
    if path is None:
        from pipeline.settings import get_settings

        path = get_settings().sources
    return parse_sources(read_sources_text(path), str(Path(path)))


def load_sources_partial(path: Path | str) -> tuple[list[Source], list[ConfigIssue]]:
    """:func:`parse_sources_partial` of a file (the DAG processor's view of ``sources.yaml``)."""
    return parse_sources_partial(read_sources_text(path), str(Path(path)))


def dump_sources(sources: list[dict[str, Any]]) -> str:
    """Render sources as YAML (used by the demo network's ``--sources-out``), validated first."""
    validated = SourcesFile.model_validate({"version": 1, "sources": sources})
    data = validated.model_dump(mode="json", exclude_defaults=True)
    data["version"] = 1
    return yamlsafe.dump(data)
