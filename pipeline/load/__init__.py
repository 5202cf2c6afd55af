"""The load stage's machinery: extracted records -> ``articles`` and friends.

One concern per module:

- :mod:`~pipeline.load.validate` — refuse bad records (with a reason) before they reach SQL;
- :mod:`~pipeline.load.prepare` — turn a valid record into an article row (canonical URL, hashes);
- :mod:`~pipeline.load.upsert` — the ``INSERT … ON CONFLICT`` of articles and their versions;
- :mod:`~pipeline.load.neardup` — MinHash/LSH fingerprints and near-duplicate clusters;
- :mod:`~pipeline.load.links` — the related-article graph;
- :mod:`~pipeline.load.runner` — batches, transactions, retries and run counters.
"""

from __future__ import annotations
