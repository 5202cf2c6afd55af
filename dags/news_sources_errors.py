"""Reports the sources of ``sources.yaml`` that ``news_ingest.py`` skipped, as an import error.

Airflow shows a DAG file's import error in the UI and in ``airflow dags list-import-errors``;
it is where ops look when a DAG is missing. A source with a bad line must not take every
other source's ingest DAG down with it, so ``news_ingest.py`` builds the valid ones and this
file (which defines no DAG) fails to import, naming file, line and key of each skipped
source. A file broken as a whole is ``news_ingest.py``'s import error, not repeated here.
"""

from __future__ import annotations

from pipeline import dagkit
from pipeline.dagspecs import sources_view

# Validated once per edit of sources.yaml and cached (pipeline.dagspecs); a file broken as a
# whole has no per-source issues (it is news_ingest.py's import error).
if _skipped_sources := sources_view(dagkit.sources_path()).issues:
    raise RuntimeError(
        f"newsflow: {len(_skipped_sources)} problem(s) in sources.yaml, those sources have no ingest DAG"
        " (the other sources' DAGs are loaded):\n" + "\n".join(_skipped_sources)
    )
