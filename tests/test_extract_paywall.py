"""Paywall and teaser flags from page signals (real trafilatura), and their way to ``news_articles``."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from pipeline.db.engine import make_engine
from pipeline.extract import extract_outcome
from pipeline.extract.jsonld import parse_jsonld
from pipeline.extract.parsing import parse_html as _parse
from pipeline.extract.paywall import ends_in_prompt, page_signals, paywall_flags
from pipeline.stages.load import load
from tests.loadkit import add_record, make_run, make_source

FIXTURES = Path(__file__).parent / "fixtures" / "paywall"
URL = "https://harbourtimes.example/news/2024/06/11/story"
BODY = (
    "<p>The harbour authority voted on Tuesday night to close the old ferry terminal at the end of the "
    "summer, after engineers found that the pier could no longer carry the weight of loaded lorries.</p>"
    "<p>Passengers will use a temporary pontoon beside the fish market until a permanent terminal is "
    "built, a project the authority expects to take at least three years and to cost several million.</p>"
)


def page(ending: str, lang: str = "en", head: str = "") -> str:
    return (
        f"<!doctype html><html lang='{lang}'><head><meta charset='utf-8'><title>Ferry terminal to close</title>"
        f"<meta property='og:type' content='article'>{head}</head><body><nav><a href='/'>Home</a></nav>"
        f"<article><h1>Ferry terminal to close</h1><div class='article-body'>{BODY}<p>{ending}</p></div>"
        "</article><footer><p>© 2024 The Harbour Times</p></footer></body></html>"
    )


def flags(html: str | bytes) -> tuple[bool, bool]:
    result = extract_outcome(html, URL)
    assert result.status == "ok", result.reason
    assert result.article is not None
    return result.article.is_paywalled, result.article.is_complete


@pytest.mark.parametrize(
    ("ending", "lang"),
    [
        ("Subscribe to continue reading this story and get unlimited access.", "en"),
        ("To continue reading, subscribe for $1 a week.", "en"),
        ("Dieser Artikel ist exklusiv für Abonnenten. Jetzt abonnieren und weiterlesen.", "de"),
        ("Il vous reste 72% de cet article à lire. La suite est réservée aux abonnés.", "fr"),
        ("Este contenido es exclusivo para suscriptores. Suscríbete para seguir leyendo.", "es"),
        ("Questo articolo è riservato agli abbonati.", "it"),
        ("Dit artikel is alleen beschikbaar voor abonnees.", "nl"),
        ("Этот материал доступен только подписчикам.", "ru"),
        ("この記事は有料会員限定です。続きを読むには会員登録が必要です。", "ja"),
        ("Den här artikeln är låst. Bli prenumerant för att läsa vidare.", "sv"),
    ],
)
def test_a_body_ending_in_a_subscription_prompt_is_a_paywalled_teaser(ending: str, lang: str) -> None:
    assert flags(page(ending, lang)) == (True, False)


def test_a_free_article_is_neither_paywalled_nor_incomplete() -> None:
    ending = "The authority will publish the tender documents for the permanent terminal in September."
    assert flags(page(ending)) == (False, True)


def test_a_story_about_subscriptions_with_login_chrome_is_not_flagged() -> None:
    """Prompt phrases inside prose, a Piano slot in the header, a login link in the footer,
    and a JSON-LD that says the article is free: no flag."""
    assert flags((FIXTURES / "free_mentions_subscribers.html").read_bytes()) == (False, True)


def test_jsonld_not_free_with_an_empty_gated_part_is_a_teaser() -> None:
    html = (FIXTURES / "declared_teaser.html").read_bytes()
    tree = _parse(html.decode())
    assert tree is not None
    signals = page_signals(tree, parse_jsonld(tree))
    assert signals.declared and signals.gated_part_missing
    assert flags(html) == (True, False)


def test_jsonld_not_free_with_the_whole_body_present_is_paywalled_but_complete() -> None:
    """Metered sites serve the full text to a crawler: declared, but nothing is missing."""
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": "Ferry terminal to close",'
        ' "isAccessibleForFree": false, "hasPart": {"@type": "WebPageElement",'
        ' "isAccessibleForFree": "False", "cssSelector": ".article-body"}}</script>'
    )
    ending = "The authority will publish the tender documents for the permanent terminal in September."
    assert flags(page(ending, head=head)) == (True, True)


def test_a_shown_gate_in_paywall_markup_is_a_teaser() -> None:
    html = (FIXTURES / "gate_shown_de.html").read_bytes()
    tree = _parse(html.decode())
    assert tree is not None
    signals = page_signals(tree, [])
    assert any("paywall" in m for m in signals.markers) and signals.gate_shown
    assert flags(html) == (True, False)


def test_paywall_markers_alone_flag_the_page_but_not_the_body() -> None:
    ending = "The authority will publish the tender documents for the permanent terminal in September."
    html = page(ending).replace("<footer>", "<div class='paywall-meter' data-left='3'></div><footer>")
    assert flags(html) == (True, True)


def test_prompt_rules() -> None:
    long_prose = "Readers " + "who like the paper " * 12 + "were told to subscribe to continue reading."
    assert not ends_in_prompt([long_prose])
    assert not ends_in_prompt(["Subscribe to continue reading.", "A real last paragraph.", "b", "c"])
    assert ends_in_prompt(["A paragraph."], removed=["Subscribe to continue reading"])
    assert not ends_in_prompt(["A paragraph."], removed=["Already a subscriber? Sign in"])
    tree = _parse(page("x"))
    assert tree is not None
    assert paywall_flags(page_signals(tree, []), ["body"]) == (False, True)


def test_paywall_flags_reach_news_articles(db_url: str) -> None:
    """Extraction -> extracted_records -> load -> the ``news_articles`` view."""
    engine = make_engine(db_url)
    src = make_source(engine)
    run = make_run(engine, src)
    pages = {
        "http://127.0.0.1:8701/2024/06/11/teaser": page("Subscribe to continue reading."),
        "http://127.0.0.1:8701/2024/06/11/free": page("The tender opens in September for all bidders."),
    }
    for url, html in pages.items():
        result = extract_outcome(html, url)
        assert result.article is not None and result.status == "ok"
        add_record(engine, run, src, result.article.model_dump(mode="json"), url=url)
    report = load("r1", database_url=db_url)
    assert report.new == 2
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT url, is_paywalled, is_complete FROM news_articles ORDER BY url")
        ).all()
    assert [(r[0].rsplit("/", 1)[-1], bool(r[1]), bool(r[2])) for r in rows] == [
        ("free", False, True),
        ("teaser", True, False),
    ]
    engine.dispose()


def test_subscribe_buttons_in_the_chrome_are_no_paywall() -> None:
    ending = "The authority will publish the tender documents for the permanent terminal in September."
    chrome = "<header><a class='stat-paywall-subscribe' href='/subscribe'>Subscribe</a></header>"
    html = page(ending).replace("<nav>", chrome + "<nav>")
    assert flags(html) == (False, True)


def test_a_declared_gated_section_absent_from_the_page_proves_nothing_missing() -> None:
    """Metered sites name a class only their subscriber template renders."""
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", "isAccessibleForFree": false,'
        ' "hasPart": {"@type": "WebPageElement", "isAccessibleForFree": false, "cssSelector": ".gated"}}'
        "</script>"
    )
    ending = "The authority will publish the tender documents for the permanent terminal in September."
    assert flags(page(ending, head=head)) == (True, True)
