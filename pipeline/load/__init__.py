"""The load stage's machinery: extracted records -> ``articles`` and friends.

One concern per module:

- :mod:`~pipeline.load.validate` — refuse bad records (with a reason) before they reach SQL;
- :mod:`~pipeline.load.prepare` — turn a valid record into an article row (canonical URL, hashes);
- :mod:`~pipeline.load.upsert` — the ``INSERT … ON CONFLICT`` of articles and their versions
  (including a removed story's return and the guard that keeps purged stories purged);
- :mod:`~pipeline.load.removals` — 404/410/redirect hints and "story removed" pages mark
  stored articles removed;
- :mod:`~pipeline.load.events` — which new version is a removed story ``restored``;
- :mod:`~pipeline.load.neardup` — MinHash/LSH fingerprints and near-duplicate clusters;
- :mod:`~pipeline.load.links` — the related-article graph;
- :mod:`~pipeline.load.runner` — batches, transactions, retries and run counters.
"""

from __future__ import annotations
