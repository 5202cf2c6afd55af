"""The CPU-saving rewrites (issue 17) answer exactly what the plain per-element code answered.

Each test keeps the straightforward version as the reference and compares on generated
input that exercises the cases where a shortcut could differ (nesting, markers on the
element itself vs an ancestor, ties between scripts, characters outside the BMP).
"""

from __future__ import annotations

import random
from typing import Any

from crawlers import page_analysis as pages
from pipeline.extract import language

CONTAINERS = pages.BOILERPLATE_CONTAINERS | {"aside"}


def _reference_script(text: str) -> tuple[str | None, int]:
    """``dominant_script`` as a loop over every character (the code it replaced)."""
    counts: dict[str, int] = {}
    letters = 0
    for ch in text:
        if not ch.isalpha():
            continue
        letters += 1
        script = language._script_of(ch)
        if script is not None:
            counts[script] = counts.get(script, 0) + 1
    if not counts:
        return None, letters
    if counts.get("kana", 0) >= 0.1 * letters:
        return "kana", letters
    return max(counts, key=lambda s: counts[s]), letters


def test_dominant_script_matches_the_per_letter_loop() -> None:
    rng = random.Random(17)
    pools = [
        range(0x20, 0x250),  # ASCII (digits, punctuation) and Latin
        range(0x370, 0x530),  # Greek, Cyrillic
        range(0x600, 0x700),  # Arabic
        range(0x3040, 0x3100),  # kana
        range(0x4E00, 0x4E40),  # Han
        range(0xAC00, 0xAC40),  # Hangul
        range(0x20000, 0x20040),  # Han beyond the BMP
        range(0xE000, 0xE020),  # private use (the marks the fast path uses): not letters
        range(0x0E00, 0x0E80),  # Thai
    ]
    for _ in range(3000):
        chosen = rng.sample(pools, rng.randint(1, 4))
        text = "".join(chr(rng.choice(rng.choice(chosen))) for _ in range(rng.randint(0, 50)))
        assert language.dominant_script(text) == _reference_script(text), repr(text)
    assert language.dominant_script("ab\u4e00\u4e01") == ("latin", 4)  # a tie: the first script seen


def _related_block(elem: Any) -> bool:
    for ancestor in (elem, *elem.iterancestors()):
        if isinstance(ancestor.tag, str) and pages._related_marker(ancestor):
            return True
    return False


def _in_containers(elem: Any, names: set[str] | frozenset[str]) -> bool:
    return any(isinstance(a.tag, str) and a.tag.lower() in names for a in elem.iterancestors())


def _random_page(rng: random.Random) -> bytes:
    tags = ["div", "section", "nav", "aside", "footer", "header", "article", "main", "p", "ul", "li"]
    markers = ["", "", "", "related-stories", "more-from", "story", "recommended", "entry"]

    def node(depth: int) -> str:
        tag = rng.choice(tags) if depth < 6 else "p"
        marker = rng.choice(markers)
        attr = (
            f' class="{marker}"' if marker and rng.random() < 0.5 else (f' id="{marker}"' if marker else "")
        )
        inner = "".join(node(depth + 1) for _ in range(rng.randint(0, 3))) if tag != "p" else ""
        text = f"text {depth} " * rng.randint(0, 8)
        link = f'<a href="/s/{rng.randint(0, 40)}-a-b-c">l</a>' if rng.random() < 0.6 else ""
        heading = f"<h3>{link or 'x'}</h3>" if rng.random() < 0.2 else ""
        return f"<{tag}{attr}>{heading}{text}{link}{inner}</{tag}>"

    return f"<html><body>{''.join(node(0) for _ in range(4))}</body></html>".encode()


def test_page_exclusions_match_the_ancestor_walks() -> None:
    rng = random.Random(170)
    for _ in range(150):
        root = pages.parse_html(_random_page(rng))
        enclosed = pages._Enclosed(CONTAINERS, related=True)
        boilerplate = pages._Enclosed(pages.BOILERPLATE_CONTAINERS, related=False)
        elements = [e for e in root.iter() if isinstance(e.tag, str)]
        rng.shuffle(elements)  # the memo must not depend on the order of questions
        for elem in elements:
            assert enclosed.excluded(elem) == (_related_block(elem) or _in_containers(elem, CONTAINERS))
            assert boilerplate.above(elem) == _in_containers(elem, pages.BOILERPLATE_CONTAINERS)
        body = pages.body_root(root)
        assert pages.related_links(root, "http://x.test/a", (), body) == pages.related_links(
            root, "http://x.test/a"
        )


def test_link_scheme_shortcut_matches_urlsplit() -> None:
    from urllib.parse import urlsplit

    for url in [
        "http://a/b",
        "HTTPS://a/b",
        "hTtP:x",
        "ftp://a/b",
        "mailto:x@y",
        " http://a/",
        "\x01http://a/",
        "ht\ttp://a/",
        "http",
        "",
        "//a/b",
        "javascript:void(0)",
    ]:
        assert pages._is_http(url) == (urlsplit(url).scheme in {"http", "https"}), repr(url)
