"""Per-source browser rendering: ``render: browser`` in ``sources.yaml``.

Most news pages carry their article in the HTML or in its embedded JSON (read by
:mod:`pipeline.extract.embedded`). A few build the body in the browser from an XHR; for
those a source says ``render: browser`` and its article pages are fetched by a headless
Chromium (scrapy-playwright, see :mod:`crawlers.render`) instead of plain HTTP. Feeds,
sitemaps and robots.txt are never rendered. Sources without it never import playwright.

The browser is Debian's Chromium (``apt-get install chromium``; ``make install`` and
``.ci/run`` install it when missing), found at :data:`DEFAULT_CHROMIUM` or where
``NEWSFLOW_CHROMIUM`` says: playwright's own browser download is never used.
"""

from __future__ import annotations

import os
from typing import Literal

RenderMode = Literal["none", "browser"]
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ENV = "NEWSFLOW_CHROMIUM"


def chromium_path() -> str:
    """The Chromium executable the crawler launches."""
    return os.environ.get(CHROMIUM_ENV) or DEFAULT_CHROMIUM
