"""The pipeline stages, one function each: the only code path for CLI, DAGs and tests.

``crawl`` -> ``extract`` -> ``load`` -> ``check`` -> ``publish``. Each takes a run id (plus
options), does its work idempotently for that run, and returns a small result whose
``as_dict()`` is what Airflow passes between tasks. Imports are lazy so that importing
``pipeline.stages`` (e.g. at DAG parse time) costs nothing.
"""

from __future__ import annotations

import sys
from importlib import import_module
from types import ModuleType
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


class _StagesPackage(ModuleType):
    """Keeps ``stages.check`` (etc.) the function after ``pipeline.stages.check`` is imported.

    Importing a submodule sets it as an attribute of its package, which would shadow the
    re-exported function of the same name (``stages.check(...)`` -> "module not callable").
    The submodules stay reachable through ``sys.modules`` and ``from … import``.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _EXPORTS and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _StagesPackage
