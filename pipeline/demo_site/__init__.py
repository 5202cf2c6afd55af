"""The demo news network: three local outlets that look like the real web, warts included.

``DemoNetwork`` serves them (``newsflow demo-site``, the ``demo_network`` test fixture, the
benchmarks); ``DemoNetwork.manifest()`` is the ground truth the crawl, extraction and load
tests assert against. Everything binds to loopback only.
"""

from __future__ import annotations

from pipeline.demo_site.manifest import ArticleTruth, FaultTruth, Manifest, OutletManifest, RedirectTruth
from pipeline.demo_site.model import EDITION_TIMES, seed_body
from pipeline.demo_site.network import DEFAULT_PORT, DemoNetwork, Outlet

__all__ = [
    "DEFAULT_PORT",
    "EDITION_TIMES",
    "ArticleTruth",
    "DemoNetwork",
    "FaultTruth",
    "Manifest",
    "Outlet",
    "OutletManifest",
    "RedirectTruth",
    "seed_body",
]
