"""``benchmarks/text_bands.py``: it records the candidate bodies where the extractor calls the
chooser, leaves the extractor as it was, and scores the line trims on the right lines."""

from __future__ import annotations

from typing import Any

from benchmarks.text_bands import _recording, trims
from pipeline.extract import api, chooser
from pipeline.extract.api import extract_outcome

STORY = [
    "The harbour authority approved a new container terminal on Tuesday, ending two years of dispute.",
    "Work on the quay is due to start in the spring and to take three years, the authority said.",
    "Residents had objected to night-time traffic; the plan now limits lorries to daytime hours.",
    "The terminal is expected to double the port's capacity and to create about 400 jobs locally.",
]


def _page() -> dict[str, Any]:
    """A story whose body is a small share of the page's text (a sidebar of notes beside it)."""
    body = "".join(f"<p>{p}</p>" for p in STORY)
    side = "".join(
        f"<div class='box'><h3>Port notes {i}</h3>"
        f"<span>Opening hours of the harbour office and ferry desk, week {i}</span></div>"
        for i in range(12)
    )
    html = (
        "<html lang='en'><head><title>Terminal approved</title>"
        "<meta property='og:type' content='article'></head><body>"
        f"<article><h1>Terminal approved</h1><p class='byline'>By Ann Lee</p>{body}</article>"
        f"<aside>{side}</aside></body></html>"
    )
    return {
        "id": "p1",
        "url": "https://ledger.example/2024/05/terminal-approved.html",
        "html": html,
        "text": "",
    }


def test_recording_keeps_every_candidate_and_restores_the_chooser() -> None:
    page = _page()
    store: dict[str, dict[str, Any]] = {}
    original = chooser.choose
    with _recording(store, page):
        assert vars(api)["choose"] is not original
        outcome = extract_outcome(page["html"], page["url"])
    assert vars(api)["choose"] is original
    assert outcome.status == "ok"
    entry = store["p1"]
    assert entry["ours"][-1] == STORY[-1]
    assert entry["page_chars"] > sum(map(len, entry["ours"]))
    assert any(STORY[0] in line for line in entry["readability"])
    assert any(STORY[0] in line for line in entry["precision"])
    assert any(STORY[0] in line for line in entry["resiliparse"])
    assert any(STORY[0] in line for line in entry["resiliparse-tree"])
    assert entry["resiliparse_cpu"] >= 0


def test_trims_drop_only_short_lines_beyond_the_last_sentence() -> None:
    truth = "\n\n".join(STORY)
    pages = {"a": {"text": truth}, "b": {"text": truth}}
    texts = {"a": "\n\n".join([*STORY, "Share", "Print"]), "b": "\n\n".join(STORY)}
    found = trims(pages, texts)
    tail = found["tail < 30 chars"]
    assert (tail["changed"], tail["won"], tail["lost"]) == (1, 1, 0)
    assert tail["gain"] > 0
    assert found["head < 30 chars"]["changed"] == 0


def test_body_shape_measures_never_replace_a_shipped_measure() -> None:
    from benchmarks.text_bands import SHAPE, _shape

    for prefix in ("ours-", "alt-"):
        assert not set(_shape(SHAPE + prefix, STORY)) & set(chooser.FEATURES)
    # the names the variants once used did collide (and silently redefined two shipped measures)
    assert set(_shape("ours-", STORY)) & set(chooser.FEATURES)
