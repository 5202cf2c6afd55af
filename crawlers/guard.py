"""Network guard: a crawler must not become a tool for reaching internal services (SSRF).

Every request (also every redirect hop and robots.txt) is checked *after* DNS resolution,
because a public-looking name can resolve to ``127.0.0.1`` or a cloud metadata address.
The resolution is the crawl's own :class:`crawlers.resolver.GuardedResolver`, which the
connections use too: the check and the connection see one (pinned) answer, so a name that
changes its answer between them (DNS rebinding) cannot slip through.
``allow_private_networks`` (the demo network on loopback needs it) opens loopback and
private ranges, but link-local (cloud metadata at 169.254.169.254), multicast, unspecified
and reserved addresses stay refused: nothing legitimate serves news there.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy.exceptions import IgnoreRequest

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

    from crawlers.resolver import GuardedResolver

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedNetwork(IgnoreRequest):
    """The request targets an address range the source may not reach."""


def address_problem(ip: IPAddress, allow_private: bool) -> str | None:
    """Why ``ip`` may not be fetched (``None`` when it may)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return None if allow_private else f"{ip} is a loopback address"
    always = [
        (ip.is_unspecified, "unspecified"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
    ]
    for flag, label in always:
        if flag:
            article = "an" if label[0] in "aeiou" else "a"
            return f"{ip} is {article} {label} address"
    if ip.is_private:
        return None if allow_private else f"{ip} is a private address"
    if ip.is_reserved:
        return f"{ip} is a reserved address"
    if not ip.is_global:  # e.g. carrier-grade NAT 100.64/10: private in all but name
        return None if allow_private else f"{ip} is not a public address"
    return None


async def resolve(host: str, port: int | None) -> list[IPAddress]:
    """All addresses ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port or 80, type=socket.SOCK_STREAM)
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


class NetworkGuardMiddleware:
    """Downloader middleware refusing requests whose host resolves into a forbidden range.

    Runs before robots.txt handling so that not even robots.txt is fetched from a refused
    host. Results are cached per host for the run; any resolved address being forbidden
    refuses the host (a name with one private A record is not safe to fetch).
    """

    def __init__(self, allow_private: bool) -> None:
        self.allow_private = allow_private
        self._own: GuardedResolver | None = None  # only when the crawl installed no resolver

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> NetworkGuardMiddleware:
        return cls(crawler.settings.getbool("NEWSFLOW_ALLOW_PRIVATE_NETWORKS"))

    def _resolver(self) -> GuardedResolver:
        """The reactor's resolver (connections use its pinned answers), else one of our own.

        Without ``TWISTED_DNS_RESOLVER`` the check still applies the same policy and cache,
        it just cannot pin the connection's own lookup.
        """
        from crawlers.resolver import GuardedResolver, installed_resolver

        resolver = installed_resolver()
        if resolver is None:
            if self._own is None:
                self._own = GuardedResolver(None, allow_private=self.allow_private)
            resolver = self._own
        return resolver

    async def verdict(self, url: str) -> str | None:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if not host:
            return f"no host in {url!r}"
        try:
            return (await self._resolver().answer(host, parts.port)).problem
        except (TimeoutError, OSError):
            return None  # unresolvable: the downloader fails with a DNS error of its own

    async def process_request(self, request: Request) -> Any:
        problem = await self.verdict(request.url)
        if problem:
            raise BlockedNetwork(refusal_message(urlsplit(request.url).hostname, problem, self.allow_private))
        return None


def refusal_message(host: str | None, problem: str, allow_private: bool, *, when: str = "") -> str:
    """The ``error_message`` of a refused request (the same wording wherever it was refused)."""
    hint = "" if allow_private else " (set allow_private_networks: true to allow it)"
    return f"refused by network guard{when}: {host} -> {problem}{hint}"
