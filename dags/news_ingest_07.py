"""Airflow ingest DAGs of shard 7 of 16: ``news_ingest__<key>`` for the sources whose key hashes here.

See ``news_ingest.py`` (shard 0): the one DAG per source is spread over 16 files so that
each file parses within Airflow's per-file import timeout.
"""

from __future__ import annotations

from pipeline.dagspecs import define_shard

define_shard(globals(), 7)
