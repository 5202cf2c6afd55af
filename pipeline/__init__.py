"""newsflow: scheduled news ingestion (crawl -> extract -> load -> check).

The package holds every stage as a plain function (``pipeline.stages``); the CLI and the
Airflow DAGs are thin shells over them so that there is exactly one code path.
"""

__version__ = "0.1.0"
