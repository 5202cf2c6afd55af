"""Publication dates: the date the page shows, with where it came from (real lxml trees)."""

from __future__ import annotations

from datetime import date

from lxml.html import fromstring

from pipeline.extract.dates import extract_dates, text_date
from pipeline.extract.jsonld import parse_jsonld

FILLER = " ".join(["The body of the story goes on with many words about the subject."] * 60)


def _dates(html: str, url: str = "https://example.org/story") -> tuple[date | None, str | None]:
    tree = fromstring(html)
    found = extract_dates(tree, parse_jsonld(tree), url)
    return (found.published.date() if found.published else None), found.published_from


def _jsonld(published: str) -> str:
    return (
        '<script type="application/ld+json">'
        f'{{"@type": "NewsArticle", "headline": "H", "datePublished": "{published}"}}</script>'
    )


def test_visible_dateline_beats_a_stale_jsonld_date() -> None:
    html = (
        f"<html><head>{_jsonld('2019-03-01T08:00:00Z')}</head><body><h1>H</h1>"
        f"<p>By Jane Roe. Updated March 4, 2025</p><p>{FILLER}</p></body></html>"
    )
    assert _dates(html) == (date(2025, 3, 4), "text")


def test_jsonld_gives_the_time_when_it_names_the_same_day() -> None:
    html = (
        f"<html><head>{_jsonld('2025-03-04T08:30:00+01:00')}</head><body><h1>H</h1>"
        f"<p>March 4, 2025</p><p>{FILLER}</p></body></html>"
    )
    tree = fromstring(html)
    found = extract_dates(tree, parse_jsonld(tree), "https://example.org/story")
    assert found.published_from == "jsonld"
    assert found.published is not None and (found.published.hour, found.published.minute) == (8, 30)


def test_jsonld_is_the_last_resort_when_the_page_shows_no_date() -> None:
    html = f"<html><head>{_jsonld('2024-06-01')}</head><body><h1>H</h1><p>{FILLER}</p></body></html>"
    assert _dates(html) == (date(2024, 6, 1), "jsonld")


def test_url_date_is_taken_before_text() -> None:
    html = f"<html><body><h1>H</h1><p>Posted June 2, 2021</p><p>{FILLER}</p></body></html>"
    assert _dates(html, "https://example.org/2021/06/01/story/") == (date(2021, 6, 1), "url")


def test_offer_and_validity_dates_are_not_publication_dates() -> None:
    html = (
        "<html><body><h1>Spring sale</h1><p>This offer is valid through April 30, 2025.</p>"
        f"<p>{FILLER}</p></body></html>"
    )
    assert text_date(fromstring(html)) is None
    assert _dates(html) == (None, None)


def test_unlabelled_date_deep_in_the_body_is_not_a_dateline() -> None:
    html = f"<html><body><h1>H</h1><p>{FILLER}</p><p>Figures for 3 May 2021 show a rise.</p></body></html>"
    assert text_date(fromstring(html)) is None


def test_labelled_dateline_counts_even_after_a_long_intro() -> None:
    html = f"<html><body><h1>H</h1><p>{FILLER}</p><p>Published: 3 May 2021</p></body></html>"
    found = text_date(fromstring(html))
    assert found is not None and found.date() == date(2021, 5, 3)
