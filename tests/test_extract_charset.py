"""Charset detection order: BOM, HTTP header, <meta>, statistical detection."""

from __future__ import annotations

import codecs
from pathlib import Path

from pipeline.extract import decode_html, extract_article

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
RUSSIAN = "Губернатор Белгородской области заявил, что ситуация остаётся напряжённой."


def test_http_header_charset_wins_over_nothing() -> None:
    body = f"<p>{RUSSIAN}</p>".encode("cp1251")
    text, encoding = decode_html(body, "text/html; charset=windows-1251")
    assert RUSSIAN in text
    assert encoding == "cp1251"


def test_bom_wins_over_a_lying_header() -> None:
    body = codecs.BOM_UTF8 + f"<p>{RUSSIAN}</p>".encode()
    text, encoding = decode_html(body, "text/html; charset=iso-8859-1")
    assert RUSSIAN in text and not text.startswith("\ufeff")
    assert encoding == "utf-8-sig"
    text16, _ = decode_html(codecs.BOM_UTF16_LE + f"<p>{RUSSIAN}</p>".encode("utf-16-le"))
    assert RUSSIAN in text16


def test_meta_charset_used_without_header() -> None:
    text, encoding = decode_html((FIXTURES / "cp1251.html").read_bytes(), None)
    assert "Губернатор Белгородской области" in text
    assert encoding == "cp1251"


def test_detection_without_any_declaration() -> None:
    paragraph = " ".join([RUSSIAN] * 20)
    body = f"<html><body><p>{paragraph}</p></body></html>".encode("cp1251")
    text, encoding = decode_html(body, "text/html")
    assert RUSSIAN in text
    assert encoding.replace("-", "").replace("_", "").lower() in {"cp1251", "windows1251"}


def test_unknown_or_undecodable_header_charset_falls_through() -> None:
    body = f"<p>{RUSSIAN}</p>".encode()
    text, encoding = decode_html(body, "text/html; charset=x-no-such-charset")
    assert RUSSIAN in text and encoding == "utf-8"
    # Header says UTF-8 but the bytes are windows-1251 with a <meta>: the meta label wins.
    cp_body = f'<meta charset="windows-1251"><p>{RUSSIAN}</p>'.encode("cp1251")
    text2, encoding2 = decode_html(cp_body, "text/html; charset=utf-8")
    assert RUSSIAN in text2 and encoding2 == "cp1251"


def test_cp1251_article_end_to_end() -> None:
    article = extract_article(
        (FIXTURES / "cp1251.html").read_bytes(), "https://ledger.example/news/world/belgorod-statement-ru"
    )
    assert article is not None
    assert article.title == "Губернатор сделал заявление"
    assert article.language == "ru"
    assert "Жители приграничных сёл" in article.text
