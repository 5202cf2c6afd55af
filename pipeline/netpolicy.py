"""Which addresses a source may reach: public ones, plus exactly what ``allow_private_networks`` lists.

A crawler fetches what untrusted pages tell it to, so by default it refuses every address
that is not public (loopback, RFC 1918, carrier-grade NAT, unique-local IPv6, ...): that is
where internal services live. A source that really is on such an address (the demo network
on loopback, an intranet site) lists the addresses it needs, as narrowly as it can::

    allow_private_networks: ["127.0.0.1:8701", "[::1]:8701", "10.20.0.0/16"]

An entry is an address or CIDR block, optionally with a port (``host:port``, ``[v6]:port``,
``cidr:port``); an entry with a port opens that port only. Only private-use ranges can be
opened (:data:`OPENABLE`); link-local (cloud metadata at 169.254.169.254), multicast and
unspecified addresses stay refused whatever the list says, and host names are refused
(the check is on the resolved address, a name proves nothing).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: The ranges an ``allow_private_networks`` entry may open (an entry must lie inside one).
OPENABLE: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8",  # loopback
        "10.0.0.0/8",  # RFC 1918
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",  # carrier-grade NAT
        "198.18.0.0/15",  # benchmarking
        "::1/128",  # IPv6 loopback
        "fc00::/7",  # IPv6 unique local
    )
)

KEY = "allow_private_networks"


@dataclass(frozen=True)
class Opening:
    """One ``allow_private_networks`` entry: a network and optionally one port."""

    network: IPNetwork
    port: int | None = None

    def admits(self, ip: IPAddress, port: int | None) -> bool:
        return ip.version == self.network.version and ip in self.network and self.port in (None, port)

    def __str__(self) -> str:
        net = self.network
        text = str(net.network_address) if net.prefixlen == net.max_prefixlen else str(net)
        if self.port is None:
            return text
        return f"[{text}]:{self.port}" if net.version == 6 else f"{text}:{self.port}"


def _split_port(text: str) -> tuple[str, int | None]:
    if text.startswith("["):
        inner, _, rest = text[1:].partition("]")
        if not rest:
            return inner, None
        if not rest.startswith(":"):
            raise ValueError(f"{text!r}: expected '[address]:port'")
        port = rest[1:]
    elif text.count(":") == 1:
        inner, port = text.split(":")
    else:
        return text, None
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"{text!r}: invalid port {port!r}")
    return inner, int(port)


def parse_opening(text: str) -> Opening:
    """An entry as an :class:`Opening`; ``ValueError`` saying what is wrong with it."""
    address, port = _split_port(text.strip())
    try:
        network = ipaddress.ip_network(address, strict=False)
    except ValueError:
        raise ValueError(
            f"{text!r} is not an IP address or CIDR block (list addresses, not host names: "
            "the guard checks the address a name resolves to)"
        ) from None
    if isinstance(network, ipaddress.IPv6Network) and network.prefixlen == 128:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            network = ipaddress.ip_network(mapped)
    if not any(network.version == o.version and network.subnet_of(o) for o in OPENABLE):  # type: ignore[arg-type]
        raise ValueError(
            f"{text!r} is not inside a private range that may be opened "
            f"({', '.join(str(o) for o in OPENABLE)}); public addresses need no entry, and "
            "link-local, multicast and unspecified addresses are never fetched"
        )
    return Opening(network, port)


def _kind(ip: IPAddress) -> str | None:
    """What makes ``ip`` non-public (``None`` for a public address)."""
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_private:
        return "a private address"
    if not ip.is_global:  # e.g. carrier-grade NAT 100.64/10: private in all but name
        return "not a public address"
    return None


class NetworkPolicy:
    """The address check of the network guard for one source."""

    def __init__(self, openings: Iterable[Opening | str] = ()) -> None:
        self.openings = tuple(o if isinstance(o, Opening) else parse_opening(o) for o in openings)

    def problem(self, ip: IPAddress, port: int | None) -> str | None:
        """Why ``ip`` (on ``port``) may not be fetched, ``None`` when it may."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        for flag, label in (
            (ip.is_unspecified, "an unspecified"),
            (ip.is_link_local, "a link-local"),
            (ip.is_multicast, "a multicast"),
        ):
            if flag:
                return f"{ip} is {label} address"
        kind = _kind(ip)
        if kind is None:
            return None if not ip.is_reserved else f"{ip} is a reserved address"
        if any(o.admits(ip, port) for o in self.openings):
            return None
        if not self.openable(ip):
            return f"{ip} is {kind}"
        where = f"[{ip}]" if ip.version == 6 else str(ip)
        entry = f"{where}:{port}" if port else str(ip)
        return f"{ip} is {kind} not listed in {KEY} (add {entry!r} to allow it)"

    @staticmethod
    def openable(ip: IPAddress) -> bool:
        """Whether an ``allow_private_networks`` entry could open ``ip`` at all."""
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return any(ip.version == o.version and ip in o for o in OPENABLE)

    def __repr__(self) -> str:
        return f"NetworkPolicy({[str(o) for o in self.openings]})"


def openings_for(url: str) -> list[str]:
    """The narrowest ``allow_private_networks`` for a site served at ``url`` on this machine.

    Its address and port only; a name (``localhost``) gets both loopback addresses on that
    port. The demo networks write this for each of their outlets.
    """
    from pipeline.hosts import url_target

    target = url_target(url)
    ip = target.ip
    if ip is not None:
        return [str(Opening(ipaddress.ip_network(ip), target.port))]
    return [f"127.0.0.1:{target.port}", f"[::1]:{target.port}"]
