"""The pipeline stages, one module and one function each: the only code path for CLI, DAGs and tests.

``crawl`` -> ``extract`` -> ``load`` -> ``check`` -> ``publish`` (plus ``reextract`` and
``retention``). Each takes a run id (plus options), does its work idempotently for that run,
and returns a small result whose ``as_dict()`` is what Airflow passes between tasks.

Import the function from its module (``from pipeline.stages.crawl import crawl``): the
package deliberately re-exports nothing, because a package attribute named like a
submodule (``stages.check``) is rebound to the module whenever that submodule is imported.
Importing the package costs nothing (DAG parse time).
"""
