"""The crawl's DNS resolver: the guard's check and the connection use the same checked answer.

Without it the network guard (:mod:`crawlers.guard`) resolves a host name itself while
Twisted resolves it again to connect, so a name that answers a public address to the check
and ``127.0.0.1`` (or ``169.254.169.254``) to the connection — DNS rebinding — would reach
an internal service. :class:`GuardedResolver` is installed on the reactor through Scrapy's
``TWISTED_DNS_RESOLVER`` setting and therefore answers every connection's name resolution:

- each host is looked up once per crawl (one process per run) and pinned, so the fence
  middleware, robots.txt and every connection to that host use exactly the same addresses;
  every use checks them, with the port it connects to, against the source's
  :class:`pipeline.netpolicy.NetworkPolicy` (``allow_private_networks`` can open one port);
- host spellings are normalised first (:func:`pipeline.hosts.normalize_host`): ``0x7f.1``
  is the literal ``127.0.0.1``, checked as such without DNS;
- an answer with a forbidden address delivers no address at all: the connection fails at
  resolution time, whatever the middleware decided, and :meth:`GuardedResolver.refusal`
  tells the spider why (``blocked_network`` instead of a DNS error).
"""

from __future__ import annotations

import asyncio
import ipaddress
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twisted.internet.address import IPv4Address as TxIPv4Address
from twisted.internet.address import IPv6Address as TxIPv6Address
from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IHostnameResolver, IHostResolution
from zope.interface import implementer

from crawlers.guard import IPAddress, policy_from_settings, refusal_message, resolve
from pipeline.hosts import normalize_host, url_target
from pipeline.netpolicy import NetworkPolicy

if TYPE_CHECKING:
    from typing import Self

Lookup = Callable[[str, int | None], Awaitable[list[IPAddress]]]


@dataclass(frozen=True)
class Answer:
    """A checked resolution: the addresses and why they may not be used (``None``: they may)."""

    addresses: tuple[IPAddress, ...]
    problem: str | None


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str) -> None:
        self.name = name

    def cancel(self) -> None:  # Twisted never cancels a hostname resolution it started
        pass


@implementer(IHostnameResolver)
class GuardedResolver:
    """Resolves names once per crawl, refuses forbidden answers, pins the allowed ones."""

    def __init__(
        self,
        reactor: Any,
        *,
        policy: NetworkPolicy,
        timeout: float = 15.0,
        lookup: Lookup | None = None,
    ) -> None:
        self.reactor = reactor
        self.policy = policy
        self.timeout = timeout
        self._lookup: Lookup = lookup or resolve
        self._answers: dict[str, asyncio.Future[tuple[IPAddress, ...]]] = {}
        self._refused: dict[tuple[str, int | None], str] = {}

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> Self:
        # ``crawler`` is the CrawlerProcess here (its settings are the source's settings).
        settings = crawler.settings
        return cls(
            reactor,
            policy=policy_from_settings(settings),
            timeout=settings.getfloat("DNS_TIMEOUT") or 15.0,
        )

    def install_on_reactor(self) -> None:
        self.reactor.installNameResolver(self)

    async def answer(self, host: str, port: int | None = None) -> Answer:
        """The checked, pinned answer for ``host`` on ``port`` (lookup errors raise ``OSError``)."""
        try:
            host = normalize_host(host)
        except ValueError as exc:
            raise OSError(f"invalid host {host!r}: {exc}") from None
        try:
            return self._check(host, port, (ipaddress.ip_address(host),))
        except ValueError:
            pass
        pending = self._answers.get(host)
        if pending is None:
            pending = asyncio.ensure_future(self._lookup_pinned(host, port))
            self._answers[host] = pending
        try:
            addresses = await asyncio.shield(pending)
        except BaseException:
            failed = pending.done() and (pending.cancelled() or pending.exception() is not None)
            if failed and self._answers.get(host) is pending:
                del self._answers[host]  # a failed lookup is not pinned; the next use retries
            raise
        return self._check(host, port, addresses)

    async def _lookup_pinned(self, host: str, port: int | None) -> tuple[IPAddress, ...]:
        found = await asyncio.wait_for(self._lookup(host, port), self.timeout)
        if not found:
            raise OSError(f"no address for {host}")
        return tuple(dict.fromkeys(found))

    def _check(self, host: str, port: int | None, addresses: tuple[IPAddress, ...]) -> Answer:
        for ip in addresses:
            problem = self.policy.problem(ip, port)
            if problem:
                self._refused[(host, port)] = problem
                return Answer(addresses, problem)
        return Answer(addresses, None)

    def refusal(self, url: str) -> str | None:
        """The error message when a connection to ``url``'s host was refused at resolution time."""
        try:
            target = url_target(url)
        except ValueError:
            return None
        problem = self._refused.get((target.host, target.port))
        return refusal_message(target.host, problem, when=" at connection") if problem else None

    def resolveHostName(
        self,
        resolutionReceiver: Any,  # an IResolutionReceiver (zope interfaces do not type-check)
        hostName: str,
        portNumber: int = 0,
        addressTypes: Sequence[type[Any]] | None = None,
        transportSemantics: str = "TCP",
    ) -> Any:
        """Twisted's resolution for a connection: the pinned answer, or nothing when refused."""
        resolution = _Resolution(hostName)
        resolutionReceiver.resolutionBegan(resolution)

        def deliver(answer: Answer | None) -> None:
            if answer is not None and answer.problem is None:
                for ip in answer.addresses:
                    kind = TxIPv6Address if ip.version == 6 else TxIPv4Address
                    if addressTypes is None or kind in addressTypes:
                        resolutionReceiver.addressResolved(kind("TCP", str(ip), portNumber))
            resolutionReceiver.resolutionComplete()

        async def lookup() -> Answer | None:
            try:
                return await self.answer(hostName, portNumber or None)
            except (TimeoutError, OSError):
                return None  # no address: Twisted reports a DNS lookup error

        Deferred.fromFuture(asyncio.ensure_future(lookup())).addCallback(deliver)
        return resolution


def installed_resolver() -> GuardedResolver | None:
    """The reactor's :class:`GuardedResolver`, when this process's crawl installed one.

    Never installs a reactor itself (importing ``twisted.internet.reactor`` would).
    """
    reactor = sys.modules.get("twisted.internet.reactor")
    found = getattr(reactor, "nameResolver", None)
    return found if isinstance(found, GuardedResolver) else None
