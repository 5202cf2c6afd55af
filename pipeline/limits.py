"""Bounds on what a caller may ask for, shared by the CLI's option ranges and the functions.

Out-of-range input is a usage error (exit 2, one line) at the edge, never an overflow or a
query that runs for minutes deep inside; both the CLI and the Python API check these.
"""

from __future__ import annotations

#: ``--max-pages`` at most (a crawl of one source in one run).
MAX_PAGES = 10_000_000
#: Hits one search returns at most.
MAX_SEARCH_LIMIT = 1_000
#: Search queries: SQLite FTS5's cost grows faster than linearly with the number of terms
#: (a 4,000-word query took 20 s), and no person types more than this.
MAX_QUERY_CHARS = 1_000
MAX_QUERY_TERMS = 32
#: ``--since 24h`` reaches back at most this far (a century; far more overflows datetime).
MAX_SINCE_HOURS = 100 * 8766
