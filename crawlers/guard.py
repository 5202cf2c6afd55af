"""Network guard: a crawler must not become a tool for reaching internal services (SSRF).

Every request (also every redirect hop and robots.txt) is checked *after* DNS resolution,
because a public-looking name can resolve to ``127.0.0.1`` or a cloud metadata address.
The resolution is the crawl's own :class:`crawlers.resolver.GuardedResolver`, which the
connections use too: the check and the connection see one (pinned) answer, so a name that
changes its answer between them (DNS rebinding) cannot slip through.

The policy (:class:`pipeline.netpolicy.NetworkPolicy`): public addresses, plus exactly the
addresses (and ports) the source's ``allow_private_networks`` lists; link-local (cloud
metadata at 169.254.169.254), multicast and unspecified addresses are refused whatever it
lists. The check is one half of the crawl's fence (:mod:`crawlers.fence`); the other half is
the source's scope.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

from pipeline.hosts import url_target
from pipeline.netpolicy import IPAddress, NetworkPolicy

if TYPE_CHECKING:
    from scrapy.settings import BaseSettings

    from crawlers.resolver import GuardedResolver

__all__ = [
    "BlockedNetwork",
    "IPAddress",
    "NetworkGuard",
    "policy_from_settings",
    "refusal_message",
    "resolve",
]

#: The Scrapy setting carrying the source's ``allow_private_networks`` list.
SETTING = "NEWSFLOW_ALLOW_PRIVATE_NETWORKS"


class BlockedNetwork(IgnoreRequest):
    """The request targets an address range the source may not reach."""


def policy_from_settings(settings: BaseSettings) -> NetworkPolicy:
    """The source's policy from the crawl settings (a ``true`` left over opens nothing)."""
    value = settings.get(SETTING) or []
    return NetworkPolicy(value if isinstance(value, list | tuple) else [])


async def resolve(host: str, port: int | None) -> list[IPAddress]:
    """All addresses ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port or 80, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


class NetworkGuard:
    """The address check of one request, through the resolver its connection will use.

    Results are pinned per host for the run; any resolved address being forbidden refuses
    the host (a name with one private A record is not safe to fetch).
    """

    def __init__(self, policy: NetworkPolicy) -> None:
        self.policy = policy
        self._own: GuardedResolver | None = None  # only when the crawl installed no resolver

    def _resolver(self) -> GuardedResolver:
        """The reactor's resolver (connections use its pinned answers), else one of our own.

        Without ``TWISTED_DNS_RESOLVER`` the check still applies the same policy and cache,
        it just cannot pin the connection's own lookup.
        """
        from crawlers.resolver import GuardedResolver, installed_resolver

        resolver = installed_resolver()
        if resolver is None:
            if self._own is None:
                self._own = GuardedResolver(None, policy=self.policy)
            resolver = self._own
        return resolver

    async def verdict(self, url: str) -> str | None:
        """Why ``url`` may not be fetched, ``None`` when its host's addresses may be."""
        try:
            target = url_target(url)
        except ValueError as exc:
            return f"no usable host in {url[:200]!r}: {exc}"
        try:
            return (await self._resolver().answer(target.host, target.port)).problem
        except (TimeoutError, OSError):
            return None  # unresolvable: the downloader fails with a DNS error of its own


def refusal_message(host: str | None, problem: str, *, when: str = "") -> str:
    """The ``error_message`` of a refused request (the same wording wherever it was refused)."""
    return f"refused by network guard{when}: {host} -> {problem}"
