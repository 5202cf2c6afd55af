"""One Airflow ingestion DAG per source in ``sources.yaml``: ``news_ingest__<source key>``.

Adding a source to ``sources.yaml`` adds its DAG; no code changes. The DAGs are spread over
16 files — this one (shard 0) and ``news_ingest_01.py`` … ``news_ingest_15.py`` — because
Airflow parses each file in its own process within its own import timeout (30 s): a source
lives in file ``crc32(key) % 16`` (``pipeline.dagspecs.shard_of``), so 10,000 sources are
~625 per file. ``sources.yaml`` is validated once per edit and cached for the other files
(``pipeline.dagspecs``); the DAG itself is ``pipeline.ingest_dag.build_ingest_dag``.

With ``NEWSFLOW_DAG_LAYOUT=grouped`` the same 16 files hold one DAG per schedule group instead
(``news_ingest_group__…``, ``pipeline.group_dag``), for deployments of thousands of sources.

Parse time reads ``sources.yaml`` (and the cache) and nothing else: no database, no
network. A file that cannot be read as a whole (YAML syntax, aliases, a bad top level)
raises one import error here, naming the file and line; a source with an invalid line is
skipped (logged here, and reported as the import error of ``news_sources_errors.py``,
naming file, line and key) while every other source keeps its DAG.
"""

from __future__ import annotations

from pipeline.dagspecs import define_shard

define_shard(globals(), 0)
