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


def test_inner_folds_partition_a_training_set_across_the_outer_folds() -> None:
    from benchmarks.cv import INNER_K, inner_folds

    ids = [f"page-{i}" for i in range(300)]
    splits = list(inner_folds(ids))
    assert len(splits) == INNER_K
    tested = [i for _, test in splits for i in test]
    assert sorted(tested) == list(range(len(ids)))  # every page tested once
    for train, test in splits:
        assert set(train) | set(test) == set(range(len(ids))) and not set(train) & set(test)
        # salted hash: an inner fold holds pages of every outer fold, not one outer fold's
        assert {fold_of(ids[i]) for i in test} == set(range(K))


def test_pick_c_takes_the_best_objective_and_the_smaller_c_on_a_tie() -> None:
    from benchmarks.chooser_cv import pick_c

    table = {
        "0.3": {"gain": 5.0, "log_loss": 0.30},
        "1": {"gain": 5.0, "log_loss": 0.25},
        "3": {"gain": 4.0, "log_loss": 0.20},
    }
    assert pick_c(table, "gain") == 0.3
    assert pick_c(table, "log_loss") == 3.0


def test_inner_table_counts_only_asked_pages_readability_left() -> None:
    from benchmarks.chooser_cv import inner_table
    from pipeline.extract.chooser import FEATURES

    ids = [f"page-{i}" for i in range(80)]
    # readability's body is better exactly where the first measure is positive
    rows = [[(i % 7) - 3.0 + 0.5, *([float(i % 5)] * (len(FEATURES) - 1))] for i in range(80)]
    gains = [1.0 if row[0] > 0 else -1.0 for row in rows]
    matrix = (rows, gains, ids)
    everywhere = inner_table(matrix, set(ids), grid=(1.0,))["1"]
    assert everywhere["gain"] == sum(g for g in gains if g > 0)  # every winner switched, no loser
    assert everywhere["log_loss"] < 0.3
    assert inner_table(matrix, set(), grid=(1.0,))["1"]["gain"] == 0.0
    winners = {d for d, g in zip(ids, gains, strict=True) if g > 0}
    assert inner_table(matrix, set(ids), winners, grid=(1.0,))["1"]["gain"] == 0.0
