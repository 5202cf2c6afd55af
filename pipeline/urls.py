"""URL canonicalisation: one URL per story, whatever tracking junk a link carried.

The canonical form keys everything (``articles.url_hash``, crawl de-duplication), so it is
deliberately conservative: it removes only what never changes the page (fragments, default
ports, tracking parameters, host case) and applies the per-site trailing-slash rule.
"""

from __future__ import annotations

import hashlib
import re
from typing import Literal
from urllib.parse import parse_qsl, quote, unquote, urlencode, urlsplit, urlunsplit

TRACKING_PARAMS = re.compile(
    r"^(utm_[a-z_]+|fbclid|gclid|gclsrc|dclid|msclkid|yclid|mc_cid|mc_eid|igshid|_ga|_gl|"
    r"ocid|cmpid|ito|ncid|sr_share|share|smid|at_medium|at_campaign|guccounter|__twitter_impression)$",
    re.IGNORECASE,
)
DEFAULT_PORTS = {"http": 80, "https": 443}

TrailingSlash = Literal["keep", "strip", "add"]


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
    """Normalise ``url``: scheme/host case, default port, fragment, tracking params, slashes."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host
    if parts.username:
        netloc = f"{parts.username}@{host}"
    if port is not None and DEFAULT_PORTS.get(scheme) != port:
        netloc = f"{netloc}:{port}"
    query_pairs = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not TRACKING_PARAMS.match(k)
    ]
    query = urlencode(sorted(query_pairs), doseq=True)
    path = _clean_path(parts.path or "/", trailing_slash)
    return urlunsplit((scheme, netloc, path, query, ""))


def url_hash(url: str) -> str:
    """SHA-256 hex of an already canonical URL (the upsert key of ``articles``)."""
    return hashlib.sha256(url.encode("utf-8")).hexdigest()


def canonical_hash(url: str, trailing_slash: TrailingSlash = "keep") -> str:
    return url_hash(canonicalize(url, trailing_slash))


def same_site(url: str, domains: list[str]) -> bool:
    """True when the URL's host (with port, if any) is one of ``domains`` or a subdomain."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    with_port = f"{host}:{parts.port}" if parts.port else host
    for domain in domains:
        d = domain.lower()
        if ":" in d:
            if with_port == d:
                return True
        elif host == d or host.endswith("." + d):
            return True
    return False
