"""URL canonicalisation: one URL per story, whatever tracking junk a link carried.

The canonical form keys everything (``articles.url_hash``, crawl de-duplication), so it is
deliberately conservative: it removes only what never changes the page (fragments, default
ports, tracking parameters, user info, host spelling) and applies the per-site trailing-slash
rule. Hosts are normalised by :func:`pipeline.hosts.normalize_host` (IDNA, numeric IPv4,
IPv6 literals in brackets), the same reading the crawl's fence uses. A URL that cannot be
parsed at all (a broken IPv6 literal, a port that is no number) raises ``ValueError``: the
caller skips that one link.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from typing import Generic, Literal, TypeVar
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

from pipeline.hosts import DEFAULT_PORTS, bracketed, normalize_host, url_target

TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|gclsrc|dclid|msclkid|yclid|mc_cid|mc_eid|igshid|_ga|_gl|"
    r"ocid|cmpid|ito|ncid|sr_share|share|smid|at_medium|at_campaign|guccounter|__twitter_impression)$",
    re.IGNORECASE,
)

TrailingSlash = Literal["keep", "strip", "add"]
T = TypeVar("T")


def _clean_path(path: str, trailing_slash: TrailingSlash) -> str:
    # Re-quote consistently so %7E and ~ compare equal; keep reserved characters.
    path = quote(unquote(path), safe="/:@!$&'()*+,;=-._~")
    path = re.sub(r"/{2,}", "/", path) or "/"
    if trailing_slash == "strip" and len(path) > 1:
        path = path.rstrip("/") or "/"
    elif trailing_slash == "add" and not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
        path += "/"
    return path


def canonicalize(url: str, trailing_slash: TrailingSlash = "keep") -> str:
    """Normalise ``url``: scheme/host spelling, default port, fragment, tracking params, slashes.

    ``ValueError`` when the URL cannot be parsed (see the module docstring).

    A plain URL (``http(s)://authority/path`` with no query, fragment, ``%``, ``//`` or
    character that quoting would change) takes a short path: its authority is normalised
    once per authority (:func:`_canonical_origin`, cached) and its path needs only the
    trailing-slash rule. The same answer as the general path (pinned by ``tests/test_urls.py``);
    why: a crawl canonicalises every new link it meets, three or four per article page, and
    the general path (split, host normalisation, query parsing, re-quoting) was most of that.
    """
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None and "//" not in plain["path"]:
        origin = _canonical_origin(plain["scheme"], plain["authority"])
        return origin + _slashed(plain["path"], trailing_slash)
    tail = _DROPPABLE_TAIL.fullmatch(url)
    if tail is not None and "//" not in tail["path"] and _only_tracking(tail["query"]):
        # A plain URL plus only what the general path drops (a fragment, tracking
        # parameters): the plain URL's canonical form. Related links carry these
        # (``?utm_source=related``, ``#comments``), each one new to the run.
        return canonicalize(tail["head"], trailing_slash)
    return _canonicalize(url, trailing_slash)


#: ``scheme://authority/path`` whose path ``quote(unquote(path))`` leaves as it is (no ``%``,
#: only unreserved and the kept reserved characters) and that has no query or fragment.
#: Nothing ``urlsplit`` strips or deletes (whitespace, controls) can match.
_PLAIN_URL = re.compile(
    r"(?P<scheme>[Hh][Tt][Tt][Pp][Ss]?)://(?P<authority>[A-Za-z0-9.\-_~:@\[\]]+)"
    r"(?P<path>/[A-Za-z0-9/:@!$&'()*+,;=\-._~]*)"
)


#: A plain URL (:data:`_PLAIN_URL`) followed by a query of simple ``key=value`` pairs and/or a
#: fragment of visible ASCII: what ``urlsplit`` splits off as they are (nothing it strips or
#: deletes, no ``%`` or ``+`` that ``parse_qsl`` would decode). Empty query or fragment too.
_DROPPABLE_TAIL = re.compile(
    r"(?P<head>" + _PLAIN_URL.pattern + r")(?:\?(?P<query>[A-Za-z0-9_.\-~=&]*))?(?:#[\x21-\x7e]*)?"
)


def _only_tracking(query: str | None) -> bool:
    """Whether ``parse_qsl`` finds nothing but tracking parameters in ``query`` (or no query).

    Read as ``parse_qsl(query, keep_blank_values=True)`` reads it: ``&``-separated pairs,
    empty ones skipped, the name up to the first ``=`` (no decoding needed: see the pattern).
    """
    if not query:
        return True
    return all(TRACKING_PARAMS.match(pair.partition("=")[0]) for pair in query.split("&") if pair)


@lru_cache(maxsize=1024)
def _canonical_origin(scheme: str, authority: str) -> str:
    """``scheme://authority`` canonicalised (the general path on its root, minus the ``/``)."""
    return _canonicalize(f"{scheme}://{authority}/", "keep")[:-1]


