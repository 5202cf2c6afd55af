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
class LostPage:
    """An article page that gave no article: what the gate message names."""

    url: str
    status: str  # the extraction status: not_article | empty | error
    reason: str | None = None
    vouched: bool = False  # a feed/sitemap entry or a stored article: it should have been one

    def __str__(self) -> str:
        reason = f": {self.reason}" if self.reason else ""
        return f"{self.url} ({self.status}{reason})"


@dataclass(frozen=True)
class RunMetrics:
    """Counts of one run, as read from its fetches, extracted records and load counters.

    ``attempts`` counts fetches that were really attempted (fetched, not modified or
    failed); pages skipped by robots.txt or the URL filter are not attempts. ``extracted``
    counts extraction records of article candidates, ``removed`` those that were a
    story-removed notice (a fact about the story, not a failure: outside every rate).
    ``unchanged_candidates`` are stored articles answered "304 Not Modified": seen, not
    re-extracted. ``known_skipped`` (stored articles the surfaces listed but the schedule did
    not ask for) is informational only: skipping is the normal state of an old article, so
    it proves nothing about the site's health.

    ``lost`` counts pages vouched for as articles (feed/sitemap entries, stored articles
    asked again) that gave no article; ``lost_pages`` names up to five pages (vouched ones
    first). ``stored_before`` (articles the source had before the run) and
    ``listed_articles`` (article URLs its surfaces listed) tell a quiet hour from a broken
    site; ``None`` means unknown and is read in the source's favour.
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
    removed: int = 0
    lost: int = 0
    lost_pages: tuple[LostPage, ...] = ()
    stored_before: int | None = None
    listed_articles: int | None = None
    backfill: bool = False
    retractions: int = 0  # stored articles that answered 404/410 (not counted as errors)

    @property
    def articles_seen(self) -> int:
        """Articles this run saw: loaded and unchanged (304) ones."""
        return self.articles_loaded + self.unchanged_candidates

    @property
    def judged(self) -> int:
        """Article pages extraction judged, without story-removed notices."""
        return self.extracted - self.removed

    @property
    def extraction_yield(self) -> float | None:
        return self.extracted_ok / self.judged if self.judged > 0 else None

    @property
    def empty_text_rate(self) -> float | None:
        return self.extracted_empty / self.judged if self.judged > 0 else None

    @property
    def error_rate(self) -> float | None:
        return self.errors / self.attempts if self.attempts else None

    @property
    def quiet(self) -> bool:
        """Nothing new to judge on a source with history, and its surfaces still list articles.

        The normal state of an hourly run between stories: everything answered 304 or was
        skipped as not due. A source that never stored an article, or whose surfaces stopped
        listing any, is not quiet but broken (or empty).
        """
        listed = self.listed_articles is None or self.listed_articles > 0 or self.unchanged_candidates > 0
        return bool(self.stored_before) and self.judged == 0 and listed

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = asdict(self)
        data["lost_pages"] = [asdict(page) for page in self.lost_pages]
        data.update(
            articles_seen=self.articles_seen,
            extraction_yield=_round(self.extraction_yield),
            empty_text_rate=_round(self.empty_text_rate),
            error_rate=_round(self.error_rate),
            quiet=self.quiet,
        )
        return data


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _pct(value: float) -> str:
    return f"{value * 100:.0f}%"


def _pages(metrics: RunMetrics) -> str:
    if not metrics.lost_pages:
        return ""
    more = metrics.extracted - metrics.extracted_ok - metrics.removed - len(metrics.lost_pages)
    tail = f"; and {more} more" if more > 0 else ""
    return " - pages: " + "; ".join(str(p) for p in metrics.lost_pages) + tail


def _cause(metrics: RunMetrics) -> str:
    """The likely cause, from what the failed pages have in common."""
    if metrics.extracted_empty and metrics.extracted_empty >= metrics.not_article + metrics.extracted_failed:
        return "pages without body text: are they rendered by JavaScript, or has the layout changed?"
    if metrics.extracted_failed > metrics.not_article:
        return "the extractor failed on them: see the extraction errors"
    return "pages not recognised as articles: has the site's layout changed, or do its pages need JavaScript?"


def evaluate(metrics: RunMetrics, thresholds: Quality) -> list[str]:
    """Every gate the metrics fail, as sentences naming the cause; empty when the run passes.

    A rate whose denominator is zero is not judged (a run with nothing to extract has no
    yield). ``max_lost_articles`` fails a run where article pages the site vouched for
    (feed/sitemap entries, stored articles asked again) gave no article: a redesign or a
    switch to JavaScript shells fails on its first occurrence, even when the other pages of
    the run dilute the yield. ``min_articles`` is judged unless the run is quiet (a source
    with stored articles, nothing new to judge, surfaces still listing articles) or a
    backfill (a past window may hold no story at all): so a quiet hour passes, and an empty
    site or surfaces that list nothing fail.
    """
    failures: list[str] = []
    pages = _pages(metrics)
    if metrics.lost > thresholds.max_lost_articles:
        failures.append(
            f"lost articles {metrics.lost} (article pages from feeds, sitemaps or earlier runs that gave "
            f"no article) is above max_lost_articles {thresholds.max_lost_articles} - {_cause(metrics)}{pages}"
        )
        pages = ""  # named once
    y = metrics.extraction_yield
    if y is not None and y < thresholds.min_extraction_yield:
        failures.append(
            f"extraction yield {_pct(y)} ({metrics.extracted_ok} of {metrics.judged} article pages "
            f"gave an article) is below min_extraction_yield {_pct(thresholds.min_extraction_yield)}"
            f" - has the site's layout changed?{pages}"
        )
        pages = ""
    e = metrics.empty_text_rate
    if e is not None and e > thresholds.max_empty_text_rate:
        failures.append(
            f"empty-text rate {_pct(e)} ({metrics.extracted_empty} of {metrics.judged} article pages "
            f"had no body text) is above max_empty_text_rate {_pct(thresholds.max_empty_text_rate)}{pages}"
        )
    r = metrics.error_rate
    if r is not None and r > thresholds.max_error_rate:
        failures.append(
            f"error rate {_pct(r)} ({metrics.errors} of {metrics.attempts} fetches failed) is above "
            f"max_error_rate {_pct(thresholds.max_error_rate)}"
        )
    judge_count = not (metrics.quiet or metrics.backfill)
    if judge_count and metrics.articles_seen < thresholds.min_articles:
        hint = ""
        if metrics.articles_seen == 0 and metrics.listed_articles == 0:
            hint = " (the discovery surfaces listed no article URLs - has the site's layout or its feeds changed?)"
        elif metrics.articles_seen == 0 and metrics.fetched:
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
