"""The crawl frontier: de-duplicated by canonical URL, prioritised, bounded by ``max_pages``.

Scrapy's own scheduler only ever holds what the downloader can take right now (the spider
feeds it lazily from here), so memory grows with compact tuples per URL rather than with
full ``Request`` objects, and the per-run page budget is enforced when a request is issued
rather than after responses arrive.
"""

from __future__ import annotations

import hashlib
from collections import deque
from dataclasses import dataclass, field
from typing import Any

# Lower is sooner: discovery surfaces first so every article is known before the budget
# runs out, then articles, then related articles hop by hop.
PRIO_SURFACE = 0
PRIO_ARTICLE = 1
PRIO_RELATED = 2


@dataclass(slots=True)
class Planned:
    """One URL waiting to be fetched."""

    url: str  # canonical URL, what is requested
    discovery: str  # feed | sitemap | listing | pagination | related | seed | canonical
    role: str  # feed | sitemap | page | robots
    referrer: str | None = None
    depth: int = 0  # related-link hops from a discovered article
    listing_depth: int = 0  # listing hops / pagination count from a configured listing
    hints: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    surface: bool = False
    priority: int = PRIO_ARTICLE


class Frontier:
    """Seen set + priority queues + page budget."""

    def __init__(self, max_pages: int) -> None:
        self.max_pages = max_pages
        self.issued = 0
        self.over_budget = 0
        self._seen: set[bytes] = set()  # 16-byte digests: a third of the URL strings' memory
        self._queues: dict[int, deque[Planned]] = {}

    @staticmethod
    def _key(canonical: str) -> bytes:
        return hashlib.blake2b(canonical.encode("utf-8"), digest_size=16).digest()

    def claim(self, canonical: str) -> bool:
        """True the first time a canonical URL is claimed in this run; never fetch twice."""
        key = self._key(canonical)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def seen(self, canonical: str) -> bool:
        return self._key(canonical) in self._seen

    def push(self, planned: Planned) -> None:
        self._queues.setdefault(planned.priority, deque()).append(planned)

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values())

    @property
    def budget_left(self) -> int:
        return self.max_pages - self.issued

    def pop(self) -> Planned | None:
        """The next URL to request, or ``None``; items beyond the budget are dropped."""
        for priority in sorted(self._queues):
            queue = self._queues[priority]
            if queue:
                planned = queue.popleft()
                if self.issued >= self.max_pages:
                    self.over_budget += 1 + sum(len(q) for q in self._queues.values())
                    self._queues.clear()
                    return None
                self.issued += 1
                return planned
        return None
