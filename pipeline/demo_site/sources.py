"""``sources.yaml`` entries for the outlets as served (what ``--sources-out`` writes).

The shipped ``sources.yaml`` is exactly this for the default ports 8701-8703 (a test keeps
them equal), so the demo, the tests and the docs agree on one configuration.
"""

from __future__ import annotations

from typing import Any

from pipeline.config import dump_sources
from pipeline.demo_site.catalog import Catalog
from pipeline.demo_site.outlets import OUTLET_SPECS
from pipeline.netpolicy import openings_for

HEADER = """\
# newsflow sources: the one file ops edit to add a site. Validate with `newsflow sources check`.
# Every key is documented in README.md ("Configuration"); unknown keys are errors.
#
# These entries point at the demo news network on loopback (`newsflow demo-site` serves it on
# these fixed ports; `make demo` starts it for you), so each lists exactly its own address and
# port in allow_private_networks (nothing else on this machine is reachable).
"""


def download_timeout(slow_seconds: float) -> float:
    """Comfortably below the slow page's delay, comfortably above a normal local response."""
    return round(max(slow_seconds / 2, slow_seconds - 1.0), 2)


def sources_for(
    base_urls: dict[str, str], catalog: Catalog, slow_seconds: float, max_response_bytes: int
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    scaled = catalog.generator.count > 0
    for spec in OUTLET_SPECS:
        base = base_urls[spec.key]
        discovery: dict[str, Any] = {"listings": [base + "/"]}
        if spec.feed_path:
            discovery["feeds"] = [base + spec.feed_path]
        if spec.sitemap_index or scaled:
            discovery["sitemaps"] = [base + "/sitemap.xml"]
        generated = catalog.generator.count_for(spec.key)
        cron, timezone = spec.schedule
        out.append(
            {
                "key": spec.key,
                "name": spec.name,
                "homepage": base + "/",
                "discovery": discovery,
                "article_urls": {"allow": [spec.article_allow]},
                "related": {"depth": 1, "scope": "same_site"},
                "schedule": {"cron": cron, "timezone": timezone},
                "politeness": {
                    "concurrency": 4,
                    "delay": 0,
                    "download_timeout": download_timeout(slow_seconds),
                    "max_response_bytes": max_response_bytes,
                },
                "limits": {"max_pages": 500 + generated + generated // 10},
                "allow_private_networks": openings_for(base),
            }
        )
    return out


def render_sources(sources: list[dict[str, Any]]) -> str:
    """Validated YAML (via :func:`pipeline.config.dump_sources`) with the explanatory header."""
    body = dump_sources(sources)
    version = "version: 1\n"
    if body.endswith(version):  # readers look for the version first
        body = version + body.removesuffix(version)
    return HEADER + body
