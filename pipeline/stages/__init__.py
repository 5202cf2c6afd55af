"""The pipeline stages, one function each: the only code path for CLI, DAGs and tests.

``crawl`` -> ``extract`` -> ``load`` -> ``check`` -> ``publish``. Each takes a run id (plus
options), does its work idempotently for that run, and returns a small result whose
``as_dict()`` is what Airflow passes between tasks. Imports are lazy so that importing
``pipeline.stages`` (e.g. at DAG parse time) costs nothing.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "crawl": "pipeline.stages.crawl",
    "CrawlResult": "pipeline.stages.crawl",
    "extract": "pipeline.stages.extract",
    "ExtractResult": "pipeline.stages.extract",
    "load": "pipeline.stages.load",
    "LoadResult": "pipeline.stages.load",
    "check": "pipeline.stages.check",
    "publish": "pipeline.stages.check",
    "CheckResult": "pipeline.stages.check",
    "start_reextract": "pipeline.stages.reextract",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'pipeline.stages' has no attribute {name!r}")
    return getattr(import_module(module), name)
