"""Removal notices: a 200 page that says its story is gone -> status ``removed`` (real trafilatura).

The load marks the stored story removed on such a row, so a false positive would take a
live story down: a real article that talks about a removal must stay ``ok``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from pipeline.db.engine import get_engine, session_scope
from pipeline.db.models import CrawlRun
from pipeline.extract import extract_outcome
from pipeline.stages.extract import extract
from tests.test_extract_stage import article_html, make_run, records

FIXTURES = Path(__file__).parent / "fixtures" / "embedded"
URL = "https://harbourtimes.example/news/2024/06/11/harbour-authority-ferry-terminal"


def page(
    body: str, lang: str = "en", title: str = "Harbour authority votes to close the old ferry terminal"
) -> str:
    """A news template: nav, the given main content, a most-read box and a footer."""
    nav = "".join(
        f"<li><a href='/{s}/'>{s.title()}</a></li>" for s in ("news", "sport", "business", "culture")
    )
    most_read = "".join(
        f"<li><a href='/news/2024/06/0{n}/story-{n}'>Another story number {n} from the harbour</a></li>"
        for n in range(1, 5)
    )
    return (
        f"<html lang='{lang}'><head><title>{title} | The Harbour Times</title>"
        "<meta property='og:type' content='article'></head><body>"
        f"<header><a href='/'>The Harbour Times</a><nav><ul>{nav}</ul></nav></header>"
        f"<main><article>{body}</article><aside><h2>Most read</h2><ol>{most_read}</ol></aside></main>"
        "<footer><p>&copy; 2024 The Harbour Times</p><a href='/privacy/'>Privacy</a></footer></body></html>"
    )


def test_a_removed_story_page_is_a_removal_with_the_notice_as_reason() -> None:
    result = extract_outcome((FIXTURES / "removed_notice.html").read_bytes(), URL)
    assert result.status == "removed"
    assert result.reason == "story-removed notice: 'This story has been removed.'"
    assert result.article is not None and not result.article.is_article
    assert result.article.canonical_url  # the load can match the stored story by it


def test_a_real_article_that_mentions_a_removal_stays_an_article() -> None:
    result = extract_outcome((FIXTURES / "article_mentions_removed.html").read_bytes(), URL)
    assert result.status == "ok", result.reason
    assert result.article is not None
    assert "The article has been removed from the council's website" in result.article.text


@pytest.mark.parametrize(
    ("body", "lang", "notice"),
    [
        ("<h1>This article is no longer available</h1>", "en", "This article is no longer available"),
        (
            "<h2>Sorry, this story has been retracted.</h2><p>Read our corrections policy.</p>",
            "en",
            "Sorry, this story has been retracted.",
        ),
        (
            "<p>This article was removed at the request of the subject.</p>",
            "en",
            "This article was removed at the request of the subject.",
        ),
        (
            "<h1>Dieser Artikel ist nicht mehr verfügbar.</h1>",
            "de",
            "Dieser Artikel ist nicht mehr verfügbar.",
        ),
        ("<h1>Der Beitrag wurde entfernt</h1>", "de", "Der Beitrag wurde entfernt"),
        ("<h1>Cet article a été supprimé</h1>", "fr", "Cet article a été supprimé"),
        ("<p>Ce contenu n'est plus disponible.</p>", "fr", "Ce contenu n'est plus disponible."),
        ("<h1>Este artículo ha sido retirado</h1>", "es", "Este artículo ha sido retirado"),
        ("<h1>Esta noticia ya no está disponible</h1>", "es", "Esta noticia ya no está disponible"),
    ],
)
def test_notices_in_several_languages(body: str, lang: str, notice: str) -> None:
    result = extract_outcome(page(body, lang), URL)
    assert result.status == "removed", result.reason
    assert result.reason == f"story-removed notice: '{notice}'"


def test_a_short_brief_quoting_a_retraction_mid_sentence_is_not_a_removal() -> None:
    body = (
        "<h1>Journal retracts harbour study</h1>"
        "<p>A marine biology journal said on Friday that a 2019 study of the harbour's seagrass "
        "has been retracted because of errors in its data, and that the authors had agreed.</p>"
    )
    result = extract_outcome(page(body, title="Journal retracts harbour study"), URL)
    assert result.status != "removed"


def test_a_long_article_with_a_notice_like_heading_is_not_a_removal() -> None:
    paragraphs = "".join(
        f"<p>Paragraph {i}: residents gathered at the quay on Saturday to protest against the closure of "
        "the ferry terminal, which the harbour authority announced earlier this week after engineers "
        "warned that the pier could no longer carry a loaded vessel safely.</p>"
        for i in range(8)
    )
    body = f"<h1>Protest at the quay</h1><h2>This story has been updated</h2>{paragraphs}"
    result = extract_outcome(page(body, title="Protest at the quay"), URL)
    assert result.status == "ok", result.reason


def test_the_stage_stores_removed_rows_and_counts_them_apart(db_url: str, tmp_path: Path) -> None:
    pages = {
        "https://examiner.example/2023/05/22/story-1/": article_html(1).encode(),
        "https://examiner.example/2023/05/22/gone/": (FIXTURES / "removed_notice.html").read_bytes(),
    }
    run_id = make_run(db_url, tmp_path, pages)
    result = extract(run_id, database_url=db_url, sources_path=tmp_path / "sources.yaml", workers=1)
    assert (result.pages, result.extracted, result.removed, result.not_article) == (2, 1, 1, 0)

    row = records(db_url)["https://examiner.example/2023/05/22/gone/"]
    assert row.status == "removed"
    assert row.reason == "story-removed notice: 'This story has been removed.'"
    assert row.record is not None and row.record["is_article"] is False
    with session_scope(get_engine(db_url)) as session:
        run = session.scalars(select(CrawlRun).where(CrawlRun.run_id == run_id)).one()
        assert (run.pages_extracted, run.pages_not_article, run.extract_failed) == (1, 0, 0)
        assert run.stats["extract"]["pages_removed"] == 1
        assert run.stats["extract"]["statuses"] == {"ok": 1, "removed": 1}
