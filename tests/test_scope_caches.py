"""The crawl's per-link verdicts are cached per scope: the same answers, and a bounded cache.

Issue 17 (crawler CPU per page): a listing asks for every link whether it looks like an
article and whether the fence lets it in, and a site repeats its links on page after page,
so ``Scope.article_like`` and ``Fence.refusal`` keep their answers (bounded LRU caches, like
``Scope.canonical`` and ``Scope.owner``). Held here to the uncached functions, on two scopes
whose configurations answer the same URL differently, with the width of the fence changing.
"""

from __future__ import annotations

import random
from typing import Any

from crawlers.scope import Scope
from pipeline.config import Source


def _source(key: str, domain: str, **extra: Any) -> Source:
    return Source.model_validate(
        {"key": key, "name": key, "homepage": f"https://{domain}/", "allowed_domains": [domain], **extra}
    )


def _urls(seed: int, count: int, broken: bool = False) -> list[str]:
    rng = random.Random(seed)
    hosts = ["own.test", "www.own.test", "other.test", "elsewhere.test", "own.test:8443", ""]
    hosts += ["[::1", "own.test:bad"] if broken else []  # unparseable: the fence refuses them
    paths = [
        "/", "/news/a-long-story-slug", "/2026/05/123456", "/tag/x", "/about", "/img.png", "/story.html",
        "/opinion/a-b-c", "/news/", "/amp/a-b-c", "/x?id=1234567",
    ]  # fmt: skip
    scheme = ["https", "http", "ftp"]
    return [f"{rng.choice(scheme)}://{rng.choice(hosts)}{rng.choice(paths)}" for _ in range(count)]


def test_article_like_cached_is_uncached_per_scope() -> None:
    plain = _source("own", "own.test")
    patterned = _source("own", "own.test", article_urls={"allow": [r"/opinion/"], "deny": [r"/amp/"]})
    other = _source("other", "other.test", article_urls={"deny": [r"/news/"]})
    scopes = [Scope(plain, [other]), Scope(patterned, [other])]
    answers: dict[str, set[bool]] = {}
    for url in _urls(3, 3000):
        for scope in scopes:
            got = scope.article_like(url)
            assert got == scope._article_like(url), url
            assert scope.article_like(url) == got  # and again, from the cache
            answers.setdefault(url, set()).add(got)
    # The two configurations disagree on some URLs: one scope's answers never leak into the other's.
    assert any(len(seen) == 2 for seen in answers.values())


def test_fence_refusal_cached_is_uncached_for_both_widths() -> None:
    own = _source("own", "own.test", related={"scope": "configured_sources"})
    scope = Scope(own, [own, _source("other", "other.test")])
    fence = scope.fence
    differ = 0
    for url in _urls(5, 3000, broken=True):
        narrow, wide = fence.refusal(url), fence.refusal(url, wide=True)
        assert narrow == fence._refusal(url), url
        assert wide == fence._refusal(url, wide=True), url
        assert fence.refusal(url, wide=False) == narrow  # the keyword spelling hits the same answer
        differ += narrow != wide
    assert differ > 100  # other.test: refused narrow, admitted wide


def test_caches_are_bounded() -> None:
    scope = Scope(_source("own", "own.test"))
    for i in range(20_000):
        url = f"https://own.test/news/story-number-{i}"
        scope.article_like(url)
        scope.fence.refusal(url)
    for cache in (scope.article_like, scope.fence.refusal):
        info = cache.cache_info()  # type: ignore[attr-defined]
        assert info.maxsize == 16384
        assert info.currsize == 16384  # full: it cached, and evicted rather than grew
