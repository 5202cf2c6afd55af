"""DNS rebinding: the guard's check and the connection use one checked, pinned answer.

Resolver-level tests drive :class:`crawlers.resolver.GuardedResolver` the way Twisted's
``HostnameEndpoint`` does (``resolveHostName`` + a receiver), with a lookup the test
controls; no connection is made. The crawl tests run the real crawl subprocess with the
stub lookup installed as ``TWISTED_DNS_RESOLVER`` against a local server on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request

from crawlers.guard import IPAddress, NetworkGuard
from crawlers.resolver import GuardedResolver, installed_resolver
from pipeline.netpolicy import NetworkPolicy
from tests.dnsstub import ENV
from tests.loopback import serving
from tests.test_crawl_local import Site, fetch_rows, make_handler, write_sources

ROOT = Path(__file__).resolve().parent.parent


CLOSED = NetworkPolicy()
OPENED = NetworkPolicy(["127.0.0.0/8", "::1"])  # loopback, any port


class ScriptedLookup:
    """DNS answers in order (the last one repeats); counts the lookups."""

    def __init__(self, *answers: list[str] | Exception) -> None:
        self.answers = list(answers)
        self.calls = 0

    async def __call__(self, host: str, port: int | None) -> list[IPAddress]:
        answer = self.answers[min(self.calls, len(self.answers) - 1)]
        self.calls += 1
        if isinstance(answer, Exception):
            raise answer
        return [ipaddress.ip_address(a) for a in answer]


class Receiver:
    """An ``IResolutionReceiver`` like Twisted's connection endpoint uses."""

    def __init__(self) -> None:
        self.addresses: list[str] = []
        self.done = asyncio.Event()

    def resolutionBegan(self, resolution: Any) -> None:
        self.name = resolution.name

    def addressResolved(self, address: Any) -> None:
        self.addresses.append(f"{address.host}:{address.port}")

    def resolutionComplete(self) -> None:
        self.done.set()


async def connect_resolution(resolver: GuardedResolver, host: str, port: int = 80) -> list[str]:
    receiver = Receiver()
    resolver.resolveHostName(receiver, host, port)
    await asyncio.wait_for(receiver.done.wait(), 5)
    return receiver.addresses


def test_rebinding_name_gets_the_checked_answer_at_connection_time() -> None:
    async def scenario() -> None:
        lookup = ScriptedLookup(["93.184.216.34"], ["127.0.0.1"])  # second answer: rebound
        resolver = GuardedResolver(None, policy=CLOSED, lookup=lookup)
        checked = await resolver.answer("rebind.example")  # the guard middleware's check
        assert checked.problem is None
        assert await connect_resolution(resolver, "rebind.example", 8080) == ["93.184.216.34:8080"]
        assert await connect_resolution(resolver, "REBIND.example") == ["93.184.216.34:80"]
        assert lookup.calls == 1  # pinned: the connection never asked DNS again

    asyncio.run(scenario())


@pytest.mark.parametrize(
    ("answer", "policy", "problem"),
    [
        (["169.254.169.254"], OPENED, "link-local"),  # cloud metadata: never, whatever is opened
        (["93.184.216.34", "127.0.0.1"], CLOSED, "loopback"),  # one forbidden address refuses the host
        (["10.1.2.3"], CLOSED, "private"),
        (["10.1.2.3"], OPENED, "private"),  # loopback opened, RFC 1918 still closed
        (["127.0.0.2"], NetworkPolicy(["127.0.0.1:80"]), "loopback"),  # another loopback address
        (["::ffff:169.254.169.254"], OPENED, "link-local"),
    ],
)
def test_forbidden_answer_is_refused_at_connection_resolution(
    answer: list[str], policy: NetworkPolicy, problem: str
) -> None:
    async def scenario() -> None:
        resolver = GuardedResolver(None, policy=policy, lookup=ScriptedLookup(answer))
        # No check before: the connection's own resolution applies the policy.
        assert await connect_resolution(resolver, "evil.example") == []
        message = resolver.refusal("http://evil.example/latest/meta-data")
        assert message is not None and problem in message and "at connection" in message
        assert resolver.refusal("http://other.example/") is None

    asyncio.run(scenario())


