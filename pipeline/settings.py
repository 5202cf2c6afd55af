"""Process-wide settings, read from ``NEWSFLOW_*`` environment variables.

Settings are deliberately few: everything per-source lives in ``sources.yaml``. Paths are
relative to the current working directory, which is the project root for the CLI, the
Makefile and the DAGs (the DAG files set it explicitly), so that the embedded defaults work
from a fresh clone.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///data/newsflow.db"


class Settings(BaseSettings):
    """Runtime configuration; each field maps to ``NEWSFLOW_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="NEWSFLOW_", extra="ignore")

    database_url: str = Field(
        default=DEFAULT_DATABASE_URL,
        description="SQLAlchemy URL of the news database (not Airflow's metadata DB).",
    )
    raw_store: str = Field(
        default="data/raw", description="Where WARC files go: a local folder or an fsspec URL."
    )
    sources: Path = Field(default=Path("sources.yaml"), description="Path of the sources file.")
    user_agent: str = Field(
        default="newsflow/0.1 (+https://example.org/newsflow-bot)",
        description="Identifying User-Agent with a contact URL, sent on every request.",
    )
    raw_retention_days: int = Field(
        default=90, ge=1, description="WARC files older than this are pruned by news_retention."
    )
    alert_webhook_url: str | None = Field(
        default=None, description="POSTed a JSON message when a run fails (optional)."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for failure e-mails.")
    smtp_port: int = 25
    smtp_from: str = "newsflow@localhost"
    smtp_user: str | None = Field(default=None, description="SMTP login (with smtp_password), optional.")
    smtp_password: SecretStr | None = Field(
        default=None, description="SMTP password; never shown (see pipeline.redact)."
    )
    alert_email_to: str | None = Field(default=None, description="Recipient of failure e-mails.")
    workers: int = Field(default=0, ge=0, description="Extraction processes; 0 = one per core.")
    pages_per_shard: int = Field(
        default=500,
        ge=1,
        description=(
            "Fetched pages per extraction shard of an Airflow run (one mapped `extract` task each,"
            " at most 8): lower it to spread small runs over several Celery workers."
        ),
    )
    stale_run_hours: float = Field(
        default=6,
        gt=0,
        description=(
            "A run still 'running' this many hours after it started is marked failed (its process"
            " died): by the next run of its source, `newsflow status` and retention."
        ),
    )
    # At least 20 s: the executor reports the end of the rescheduled attempt's workload a few
    # seconds after the task process exits, and if the task is already running again by then
    # Airflow takes that stale "success" for a task killed externally and fails the new
    # attempt (apache/airflow#71172; measured: a 4 s recheck lost a try under load).
    busy_recheck_seconds: float = Field(
        default=60,
        ge=20,
        description=(
            "An Airflow crawl task whose source is busy (another crawl of it in progress) is"
            " rescheduled after this many seconds instead of failing (at least 20)."
        ),
    )
    dag_layout: Literal["per-source", "grouped"] = Field(
        default="per-source",
        description=(
            "How the ingest DAGs are laid out: `per-source` (one DAG per source, the default) or"
            " `grouped` (one DAG per schedule group with one mapped task instance per source;"
            " for deployments above ~2,000 sources). Read by the DAG processor only:"
            " pipeline.dagspecs reads the variable itself, without this class, at parse time."
        ),
    )
    dag_group_size: int = Field(
        default=500,
        ge=1,
        le=1024,
        description=(
            "grouped layout: sources per group DAG at most (a schedule group with more is split"
            " into several DAGs); at most Airflow's [core] max_map_length (1024)."
        ),
    )
    near_dup_threshold: float = Field(
        default=0.8,
        gt=0,
        le=1,
        description="Estimated Jaccard similarity (12-char shingles) at which articles share a cluster.",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read once."""
    return Settings()


def reset_settings_cache() -> None:
    """Forget cached settings (tests change the environment between cases)."""
    get_settings.cache_clear()
