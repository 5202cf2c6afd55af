"""Host names as the network sees them: one spelling per host, whatever the link wrote.

A fence that compares host *strings* is easy to walk around: ``2130706433``, ``0x7f.1``,
``0177.0.0.1`` and ``127.1`` all connect to ``127.0.0.1`` (the system resolver parses them
like ``inet_aton`` does), ``EXAMPLE.com.`` is ``example.com``, ``[::ffff:127.0.0.1]`` is an
IPv4 address in IPv6 clothing, and ``http://allowed@evil/`` goes to ``evil``. Every host is
therefore normalised the way the WHATWG URL standard (and so a browser and ``inet_aton``)
reads it before anything compares it: IDNA (UTS 46) to ASCII, lower case, no trailing dot,
numeric IPv4 spellings to dotted quads, IPv6 literals compressed.

Used by URL canonicalisation (:mod:`pipeline.urls`), the crawl's fence and the network
guard, so the three can never disagree about which host a URL names.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import idna

DEFAULT_PORTS = {"http": 80, "https": 443}
# WHATWG "forbidden domain code points" (plus anything below space): never part of a real host.
_FORBIDDEN = re.compile(r"[\x00-\x20#%/:<>?@\[\\\]^|\x7f]")
_DECIMAL = re.compile(r"[0-9]+")
_HEX = re.compile(r"0[xX][0-9a-fA-F]*")


def _ipv4_part(part: str) -> int:
    """One dot-separated part of a numeric IPv4 host: decimal, ``0x`` hex or ``0``-led octal."""
    if _HEX.fullmatch(part):
        return int(part[2:] or "0", 16)
    if not _DECIMAL.fullmatch(part):
        raise ValueError(f"{part!r} is not a number")
    if len(part) > 1 and part.startswith("0"):
        if not re.fullmatch(r"[0-7]+", part):
            raise ValueError(f"{part!r} is not an octal number")
        return int(part, 8)
    return int(part)


def numeric_ipv4(host: str) -> str | None:
    """The dotted quad a numeric host spelling means, ``None`` for a domain name.

    Follows the WHATWG IPv4 parser: a host whose last label is a number is an IPv4 address
    (1 to 4 parts, each decimal, hex or octal, the last filling the remaining bytes); one
    that cannot be parsed as such is invalid, never a domain (``ValueError``).
    """
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not parts or not (_DECIMAL.fullmatch(parts[-1]) or _HEX.fullmatch(parts[-1])):
        return None
    if len(parts) > 4 or "" in parts:
        raise ValueError(f"invalid IPv4 host {host!r}")
    numbers = [_ipv4_part(p) for p in parts]
    if any(n > 255 for n in numbers[:-1]) or numbers[-1] >= 256 ** (5 - len(numbers)):
        raise ValueError(f"invalid IPv4 host {host!r}: a part is out of range")
    value = numbers[-1] + sum(n << (8 * (3 - i)) for i, n in enumerate(numbers[:-1]))
    return str(ipaddress.IPv4Address(value))


@lru_cache(maxsize=4096)
def normalize_host(host: str) -> str:
    """The one spelling of ``host`` (without brackets for IPv6); ``ValueError`` if it is no host.

    An IPv4-mapped IPv6 literal becomes its IPv4 address: it reaches the same service.
    """
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not host:
        raise ValueError("empty host")
    if ":" in host:
        if "%" in host:
            raise ValueError(f"IPv6 zone identifiers are not allowed: {host!r}")
        ip6 = ipaddress.IPv6Address(host)  # ValueError when it is none
        return str(ip6.ipv4_mapped) if ip6.ipv4_mapped is not None else ip6.compressed
    if not host.isascii():
        try:
            host = idna.encode(host, uts46=True).decode("ascii")
        except idna.IDNAError as exc:
            raise ValueError(f"invalid international host {host!r}: {exc}") from exc
    host = host.lower()
    ipv4 = numeric_ipv4(host)
    if ipv4 is not None:
        return ipv4
    host = host.rstrip(".")
    if not host or _FORBIDDEN.search(host) or ".." in host:
        raise ValueError(f"invalid host {host!r}")
    return host


def bracketed(host: str) -> str:
    """``host`` as written in a URL's authority (IPv6 literals in brackets)."""
    return f"[{host}]" if ":" in host else host


@dataclass(frozen=True)
class Target:
    """Where a URL's request goes: scheme, normalised host and effective port."""

    scheme: str
    host: str
    port: int

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        """The address when the host is an IP literal (no DNS needed), else ``None``."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None

    @property
    def authority(self) -> str:
        """``host:port`` as written in a URL (brackets around IPv6)."""
        return f"{bracketed(self.host)}:{self.port}"


@lru_cache(maxsize=16384)
def url_target(url: str) -> Target:
    """The :class:`Target` of ``url``; ``ValueError`` when it has no usable host or port.

    User info (``allowed@``) is ignored: the connection goes to the host after the ``@``.
    Cached (bounded): a crawl asks about the same link many times per page (scope, fence,
    owner, related scope) and on page after page (navigation, related blocks); the answer is
    a pure function of the string and ``Target`` is immutable. Errors are not cached.
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if parts.hostname is None:
        raise ValueError(f"no host in {url[:200]!r}")
    host = normalize_host(parts.hostname)
    port = parts.port  # ValueError for a port that is not a number or out of range
    if port is None:
        port = DEFAULT_PORTS.get(scheme, 0)
    return Target(scheme, host, port)
