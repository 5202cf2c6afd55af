"""Article extraction: raw HTML -> clean text and metadata (trafilatura + our cleaning).

Public API: :func:`extract_article` (None for non-articles) and :func:`extract_outcome`
(always says why). Everything below is pure (no I/O) except :mod:`pipeline.extract.learned`,
which keeps the site-learned boilerplate in the database.

The public names are imported on first use (PEP 562): the crawler imports a few light
submodules (the JSON body readers) in every crawl process, and importing ``api`` would drag
in trafilatura, the models and the language detector (~0.5 s of CPU) for nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.extract.api import EXTRACTOR_VERSION, Outcome, extract_article, extract_outcome
    from pipeline.extract.charset import decode_html

__all__ = ["EXTRACTOR_VERSION", "Outcome", "decode_html", "extract_article", "extract_outcome"]

_HOMES = {
    "EXTRACTOR_VERSION": "pipeline.extract.api",
    "Outcome": "pipeline.extract.api",
    "extract_article": "pipeline.extract.api",
    "extract_outcome": "pipeline.extract.api",
    "decode_html": "pipeline.extract.charset",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups are plain module attributes
    return value
