"""Article extraction: raw HTML -> clean text and metadata (trafilatura + our cleaning).

Public API: :func:`extract_article` (None for non-articles) and :func:`extract_outcome`
(always says why). Everything below is pure (no I/O) except :mod:`pipeline.extract.learned`,
which keeps the site-learned boilerplate in the database.
"""

from pipeline.extract.api import EXTRACTOR_VERSION, Outcome, extract_article, extract_outcome
from pipeline.extract.charset import decode_html

__all__ = ["EXTRACTOR_VERSION", "Outcome", "decode_html", "extract_article", "extract_outcome"]
