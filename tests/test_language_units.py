"""Language codes, detection, worded dates in many languages, and word counts in every script."""

from __future__ import annotations

from datetime import date

import pytest

from pipeline.extract.datewords import first_word_date, month_number
from pipeline.extract.language import choose_language, detect_language, normalise_code, plausible
from pipeline.wordcount import count_words


@pytest.mark.parametrize(
    ("raw", "code"),
    [("en-US", "en"), ("pt_BR", "pt"), ("zh-Hant-TW", "zh"), ("deu", "de"), ("iw", "he"), ("JA", "ja")],
)
def test_declared_codes_become_iso_639_1(raw: str, code: str) -> None:
    assert normalise_code(raw) == code


@pytest.mark.parametrize("raw", [None, "", "und", "x-default", "*", "english", "12"])
def test_placeholders_and_junk_are_no_language(raw: str | None) -> None:
    assert normalise_code(raw) is None


def test_a_declaration_is_plausible_only_in_its_script() -> None:
    chinese = "滨海市政府宣布将在未来三年内投入约四十亿元对全市一百二十个老旧小区进行全面改造惠及居民约八万户"
    assert plausible("zh", chinese)
    assert not plausible("en", chinese)
    assert not plausible(
        "zh", "東京都は七日、新しい政策を発表した。経済の回復が期待されるとのことです。市民の声も聞かれた。"
    )
    assert plausible("en", "短い")  # too little text to contradict anything


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (
            "Die Regierung hat am Montag ein neues Gesetz zur Förderung erneuerbarer Energien beschlossen.",
            "de",
        ),
        ("El gobierno aprobó el lunes una nueva ley para impulsar las energías renovables en el país.", "es"),
        ("Правительство в понедельник приняло новый закон о поддержке возобновляемой энергетики.", "ru"),
        ("أقرت الحكومة يوم الاثنين قانونا جديدا لدعم الطاقة المتجددة في جميع أنحاء البلاد.", "ar"),
        (
            "서울시는 월요일 재생 에너지를 지원하는 새로운 법안을 통과시켰다고 밝혔다. 시민들은 환영했다.",
            "ko",
        ),
    ],
)
def test_detection_names_the_language(text: str, code: str) -> None:
    found = detect_language(text)
    assert found is not None and found[0] == code and found[1] >= 0.8


def test_too_little_text_is_not_guessed_and_the_source_hint_is_used() -> None:
    assert detect_language("OK 123") is None
    assert choose_language(None, "OK 123", "fr") == "fr"
    assert choose_language("und", "OK 123") is None


def test_a_wrong_template_language_loses_to_the_text() -> None:
    text = "Правительство в понедельник приняло новый закон о поддержке возобновляемой энергетики."
    assert choose_language("en", text) == "ru"
    assert choose_language("uk", text) == "uk"  # same script: the declaration stands


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("7 décembre 2026", date(2026, 12, 7)),
        ("7. Dezember 2026", date(2026, 12, 7)),
        ("2026年12月7日 8:30", date(2026, 12, 7)),
        ("2026년 12월 7일 오전", date(2026, 12, 7)),
        ("7 декабря 2026 г.", date(2026, 12, 7)),
        ("٧ ديسمبر ٢٠٢٦", date(2026, 12, 7)),
        ("7 de diciembre de 2026", date(2026, 12, 7)),
        ("15 Ekim 2026", date(2026, 10, 15)),
    ],
)
def test_worded_dates_in_many_languages(text: str, day: date) -> None:
    assert first_word_date(text) == day


def test_a_month_word_that_differs_between_languages_needs_the_page_language() -> None:
    assert month_number("listopad") is None  # November in Polish and Czech, October in Croatian
    assert month_number("listopad", "pl") == 11
    assert month_number("listopad", "hr") == 10
    assert first_word_date("page 7 2026") is None


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("The council met on Monday — and agreed.", 7),  # a lone dash is no word
        ("滨海市政府宣布。", 7),  # one word per ideograph, punctuation is none
        ("東京都は7日に発表した", 11),
        ("서울시는 7일 새로운 정책을 발표했다.", 5),  # Korean separates words with spaces
        ("รัฐบาลประกาศนโยบายใหม่", 6),  # 22 Thai characters, about four per word
        ("", 0),
    ],
)
def test_word_count_is_meaningful_in_every_script(text: str, words: int) -> None:
    assert count_words(text) == words
