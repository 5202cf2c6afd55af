"""``benchmarks/text_losses.py``: the per-page comparison with plain trafilatura reads the right
lines and sums a change per fold (the official scorer lives in ``../shared``, which tests must
not need, so a word-level scorer with the same interface stands in for it)."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

import pytest

from benchmarks.text_losses import compare, diff, page_f1


class WordScorer:
    """The scorer's interface (``extract_eval.py``) on single words instead of 4-grams."""

    @staticmethod
    def tokens(text: str) -> list[str]:
        return re.findall(r"\w+", text)

    @staticmethod
    def shingle_tp_fp_fn(truth: list[str], pred: list[str]) -> tuple[int, int, int]:
        t, p = Counter(truth), Counter(pred)
        return sum((t & p).values()), sum((p - t).values()), sum((t - p).values())

    @staticmethod
    def doc_precision(tp: int, fp: int, fn: int) -> float:
        return tp / (tp + fp) if tp + fp else 0.0

    @staticmethod
    def doc_recall(tp: int, fp: int, fn: int) -> float:
        return tp / (tp + fn) if tp + fn else 0.0


STORY = "The harbour authority approved a terminal.\n\nWork starts in spring."


def test_diff_names_the_lines_each_body_lacks() -> None:
    ours = "The harbour  authority approved a terminal.\n\nRead more: ferry fares"
    theirs = "The harbour authority approved a terminal.\nWork starts in spring."
    only_theirs, only_ours = diff(ours, theirs)
    assert only_theirs == ["Work starts in spring."]  # whitespace differences are no difference
    assert only_ours == ["Read more: ferry fares"]


def test_page_f1_and_the_per_fold_comparison(capsys: pytest.CaptureFixture[str]) -> None:
    scorer = WordScorer()
    assert page_f1(scorer, STORY, STORY) == (1.0, 1.0, 1.0)
    pages: dict[str, dict[str, Any]] = {"a": {"text": STORY}, "b": {"text": STORY}}
    old = {
        "a": {"fold": 0, "ours": "The harbour authority approved a terminal.", "chosen": "trafilatura"},
        "b": {"fold": 3, "ours": STORY, "chosen": "trafilatura"},
    }
    new = {"a": {**old["a"], "ours": STORY}, "b": {**old["b"], "chosen": "readability"}}
    compare(scorer, pages, new, old)
    out = capsys.readouterr().out
    # page a: recall 6 of 10 words -> 10 of 10 (+0.40); page b: only the chooser label moved
    assert "0: +0.40, 3: +0.00" in out and "on 1 pages that moved" in out
    assert "a +0.400 chosen trafilatura -> trafilatura" in out
