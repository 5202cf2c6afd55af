"""``benchmarks/chooser_training.py``: the line mixes it scores and the per-fold sums."""

from __future__ import annotations

from benchmarks.chooser_training import Bench, lead_mix, tail_mix
from benchmarks.cv import K, fold_of

OURS = [
    "Port strike ends",
    "The lead paragraph outside the container.",
    "Body one.",
    "Body two.",
    "Share this",
]
ALT = ["Body one.", "Body  two."]  # whitespace differs: still the same line


def test_lead_mix_prepends_only_the_lines_before_the_first_shared_one() -> None:
    assert lead_mix(OURS, ALT) == [*OURS[:2], *ALT]
    assert lead_mix(OURS, ALT, most=1) == ALT  # a longer lead is left out
    assert lead_mix(OURS, ["Nothing in common."]) == ["Nothing in common."]


def test_tail_mix_appends_the_lines_after_the_last_shared_one() -> None:
    assert tail_mix(OURS, ALT) == [*ALT, "Share this"]


def test_score_sums_gains_per_fold() -> None:
    truth = "Body one is here. Body two is there and the story goes on."
    store = {"a": {"ours": ["Share this page with friends now"], "page_chars": 100}}
    bench = Bench(store, {"a": truth})
    result = bench.score({"a": [truth]})
    assert result["switched"] == 1 and result["gain"] == 2.0
    assert result["folds"][fold_of("a")] == 2.0 and sum(result["folds"]) == 2.0 and len(result["folds"]) == K


def test_train_chooser_counts_a_sample_where_the_extractor_asks_the_model() -> None:
    from benchmarks.train_chooser import asked
    from pipeline.extract.chooser import GATE_PAGE_SHARE, features, gated

    ours = OURS[1:4]
    chars = sum(map(len, ours))
    for page_chars in (
        chars * 2,
        round(chars / GATE_PAGE_SHARE) + 1,
        round(chars / GATE_PAGE_SHARE) - 1,
        chars,
    ):
        values = features(ours, ALT, page_chars, {})
        assert asked(values, "\n\n".join(ours)) == gated(chars, page_chars)
    assert asked(features(ours, ALT, chars * 2, {}), "\n\n".join(ours))
    assert not asked(features(ours, ALT, chars, {}), "\n\n".join(ours))
