"""A crawl whose DNS answers the test controls (no outside network, no system resolver).

:class:`StubResolver` is the crawl's own :class:`~crawlers.resolver.GuardedResolver` with
one thing replaced: the lookup, which answers from ``NEWSFLOW_TEST_DNS`` (JSON: host ->
addresses). ``python -m tests.dnsstub [--no-guard-middleware] -- <crawlers.run arguments>``
runs the real crawl subprocess entry with it installed as ``TWISTED_DNS_RESOLVER``;
``--no-guard-middleware`` removes the fence middleware (scope and guard), so whatever is
refused was refused by the resolver at connection time.
"""

from __future__ import annotations

import ipaddress
import json
import os
import sys
from typing import Any

from crawlers.guard import IPAddress
from crawlers.resolver import GuardedResolver

ENV = "NEWSFLOW_TEST_DNS"


class StubResolver(GuardedResolver):
    def __init__(self, reactor: Any, **kwargs: Any) -> None:
        answers: dict[str, list[str]] = json.loads(os.environ.get(ENV, "{}"))

        async def lookup(host: str, port: int | None) -> list[IPAddress]:
            if host not in answers:
                raise OSError(f"stub DNS: no answer for {host}")
            return [ipaddress.ip_address(a) for a in answers[host]]

        super().__init__(reactor, lookup=lookup, **kwargs)


def main(argv: list[str]) -> int:
    import crawlers.run
    import crawlers.settings

    no_guard = "--no-guard-middleware" in argv
    run_args = argv[argv.index("--") + 1 :]
    original = crawlers.settings.scrapy_settings

    def settings(*args: Any, **kwargs: Any) -> dict[str, Any]:
        result = original(*args, **kwargs)
        result["TWISTED_DNS_RESOLVER"] = "tests.dnsstub.StubResolver"
        if no_guard:
            middlewares = dict(result["DOWNLOADER_MIDDLEWARES"])
            middlewares["crawlers.fence.FenceMiddleware"] = None
            result["DOWNLOADER_MIDDLEWARES"] = middlewares
        return result

    crawlers.settings.scrapy_settings = settings  # crawlers.run imports it at call time
    return crawlers.run.main(run_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
