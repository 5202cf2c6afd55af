"""The quality-gate rules on their own (no database): thresholds, messages, undefined rates."""

from __future__ import annotations

from pipeline.config import Quality
from pipeline.quality import QualityGateFailed, RunMetrics, evaluate, verdict


def metrics(**overrides: int) -> RunMetrics:
    base = dict(
        attempts=10,
        errors=0,
        extracted=10,
        extracted_ok=10,
        extracted_empty=0,
        extracted_failed=0,
        not_article=0,
        unchanged_candidates=0,
        articles_loaded=10,
    )
    base.update(overrides)
    return RunMetrics(**base)


def test_healthy_run_passes_with_defaults() -> None:
    assert evaluate(metrics(), Quality()) == []
    assert verdict(metrics(), Quality())["passed"] is True


def test_each_gate_names_metric_value_and_threshold() -> None:
    failures = evaluate(
        metrics(extracted_ok=2, extracted_empty=5, errors=8, articles_loaded=0),
        Quality(min_articles=3),
    )
    assert len(failures) == 4
    assert failures[0].startswith("extraction yield 20% (2 of 10")
    assert "min_extraction_yield 50%" in failures[0]
    assert failures[1].startswith("empty-text rate 50%") and "max_empty_text_rate 20%" in failures[1]
    assert failures[2].startswith("error rate 80% (8 of 10 fetches failed)")
    assert failures[3] == "articles per run 0 is below min_articles 3"
    nothing = evaluate(metrics(extracted=0, extracted_ok=0, articles_loaded=0, fetched=6), Quality())
    assert nothing == [
        "articles per run 0 is below min_articles 1 (6 pages fetched, none gave or looked like an"
        " article - has the site's layout or its feeds changed?)"
    ]


def test_rates_without_denominator_are_not_judged() -> None:
    idle = metrics(attempts=0, extracted=0, extracted_ok=0, articles_loaded=0)
    assert idle.extraction_yield is None and idle.error_rate is None
    assert evaluate(idle, Quality(min_articles=0)) == []
    assert evaluate(idle, Quality()) == ["articles per run 0 is below min_articles 1"]
    # Known-and-skipped articles are no longer "seen"; a quiet hour passes because the source
    # has stored articles and its surfaces still list some, not because of them.
    skipped = RunMetrics(**{**idle.__dict__, "known_skipped": 4})
    assert skipped.articles_seen == 0 and evaluate(skipped, Quality()) != []
    quiet = RunMetrics(**{**skipped.__dict__, "stored_before": 9, "listed_articles": 4})
    assert quiet.quiet and evaluate(quiet, Quality()) == []


def test_thresholds_are_per_source() -> None:
    lenient = Quality(min_extraction_yield=0.1, max_empty_text_rate=0.9, max_error_rate=0.9)
    assert evaluate(metrics(extracted_ok=2, extracted_empty=5, errors=8), lenient) == []


def test_exception_message_lists_every_cause() -> None:
    error = QualityGateFailed("alpha", "run-1", ["a", "b"])
    assert str(error) == "quality gate failed for alpha run run-1: a; b"
    assert error.failures == ["a", "b"] and error.exit_code == 1
