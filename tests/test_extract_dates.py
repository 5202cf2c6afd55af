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


def _with_headline(html: str, url: str = "https://example.org/story") -> tuple[date | None, str | None]:
    tree = fromstring(html)
    headline = tree.find(".//h1")
    found = extract_dates(tree, parse_jsonld(tree), url, headline)
    return (found.published.date() if found.published else None), found.published_from


def test_a_teaser_time_before_the_story_never_wins_over_its_dateline() -> None:
    html = (
        "<html><body><div class='most-read'><h3>Most read</h3>"
        "<div><a href='/a'>Another story with a long enough headline</a>"
        "<time datetime='2025-01-02'>2 Jan</time></div></div>"
        "<ul><li><a href='/b'>Yet another story with a long headline</a><time datetime='2025-01-03'>3 Jan</time></li></ul>"
        f"<main><h1>H</h1><p class='byline'>By Jane Roe, 5 March 2025</p><p>{FILLER}</p></main></body></html>"
    )
    assert _with_headline(html) == (date(2025, 3, 5), "text")


def test_a_time_next_to_the_headline_wins_over_one_elsewhere_on_the_page() -> None:
    html = (
        "<html><body><div class='top'><span>Today <time datetime='2025-06-30'>30 June</time></span></div>"
        "<article><header><h1>H</h1><div class='meta'><time datetime='2025-06-01T10:00:00Z'>1 June</time>"
        f"</div></header><p>{FILLER}</p></article></body></html>"
    )
    assert _with_headline(html) == (date(2025, 6, 1), "time")


def test_a_date_panel_aside_inside_the_article_is_the_articles_own() -> None:
    html = (
        "<html><body><article><h2>H</h2><aside><time datetime='2021-06-06'>June 6, 2021</time></aside>"
        f"<p>{FILLER}</p></article></body></html>"
    )
    tree = fromstring(html)
    found = extract_dates(tree, [], "https://example.org/story", tree.find(".//h2"))
    assert found.published is not None and found.published.date() == date(2021, 6, 6)


def test_an_evergreen_page_showing_no_date_gets_none_from_its_jsonld() -> None:
    graph = (
        '<script type="application/ld+json">{"@type": "WebPage", "datePublished": "2015-06-04T10:00:00Z",'
        ' "dateModified": "2024-08-05T10:00:00Z"}</script>'
    )
    html = f"<html><head>{graph}</head><body><h1>H</h1><p>{FILLER}</p></body></html>"
    tree = fromstring(html)
    found = extract_dates(tree, parse_jsonld(tree), "https://example.org/guide")
    assert (found.published, found.published_from) == (None, None)
    assert found.modified is not None and found.modified_from == "jsonld"
    # The same JSON-LD on a page that shows its date keeps the declared one.
    shown = html.replace("<h1>H</h1>", "<h1>H</h1><p>Published June 4, 2015</p>")
    assert _dates(shown) == (date(2015, 6, 4), "jsonld")


def test_a_deadline_after_by_or_to_is_not_a_dateline() -> None:
    html = (
        "<html><body><h1>H</h1><p>Servers stop accepting connections by January 15, 2026, and the offer"
        f" runs to January 20, 2026.</p><p>{FILLER}</p></body></html>"
    )
    assert text_date(fromstring(html)) is None


def test_datelines_in_other_languages_and_digits() -> None:
    for dateline, lang in (
        ("Опубликовано 7 декабря 2026", "ru"),
        ("٧ ديسمبر ٢٠٢٦", "ar"),
        ("2026年12月7日 08:30", "zh"),
        ("입력 2026년 12월 7일 오전 10:15", "ko"),
        ("7. Dezember 2026", "de"),
        ("12 listopada 2026", "pl"),
    ):
        html = f"<html lang='{lang}'><body><h1>H</h1><p>{dateline}</p><p>{FILLER}</p></body></html>"
        found = text_date(fromstring(html), language=lang)
        assert found is not None, dateline
        assert found.date() == (date(2026, 11, 12) if lang == "pl" else date(2026, 12, 7)), dateline
