"""``SiteIndex`` answers exactly what one ``same_site`` per owner answers, first owner first.

The crawl's scope asks which configured source owns every link; the index replaced a loop of
``same_site`` calls over all sources (~15 ms per link at 10,000 sources). These tests hold the
index to the loop it replaced, on hand-picked edge cases and on random hosts.
"""

from __future__ import annotations

import random

import pytest

from pipeline.urls import SiteIndex, same_site

OWNERS: list[tuple[str, list[str]]] = [
    ("example", ["example.com"]),
    ("news-example", ["news.example.com"]),  # nested inside an earlier owner: never first
    ("local", ["127.0.0.1:8701", "[::1]:8701"]),
    ("local-any-port", ["127.0.0.1"]),
    ("idn", ["bücher.de"]),
    ("broken", ["bad:port:x", "example.org"]),
    ("v6", ["::1"]),
    ("suffix-trap", ["ample.com"]),
]

URLS = [
    "https://example.com/a",
    "https://www.example.com/a",
    "https://news.example.com/story",
    "https://notexample.com/",
    "https://example.com.evil.net/",
    "http://127.0.0.1:8701/x",
    "http://127.0.0.1:8702/x",
    "http://0x7f.1:8701/x",
    "http://[::1]:8701/",
    "http://[::1]:9000/",
    "https://xn--bcher-kva.de/",
    "https://shop.bücher.de/",
    "https://example.org/",
    "https://ample.com/",
    "mailto:someone@example.com",
    "not a url",
    "http://[::1/",
    "https://example.com:99999/",
]


def loop_first(url: str) -> str | None:
    """The code the index replaced: the first owner whose domains ``same_site`` accepts."""
    for name, domains in OWNERS:
        if same_site(url, domains):
            return name
    return None


def index() -> SiteIndex[str]:
    built: SiteIndex[str] = SiteIndex()
    for name, domains in OWNERS:
        built.add(domains, name)
    return built


@pytest.mark.parametrize("url", URLS)
def test_index_agrees_with_same_site_on_edge_cases(url: str) -> None:
    assert index().first(url) == loop_first(url)


def test_edge_cases_are_not_all_misses() -> None:
    """The cases above exercise every kind of answer, so agreement means something."""
    answers = {loop_first(url) for url in URLS}
    assert {"example", "local", "local-any-port", "idn", "broken", "v6", "suffix-trap", None} <= answers


def test_index_agrees_with_same_site_on_random_hosts() -> None:
    rng = random.Random(17)
    labels = ["a", "b", "news", "example", "com", "org", "co", "uk", "1", "www"]

    def host() -> str:
        return ".".join(rng.choice(labels) for _ in range(rng.randint(1, 4)))

    owners = []
    for i in range(60):
        domains = [
            host() + (f":{rng.choice([80, 443, 8080])}" if rng.random() < 0.3 else "") for _ in range(2)
        ]
        owners.append((f"o{i}", domains))
    built: SiteIndex[str] = SiteIndex()
    for name, domains in owners:
        built.add(domains, name)
    hits = 0
    for _ in range(3000):
        url = f"{rng.choice(['http', 'https'])}://{host()}{rng.choice(['', ':80', ':443', ':8080'])}/p"
        expected = next((name for name, domains in owners if same_site(url, domains)), None)
        assert built.first(url) == expected, url
        hits += expected is not None
    assert hits > 300  # enough matches that the order rule was exercised


def test_scope_owner_goes_through_the_index() -> None:
    from crawlers.scope import Scope
    from pipeline.config import Source

    def source(key: str, domain: str) -> Source:
        return Source.model_validate(
            {
                "key": key,
                "name": key,
                "homepage": f"https://{domain}/",
                "allowed_domains": [domain],
                "related": {"scope": "configured_sources"},
            }
        )

    own, first, nested = source("own", "own.test"), source("a", "a.test"), source("b", "news.a.test")
    scope = Scope(own, [own, first, nested])
    assert scope.owner("https://www.own.test/x") is own
    assert scope.owner("https://news.a.test/x") is first  # the earlier source wins, as before
    assert scope.owner("https://elsewhere.test/x") is None
    # related.scope configured_sources: another source's host passes, an unknown one does not.
    assert scope.fence.refusal("https://sub.news.a.test/x", wide=True) is None
    assert scope.fence.refusal("https://elsewhere.test/x", wide=True) is not None
    assert scope.fence.refusal("https://news.a.test/x", wide=False) is not None
