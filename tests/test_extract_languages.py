"""Articles in seven languages and a dateless page, through the real extractor (fixture HTML).

Each page (``tests/fixtures/lang/``, written for newsflow) has the traps of its kind: a
sidebar or "related" list with other stories' ``<time>``s, a template that declares no
language or the wrong one, a byline in the page's own words ("记者", "기자", "بقلم", "Автор",
"Von", "Por"), a date written the local way. The fields are read from
``extract_outcome(...).article``, which carries them whatever detection decided; ``status``
is asserted only for the pages today's detector accepts (the Chinese, Japanese and Korean
pages are still judged "little text" by a whitespace word count, which the detection rework
replaces).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from pipeline.extract import extract_outcome
from pipeline.records import ExtractedArticle

FIXTURES = Path(__file__).parent / "fixtures" / "lang"

# file, title, key sentence, boilerplate that must not be in the text, date, language, authors
CASES = [
    (
        "zh_article.html",
        "滨海市启动老旧小区改造计划",
        "首批三十个小区将于明年春季开工",
        "三条公交线路明起调整",
        date(2026, 12, 7),
        "zh",
        ["王小明"],
    ),
    (
        "ja_article.html",
        "港町の商店街、空き店舗に若手起業家を誘致",
        "市と商店街振興組合が家賃の一部を最長三年間補助する",
        "冬の魚市場がにぎわう",
        date(2026, 12, 7),
        "ja",
        ["山田太郎"],
    ),
    (
        "ko_article.html",
        "해안도시, 내년부터 전기 버스 100대 도입",
        "사업비는 국비와 시비를 합쳐 모두 450억 원이다",
        "항구 축제 주말 개막",
        date(2026, 12, 7),
        "ko",
        ["김민수"],
    ),
    (
        "ar_article.html",
        "افتتاح أول محطة لتحلية المياه بالطاقة الشمسية في المدينة الساحلية",
        "ستوفر مياه الشرب لنحو مئة ألف نسمة",
        "جميع الحقوق محفوظة",
        date(2026, 12, 7),
        "ar",
        ["أحمد علي"],
    ),
    (
        "ru_article.html",
        "В Приморске открыли новый мост через реку",
        "Строительство длиной почти восемьсот метров продолжалось три года",
        "Зимний сезон на катке стартует раньше",
        date(2026, 12, 7),
        "ru",
        ["Иван Петров"],
    ),
    (
        "de_article.html",
        "Stadtrat beschließt neues Radwegenetz",
        "Bis 2030 sollen 45 Kilometer geschützte Radwege entstehen.",
        "Hallenbad bleibt bis Januar geschlossen",
        date(2026, 12, 7),
        "de",
        ["Anna Schmidt", "Peter Müller"],
    ),
    (
        "es_article.html",
        "La ciudad amplía el horario del metro durante las fiestas",
        "el metro funcionará las veinticuatro horas durante los fines de semana de diciembre",
        "Abre el mercado navideño del puerto",
        date(2026, 12, 7),
        "es",
        ["María García", "Juan López"],
    ),
]
#: Pages the current detector accepts (the others are rejected as "little text" until the
#: detection rework counts characters instead of whitespace words).


def _extract(name: str, url: str | None = None) -> tuple[str, ExtractedArticle]:
    html = (FIXTURES / name).read_text(encoding="utf-8")
    outcome = extract_outcome(html, url or f"https://news.example/local/{name}")
    assert outcome.article is not None, outcome.reason
    return outcome.status, outcome.article


@pytest.mark.parametrize(("name", "title", "sentence", "boilerplate", "day", "language", "authors"), CASES)
def test_article_fields_in_every_language(
    name: str, title: str, sentence: str, boilerplate: str, day: date, language: str, authors: list[str]
) -> None:
    status, article = _extract(name)
    assert article.title == title
    assert sentence in article.text
    assert boilerplate not in article.text
    assert article.published_at is not None and article.published_at.date() == day
    assert article.language == language
    assert article.authors == authors
    assert status == "ok"  # CJK articles were rejected as "little text" before detection v2


def test_a_related_items_time_never_wins_over_the_articles_own_date() -> None:
    # The German page lists two teasers with <time> before the story; the story's date is
    # only written in its dateline ("7. Dezember 2026").
    _status, article = _extract("de_article.html")
    assert article.published_at is not None and article.published_at.date() == date(2026, 12, 7)
    assert article.published_from == "text"


def test_declared_language_that_the_text_contradicts_is_replaced() -> None:
    # The Russian page's template says lang="en"; the Chinese and Arabic pages declare nothing.
    for name, expected in (("ru_article.html", "ru"), ("zh_article.html", "zh"), ("ar_article.html", "ar")):
        _status, article = _extract(name)
        assert article.language == expected, name


def test_modified_date_comes_with_its_origin() -> None:
    _status, article = _extract("es_article.html")
    assert article.modified_at is not None and article.modified_at.hour == 13
    assert article.modified_from == "jsonld"


def test_a_dateless_page_gets_no_date() -> None:
    # Its only dates belong to the "Latest news" sidebar, a fact in the body (1898) and the
    # copyright line.
    status, article = _extract(
        "dateless_page.html", "https://heritage.example/history/how-the-lighthouse-works"
    )
    assert status == "ok"
    assert article.published_at is None and article.published_from is None
    assert article.language == "en"
    assert "first lit on 12 March 1898" in article.text
    assert "Volunteers needed for the winter season" not in article.text