def test_literals_failures_and_the_loopback_opening() -> None:
    async def scenario() -> None:
        lookup = ScriptedLookup(OSError("temporary failure"), ["127.0.0.1"])
        opened = GuardedResolver(None, policy=OPENED, lookup=lookup)
        assert await connect_resolution(opened, "127.0.0.1", 81) == ["127.0.0.1:81"]
        assert await connect_resolution(opened, "[::1]", 82) == ["::1:82"]
        assert await connect_resolution(opened, "169.254.169.254") == []
        assert lookup.calls == 0  # literals are checked without DNS
        assert await connect_resolution(opened, "demo.test") == []  # lookup failed: DNS error
        assert opened.refusal("http://demo.test/") is None  # ... not a refusal
        assert await connect_resolution(opened, "demo.test") == ["127.0.0.1:80"]  # failure not pinned
        closed = GuardedResolver(None, policy=CLOSED, lookup=ScriptedLookup(["127.0.0.1"]))
        assert await connect_resolution(closed, "127.0.0.1") == []
        one_port = GuardedResolver(None, policy=NetworkPolicy(["127.0.0.1:81"]), lookup=lookup)
        assert await connect_resolution(one_port, "127.0.0.1", 81) == ["127.0.0.1:81"]
        assert await connect_resolution(one_port, "2130706433", 81) == ["127.0.0.1:81"]  # a literal
        assert await connect_resolution(one_port, "127.0.0.1", 82) == []  # only the listed port
        assert "not listed in allow_private_networks" in (one_port.refusal("http://0x7f.1:82/") or "")

    asyncio.run(scenario())


def test_guard_middleware_checks_through_a_resolver_of_its_own_when_none_is_installed() -> None:
    """Outside a crawl with ``TWISTED_DNS_RESOLVER``, the guard applies the same policy."""

    async def scenario() -> None:
        assert installed_resolver() is None
        closed = NetworkGuard(CLOSED)
        assert "loopback" in (await closed.verdict("http://127.0.0.1:8080/a") or "")
        assert "loopback" in (await closed.verdict("http://localhost/a") or "")  # a name, looked up
        assert "no usable host" in (await closed.verdict("http:///no-host") or "")
        opened = NetworkGuard(NetworkPolicy(["127.0.0.0/8", "::1"]))
        assert await opened.verdict("http://localhost/a") is None
        assert "link-local" in (await opened.verdict("http://169.254.169.254/latest") or "")
        message = await closed.verdict(Request("http://127.0.0.1/x").url) or ""
        assert "127.0.0.1 is a loopback address not listed in allow_private_networks" in message

    asyncio.run(scenario())


@pytest.fixture
def named_site() -> Iterator[tuple[Site, int]]:
    """The local gazette, addressed as ``news.test`` (only the stub DNS knows that name)."""
    site = Site()
    with serving(make_handler(site)) as port:
        site.base = f"http://news.test:{port}"
        yield site, port


def stub_crawl(
    db_url: str, sources: Path, run_id: str, raw: Path, answers: dict[str, list[str]], *, no_guard: bool
) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "tests.dnsstub", *(["--no-guard-middleware"] if no_guard else []), "--"]
    cmd += ["--source", "gazette", "--run-id", run_id, "--sources", str(sources)]
    cmd += ["--database-url", db_url, "--raw-store", str(raw), "--max-pages", "12"]
    env = {**os.environ, ENV: json.dumps(answers)}
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_crawl_connects_through_the_guarded_resolver(
    named_site: tuple[Site, int], db_url: str, tmp_path: Path
) -> None:
    site, _port = named_site
    sources = write_sources(tmp_path / "sources.yaml", site.base, related={"depth": 0})
    done = stub_crawl(
        db_url, sources, "named", tmp_path / "raw", {"news.test": ["127.0.0.1"]}, no_guard=False
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = fetch_rows(db_url, "named")
    fetched = [r for r in rows if r.outcome == "fetched"]
    # Only the stub knows news.test: every page that arrived came through the resolver's answer.
    assert len(fetched) >= 3 and site.hits["/feed.rss"] == 1
    assert all(r.url.startswith(site.base) for r in fetched)


def test_forbidden_answer_refused_at_connection_without_the_middleware(
    named_site: tuple[Site, int], db_url: str, tmp_path: Path
) -> None:
    site, _port = named_site
    sources = write_sources(tmp_path / "sources.yaml", site.base, allow_private_networks=False)
    done = stub_crawl(
        db_url, sources, "rebound", tmp_path / "raw", {"news.test": ["127.0.0.1"]}, no_guard=True
    )
    assert done.returncode == 3  # no discovery surface could be fetched
    assert sum(site.hits.values()) == 0  # not even robots.txt: no connection was made
    rows = fetch_rows(db_url, "rebound")
    assert rows and {r.error_category for r in rows} == {"blocked_network"}
    message = rows[0].error_message or ""
    assert "at connection" in message and "127.0.0.1 is a loopback address" in message