def _slashed(path: str, trailing_slash: TrailingSlash) -> str:
    """The trailing-slash rule of :func:`_clean_path` on a path that needs no re-quoting."""
    if trailing_slash == "strip" and len(path) > 1:
        return path.rstrip("/") or "/"
    if trailing_slash == "add" and not path.endswith("/") and "." not in path.rsplit("/", 1)[-1]:
        return path + "/"
    return path


def _canonicalize(url: str, trailing_slash: TrailingSlash) -> str:
    """:func:`canonicalize`, the general path."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = normalize_host(parts.hostname) if parts.hostname else ""
    port = parts.port
    netloc = bracketed(host)
    if port is not None and DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{netloc}:{port}"
    query_pairs = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)
    ]
    query = urlencode(sorted(query_pairs), doseq=True)
    path = _clean_path(parts.path or "/", trailing_slash)
    return urlunsplit((scheme, netloc, path, query, ""))


def safe_join(base: str, href: str) -> str | None:
    """``href`` made absolute against ``base``; ``None`` when it cannot be parsed.

    One broken link on a page (``http://[::1``, a port that is no number) must cost that
    link, never the page: crawler, extraction and load all join links through this.

    A root-relative link (``/2026/05/story``, the usual kind) depends only on the scheme
    and host of ``base``, not on its path: it is joined once per host and link and cached
    (:func:`_join_rooted`), since every page of a site repeats its navigation and listing
    links. So does an absolute link with a host (``https://example.org/story``, what many
    sites write everywhere): ``urljoin`` returns it as it is when its scheme differs from the
    base's, else re-assembled from its own parts, reading nothing of the base but the scheme.
    The same answer as ``urljoin(base, href)`` (pinned by ``tests/test_urls.py``).
    """
    if _ROOTED.match(href) or _ABSOLUTE.match(href):
        try:
            parts = urlsplit(base)  # cached by urllib for the page's many links
        except ValueError:
            return None  # urljoin would raise the same for this base
        if parts.scheme in ("http", "https") and parts.netloc:
            return _join_rooted(parts.scheme, parts.netloc, href)
    return _join(base, href)


#: A link from the root that reads nothing of the base but its scheme and host: not one with
#: a tab or newline (``urlsplit`` deletes them anywhere, ``/\t/`` reads as ``//``), nor a
#: network path without a host (``//``, ``//?q``), which ``urljoin`` answers with the base's
#: own path and query.
_ROOTED = re.compile(r"/(?!/(?:[/?#]|$))(?!.*[\t\r\n])", re.DOTALL)
#: An absolute link with a host of its own, as ``urlsplit`` reads it (any case of scheme;
#: tabs and newlines, which it deletes, fall through to a plain join). Without a host
#: (``http:///x``, ``http://?q``) ``urljoin`` takes the base's host and path: not cached.
_ABSOLUTE = re.compile(r"(?i:https?)://[^/?#\t\r\n]")


@lru_cache(maxsize=16384)
def _join_rooted(scheme: str, netloc: str, href: str) -> str | None:
    """``safe_join`` of a link starting with ``/`` (or ``http(s)://``) against any URL with
    this scheme and host.

    ``urljoin`` reads nothing else of the base for such a link: a path from the root ignores
    the base's path and query, a network-path link (``//host/…``) its host as well, and an
    absolute link (with a host) everything but the scheme.
    """
    if _PLAIN_PATH.fullmatch(href):
        # What urljoin makes of it (no dot segment, no empty segment, no params, query or
        # fragment, nothing it strips): the base's scheme and host, then the path as written.
        absolute = f"{scheme}://{netloc}{href}"
        return absolute if _port_ok(netloc) else None
    simple = _SIMPLE_ABSOLUTE.fullmatch(href)
    if simple is not None:
        # urljoin returns an absolute link with a host as it is when its scheme differs from
        # the base's, else re-assembled from its parts: the same text with the scheme in
        # lower case (nothing here that re-assembly changes: no params, no empty query or
        # fragment, nothing urlsplit strips). Each related link is new to the run, so this
        # spares urljoin for links the cache never sees twice.
        own = simple["scheme"]
        absolute = href if own.lower() != scheme else scheme + href[len(own) :]
        return absolute if _port_ok(simple["authority"]) else None
    return _join(f"{scheme}://{netloc}", href)


#: An absolute http(s) link with a host of plain characters, an optional path without params
#: (``;``), and a query and a fragment that are absent or not empty, all of visible ASCII.
_SIMPLE_ABSOLUTE = re.compile(
    r"(?P<scheme>[Hh][Tt][Tt][Pp][Ss]?)://(?P<authority>[A-Za-z0-9.\-_~:@]+)"
    r"(?:/[A-Za-z0-9/:@!$&'()*+,=\-._~%]*)?(?:\?[\x21-\x22\x24-\x7e]+)?(?:#[\x21-\x7e]+)?"
)


#: A root-relative path ``urljoin`` keeps exactly as written: non-empty segments that are not
#: ``.`` or ``..``, of characters it neither strips nor splits at (``;``, ``?``, ``#``).
_PLAIN_PATH = re.compile(r"(?:/(?!\.\.?(?:/|$))[A-Za-z0-9\-._~!$&'()*+,=@%]+)*/?")


@lru_cache(maxsize=1024)
def _port_ok(netloc: str) -> bool:
    """Whether ``urlsplit`` reads the port of an URL with this authority (the check of :func:`_join`)."""
    try:
        urlsplit(f"http://{netloc}/").port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return False
    return True


def _join(base: str, href: str) -> str | None:
    try:
        absolute = urljoin(base, href)
        urlsplit(absolute).port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return None
    return absolute


def url_hash(url: str) -> str:
    """SHA-256 hex of an already canonical URL (the upsert key of ``articles``)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def canonical_hash(url: str, trailing_slash: TrailingSlash = "keep") -> str:
    return url_hash(canonicalize(url, trailing_slash))


@lru_cache(maxsize=1024)
def split_domain(domain: str) -> tuple[str, int | None]:
    """An ``allowed_domains`` entry as (normalised host, port or ``None``); ``ValueError`` if bad.

    ``example.com``, ``127.0.0.1:8701``, ``[::1]:8701``, ``::1``; a bare IPv6 address has no port.
    """
    domain = domain.strip()
    if domain.startswith("["):
        host, _, rest = domain[1:].partition("]")
        port = rest.removeprefix(":") if rest.startswith(":") else None
        if rest and port is None:
            raise ValueError(f"invalid domain {domain!r}")
    elif domain.count(":") == 1:
        host, port = domain.split(":")
    else:
        host, port = domain, None
    if port is not None and not (port.isdigit() and 0 < int(port) < 65536):
        raise ValueError(f"invalid port in {domain!r}")
    return normalize_host(host), int(port) if port is not None else None


def same_site(url: str, domains: list[str]) -> bool:
    """True when the URL's host is one of ``domains`` or a subdomain (and the port matches).

    A domain with a port matches only that port (the URL's default port counts); one without
    matches any port. Hosts compare in their normalised spelling, so ``0x7f.1`` is ``127.0.0.1``.
    An unparseable URL or domain matches nothing.
    """
    try:
        target = url_target(url)
    except ValueError:
        return False
    host, port = target.host, target.port
    for domain in domains:
        try:
            d, d_port = split_domain(domain)
        except ValueError:
            continue
        if d_port is not None:
            if host == d and port == d_port:
                return True
        elif host == d or host.endswith("." + d):
            return True
    return False


class SiteIndex(Generic[T]):
    """``allowed_domains`` of many owners, answering :func:`same_site` for all of them at once.

    Why: a crawl asks which configured source a link belongs to for every link of every page,
    and at thousands of sources one :func:`same_site` per source cost ~15 ms per link (10,000
    sources, 2 cores). The index answers from a dict, walking the URL host's dot-suffixes
    (``a.b.example.com``, ``b.example.com``, ``example.com``), which is exactly the subdomain
    rule of :func:`same_site`; a domain with a port matches only that host and port. Owners
    keep their order: :meth:`first` is the first owner, in insertion order, that
    :func:`same_site` would accept. Unusable domains are skipped, as :func:`same_site` does.
    """

    def __init__(self) -> None:
        self._any_port: dict[str, list[tuple[int, T]]] = {}
        self._with_port: dict[tuple[str, int], list[tuple[int, T]]] = {}
        self._count = 0

    def add(self, domains: list[str], owner: T) -> None:
        """Register ``owner`` for ``domains`` (ranked after every owner added before it)."""
        rank = self._count
        self._count += 1
        for domain in domains:
            try:
                host, port = split_domain(domain)
            except ValueError:
                continue
            if port is None:
                self._any_port.setdefault(host, []).append((rank, owner))
            else:
                self._with_port.setdefault((host, port), []).append((rank, owner))

    def first(self, url: str) -> T | None:
        """The earliest-added owner whose domains hold ``url`` (``None``: none, or no host)."""
        try:
            target = url_target(url)
        except ValueError:
            return None
        host = target.host
        found = list(self._with_port.get((host, target.port), ()))
        start = 0
        while True:
            found.extend(self._any_port.get(host[start:], ()))
            dot = host.find(".", start)
            if dot < 0:
                break
            start = dot + 1
        return min(found, key=lambda entry: entry[0])[1] if found else None
