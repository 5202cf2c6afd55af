"""Quality gates: the numbers that tell a healthy run from a broken source.

A site redesign rarely makes a crawl fail; it makes extraction quietly return nothing, or
empty text, for every page. The gates turn that into a failed run on the first occurrence,
with a message naming the metric, its value and the threshold (from the source's
``quality`` section in ``sources.yaml``), so that ops see *why* and not just *that*.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from pipeline.config import Quality
from pipeline.errors import NewsflowError


class QualityGateFailed(NewsflowError):
    """A run's metrics are outside the source's thresholds; the message names each cause."""

    def __init__(self, source_key: str, run_id: str, failures: list[str]) -> None:
        self.source_key = source_key
        self.run_id = run_id
        self.failures = failures
        super().__init__(f"quality gate failed for {source_key} run {run_id}: " + "; ".join(failures))


@dataclass(frozen=True)
class RunMetrics:
    """Counts of one run, as read from its fetches, extracted records and load counters.

    ``attempts`` counts fetches that were really attempted (fetched, not modified or
    failed); pages skipped by robots.txt or the URL filter are not attempts. ``extracted``
    counts extraction records of article candidates; ``unchanged_candidates`` are article
    candidates answered "304 Not Modified", and ``known_skipped`` article URLs the crawler
    found on a feed, sitemap or listing but did not refetch because they are already stored
    and old: both are seen but not re-extracted, so an incremental run with nothing new is
    not mistaken for a broken source.
    """

    attempts: int
    errors: int
    extracted: int
    extracted_ok: int
    extracted_empty: int
    extracted_failed: int
    not_article: int
    unchanged_candidates: int
    articles_loaded: int
    known_skipped: int = 0
    fetched: int = 0

    @property
    def articles_seen(self) -> int:
        """Articles this run saw: loaded, unchanged (304) and known-and-skipped ones."""
        return self.articles_loaded + self.unchanged_candidates + self.known_skipped

    @property
    def extraction_yield(self) -> float | None:
        return self.extracted_ok / self.extracted if self.extracted else None

    @property
    def empty_text_rate(self) -> float | None:
        return self.extracted_empty / self.extracted if self.extracted else None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.attempts if self.attempts else None

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = asdict(self)
        data.update(
            articles_seen=self.articles_seen,
            extraction_yield=_round(self.extraction_yield),
            empty_text_rate=_round(self.empty_text_rate),
            error_rate=_round(self.error_rate),
        )
        return data


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def evaluate(metrics: RunMetrics, thresholds: Quality) -> list[str]:
    """Every gate the metrics fail, as sentences naming the cause; empty when the run passes.

    A rate whose denominator is zero is not judged (a run with nothing to extract has no
    yield); ``min_articles`` still catches a run that saw nothing at all.
    """
    failures: list[str] = []
    y = metrics.extraction_yield
    if y is not None and y < thresholds.min_extraction_yield:
        failures.append(
            f"extraction yield {_pct(y)} ({metrics.extracted_ok} of {metrics.extracted} article pages "
            f"gave an article) is below min_extraction_yield {_pct(thresholds.min_extraction_yield)}"
            " - has the site's layout changed?"
        )
    e = metrics.empty_text_rate
    if e is not None and e > thresholds.max_empty_text_rate:
        failures.append(
            f"empty-text rate {_pct(e)} ({metrics.extracted_empty} of {metrics.extracted} article pages "
            f"had no body text) is above max_empty_text_rate {_pct(thresholds.max_empty_text_rate)}"
        )
    r = metrics.error_rate
    if r is not None and r > thresholds.max_error_rate:
        failures.append(
            f"error rate {_pct(r)} ({metrics.errors} of {metrics.attempts} fetches failed) is above "
            f"max_error_rate {_pct(thresholds.max_error_rate)}"
        )
    if metrics.articles_seen < thresholds.min_articles:
        hint = ""
        if metrics.articles_seen == 0 and metrics.fetched:
            hint = (
                f" ({metrics.fetched} pages fetched, none gave or looked like an article"
                " - has the site's layout or its feeds changed?)"
            )
        failures.append(
            f"articles per run {metrics.articles_seen} is below min_articles {thresholds.min_articles}{hint}"
        )
    return failures


def verdict(metrics: RunMetrics, thresholds: Quality) -> dict[str, Any]:
    """The JSON stored in ``crawl_runs.quality``: passed flag, failures, metrics, thresholds."""
    failures = evaluate(metrics, thresholds)
    return {
        "passed": not failures,
        "failures": failures,
        "metrics": metrics.as_dict(),
        "thresholds": thresholds.model_dump(mode="json"),
    }
