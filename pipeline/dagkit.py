"""Glue between Airflow task contexts and the stage functions, shared by the files in ``dags/``.

The DAG files stay declarative (schedules, retries, wiring); everything a task *does* with
its context — naming the news run, reading the window and the trigger-form params, planning
extraction shards, alerting on failure — lives here, typed and unit-tested without Airflow.
Airflow itself is imported lazily, so importing this module costs nothing at parse time.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from pipeline.errors import NewsflowError, UsageError

log = logging.getLogger(__name__)
T = TypeVar("T")

PROJECT_ROOT = Path(__file__).resolve().parents[1]

#: One start date for every newsflow DAG (with catchup=False it only anchors the schedule).
START_DATE = datetime(2025, 1, 1, tzinfo=UTC)

ARTICLES_ASSET_NAME = "newsflow_articles"
ARTICLES_ASSET_URI = "newsflow://news/articles"

#: Retry policy of the network/DB tasks: 1, 2, 4, … minutes, capped.
RETRIES = 3
RETRY_DELAY = timedelta(seconds=60)
MAX_RETRY_DELAY = timedelta(minutes=30)

#: Extraction shards: one per this many fetched pages (the default of the
#: ``NEWSFLOW_PAGES_PER_SHARD`` setting), at most ``MAX_SHARDS``. A shard is one mapped task
#: instance (seconds of Airflow overhead each) that extracts with its own process pool
#: (:func:`extract_workers`), so shards are few and big: they exist to spread a big run over
#: executor slots / Celery workers, not to use the cores of one machine.
PAGES_PER_SHARD = 500
MAX_SHARDS = 8
#: Shards of one run extracted at the same time.
MAX_PARALLEL_SHARDS = 4

#: JSON Schema dialect of the ingest DAGs' Params. Airflow checks a Param's schema against the
#: dialect's meta-schema each time it resolves the Param (dozens of times per DAG while
#: building and serialising it); draft-07's check costs a third of the default 2020-12 one,
#: and the keywords used (type, minimum, maximum, enum, format) mean the same in both.
PARAM_SCHEMA_DIALECT = "http://json-schema.org/draft-07/schema#"

#: ``dag_run.run_type`` of the runs an Airflow backfill creates (``DagRunType.BACKFILL_JOB``
#: in the scheduler, ``DagRunType.BACKFILL`` in the task SDK: both are this string).
BACKFILL_RUN_TYPE = "backfill"


def project_path(value: str | Path) -> Path:
    """A path from settings, made absolute: relative paths belong to the project root.

    Airflow runs tasks from arbitrary working directories; the embedded defaults
    (``sources.yaml``, ``data/…``) are meant relative to the project.
    """
    path = Path(value).expanduser()
    if path.is_absolute():
        return path
    if (Path.cwd() / path).exists():
        return (Path.cwd() / path).resolve()
    return PROJECT_ROOT / path


def sources_path() -> Path:
    """The sources file the DAGs are generated from (``NEWSFLOW_SOURCES``, default ``sources.yaml``)."""
    return project_path(os.environ.get("NEWSFLOW_SOURCES") or "sources.yaml")


def prepare_task_environment() -> None:
    """Pin relative defaults to the project root before a task touches settings.

    Only unset variables are filled in, so a deployment's explicit ``NEWSFLOW_*`` values
    always win. Called at task run time, never at parse time.
    """
    from pipeline.settings import DEFAULT_DATABASE_URL, reset_settings_cache

    if not os.environ.get("NEWSFLOW_DATABASE_URL"):
        db_file = DEFAULT_DATABASE_URL.removeprefix("sqlite:///")
        os.environ["NEWSFLOW_DATABASE_URL"] = f"sqlite:///{PROJECT_ROOT / db_file}"
    if not os.environ.get("NEWSFLOW_RAW_STORE"):
        os.environ["NEWSFLOW_RAW_STORE"] = str(PROJECT_ROOT / "data" / "raw")
    os.environ["NEWSFLOW_SOURCES"] = str(sources_path())
    reset_settings_cache()
    _mask_configured_secrets()


def _mask_configured_secrets() -> None:
    """Tell Airflow's secrets masker our secrets (DB password, webhook token, SMTP password).

    Airflow then hides them in everything it logs for the task — tracebacks of exceptions it
    catches included — in the task process and the supervisor, which our own log filter does
    not reach.
    """
    import sys

    from pipeline.redact import configured_secrets

    # Only where Airflow runs the task (its task runner has loaded the masker): importing
    # Airflow here would reconfigure the logging of a process that is not a task.
    masker = sys.modules.get("airflow.sdk.log")
    if masker is None:
        return
    for secret in configured_secrets():
        masker.mask_secret(secret)


def news_run_id(prefix: str, airflow_run_id: str) -> str:
    """The ``crawl_runs.run_id`` of a DAG run: Airflow run ids are only unique per DAG."""
    return f"{prefix}__{airflow_run_id}"


def window_of(context: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    """The data interval of the DAG run; ``(None, None)`` for runs that have none."""
    start = context.get("data_interval_start")
    end = context.get("data_interval_end")
    if start is None or end is None or start == end:
        return (None, None)
    return (datetime.fromisoformat(start.isoformat()), datetime.fromisoformat(end.isoformat()))


def run_type_of(context: Mapping[str, Any]) -> str | None:
    """The DAG run's type as a plain string (``scheduled``, ``manual``, ``backfill``, …)."""
    run_type = getattr(context.get("dag_run"), "run_type", None)
    if run_type is None:
        return None
    return str(getattr(run_type, "value", run_type))


def is_backfill(context: Mapping[str, Any]) -> bool:
    """True for a run an Airflow backfill created (``airflow backfill create``, ``POST /backfills``).

    Such a run owns a window in the past; crawling today's site for it would recover
    nothing of that window, so its crawl reads the window from dated feed/sitemap entries.
    """
    return run_type_of(context) == BACKFILL_RUN_TYPE


def crawl_options(params: Mapping[str, Any], *, run_type: str | None = None) -> dict[str, Any]:
    """Trigger-form params (and the run type) -> keyword arguments of :func:`pipeline.stages.crawl`."""

    def optional_int(name: str) -> int | None:
        value = params.get(name)
        return None if value in (None, "") else int(value)

    return {
        "max_pages": optional_int("max_pages"),
        "related_depth": optional_int("related_depth"),
        "recrawl": bool(params.get("recrawl") or False),
        "dry_run": bool(params.get("dry_run") or False),
        "backfill": run_type == BACKFILL_RUN_TYPE,
    }


def busy_recheck() -> timedelta:
    """How long a crawl task whose source is busy waits before it tries again (the setting)."""
    from pipeline.settings import get_settings

    return timedelta(seconds=get_settings().busy_recheck_seconds)


def crawl_exclusively(crawl: Callable[[], T], *, now: datetime | None = None) -> T:
    """Run the crawl stage the Airflow way: a busy source waits, a usage error fails at once.

    - :class:`~pipeline.runs.SourceBusy` (another crawl of the source is in progress: a
      ``newsflow crawl`` from a shell, or a crawl whose process died and is not yet stale)
      reschedules the task (``up_for_reschedule``, no retry used, the pool slot freed) for
      :func:`busy_recheck` later, with the reason in the task log. The other crawl ends, or
      turns stale after ``NEWSFLOW_STALE_RUN_HOURS``, so the wait is bounded.
    - Any other :class:`~pipeline.errors.UsageError` (a backfill window in the future, an
      unknown source, bad params) is deterministic: the task fails without retries.
    - Everything else propagates, so the task's retries apply.
    """
    from pipeline.runs import SourceBusy

    try:
        return crawl()
    except SourceBusy as exc:
        from airflow.sdk.exceptions import AirflowRescheduleException

        when = (now or datetime.now(UTC)) + busy_recheck()
        log.warning("%s; this crawl waits and tries again at %s", exc, when.isoformat(timespec="seconds"))
        raise AirflowRescheduleException(when) from exc  # type: ignore[no-untyped-call]
    except UsageError as exc:
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(f"{type(exc).__name__}: {exc} (not retried)") from exc


def shard_plan(
    news_run: str, pages: int, *, per_shard: int | None = None, max_shards: int = MAX_SHARDS
) -> list[dict[str, Any]]:
    """Keyword sets of the mapped extract task: ``[{"news_run": …, "shard": 0, "shards": n}, …]``.

    ``per_shard`` defaults to the ``NEWSFLOW_PAGES_PER_SHARD`` setting (read where the plan
    is made: the crawl task). Always at least one shard, so load, check and publish run (and
    finalise the run row) even when nothing new was fetched.
    """
    if per_shard is None:
        from pipeline.settings import get_settings

        per_shard = get_settings().pages_per_shard
    count = max(1, min(max_shards, math.ceil(max(pages, 0) / per_shard)))
    return [{"news_run": news_run, "shard": i, "shards": count} for i in range(count)]


def extract_workers(shards: int, *, cores: int | None = None) -> int:
    """Processes of one extract task: the cores shared by the run's shards that run at once.

    Computed when the task runs, on the machine that runs it (a Celery worker may have more
    cores than the one that planned the shards).
    """
    from pipeline.stages.extract import workers_sharing_cores

    return workers_sharing_cores(min(shards, MAX_PARALLEL_SHARDS), cores=cores)


def articles_asset() -> Any:
    """The Asset the publish tasks update and consumer DAGs schedule on."""
    from airflow.sdk import Asset

    return Asset(name=ARTICLES_ASSET_NAME, uri=ARTICLES_ASSET_URI, group="newsflow")


def source_tag(key: str) -> str:
    """The tag that finds every DAG of one source in the UI's tag filter."""
    return f"source:{key}"


def default_args(owner: str) -> dict[str, Any]:
    """Retries with exponential backoff and the failure callbacks, for every task of a DAG.

    The callbacks: :func:`on_task_failure` (marks the news run failed, logs the alert), then
    Airflow notifiers (webhook for chat tools, SMTP provider e-mail; :mod:`pipeline.notifiers`).
    """
    from pipeline.notifiers import failure_notifiers

    return {
        "owner": owner,
        "retries": RETRIES,
        "retry_delay": RETRY_DELAY,
        "retry_exponential_backoff": True,
        "max_retry_delay": MAX_RETRY_DELAY,
        "on_failure_callback": [on_task_failure, *failure_notifiers()],
    }


def source_of(context: Mapping[str, Any]) -> str | None:
    """The source a task instance works for, from its context (alerts, run bookkeeping).

    ``news_ingest__<key>``: the DAG id names it. A group DAG (``news_ingest_group__…``) runs
    many sources, one mapped task instance each: the instance's own ``source`` argument
    names it (resolved from the mapped task group's input), else its rendered map index
    (``map_index_template`` renders the key). ``news_reextract``: the ``source`` Param.
    """
    from pipeline.dag_groups import GROUP_PREFIX

    dag = context.get("dag")
    ti = context.get("ti") or context.get("task_instance")
    dag_id = str(getattr(dag, "dag_id", None) or getattr(ti, "dag_id", None) or "")
    if dag_id.startswith("news_ingest__"):
        return dag_id.removeprefix("news_ingest__")
    if dag_id.startswith(GROUP_PREFIX):
        task = context.get("task") or getattr(ti, "task", None)
        value = (getattr(task, "op_kwargs", None) or {}).get("source")
        if isinstance(value, str) and value:
            return value
        rendered = getattr(ti, "rendered_map_index", None)
        return str(rendered) if rendered else None
    if dag_id == "news_reextract":
        source = (context.get("params") or {}).get("source")
        return str(source) if source else None
    return None


def news_run_of(context: Mapping[str, Any]) -> str | None:
    """The news run id of the DAG run a task context belongs to (ingest and reextract DAGs).

    Derived, not passed: every task of a DAG run (of one source, in a group DAG) computes
    the same id, so XCom only carries the shard plan and counts.
    """
    dag_run = context.get("dag_run")
    dag = context.get("dag")
    if dag_run is None or dag is None:
        return None
    source = source_of(context)
    if source is None:
        return None
    if str(dag.dag_id) == "news_reextract":
        return news_run_id(f"{source}__reextract", dag_run.run_id)
    return news_run_id(source, dag_run.run_id)


def skip_if_paused(key: str, *, paused_in_config: bool) -> None:
    """Skip the task (and so the rest of the source's chain) when the source is paused.

    The state is the news database's (``newsflow sources pause``), else ``paused_in_config``
    (``schedule.paused`` in the grouped layout): see :mod:`pipeline.pauses`.
    """
    from pipeline.db.engine import get_engine
    from pipeline.pauses import paused_keys

    if paused_keys(get_engine(), [key], [key] if paused_in_config else []):
        from airflow.sdk.exceptions import AirflowSkipException

        raise AirflowSkipException(f"source {key} is paused (newsflow sources resume {key}); not crawled")


def require_news_run(context: Mapping[str, Any]) -> str:
    run_id = news_run_of(context)
    if run_id is None:
        raise NewsflowError("this task belongs to no newsflow ingest or reextract DAG")
    return run_id


def on_task_failure(context: Mapping[str, Any]) -> None:
    """First failure callback: mark the news run failed and log the alert (the notifiers send it)."""
    from pipeline.notifiers import alert_from_context, smtp_connection_from_settings
    from pipeline.redact import install_log_redaction, redact
    from pipeline.stages.check import fail_run

    prepare_task_environment()
    install_log_redaction()
    smtp_connection_from_settings()  # for the SMTP notifier that runs next
    alert = alert_from_context(context)
    run_id = news_run_of(context)
    if run_id is not None:
        try:
            fail_run(run_id, f"{alert.task_id}: {alert.message}")
        except Exception as exc:  # the alert matters more than the bookkeeping
            log.warning("could not mark run %s failed: %s", run_id, redact(exc))
    logging.getLogger("newsflow.alerts").error(
        "%s: %s (run %s, try %s, log %s)",
        alert.title,
        alert.message,
        alert.run_id,
        alert.details.get("try_number"),
        alert.details.get("log_url"),
        extra={"alert": alert.as_dict()},
    )


INGEST_DOC = """\
### news_ingest__{key}: {name}

Crawls **{homepage}** ({discovery}), archives every response to the WARC raw store, extracts
clean articles, loads them into the news database and checks the run against the source's
quality gates. Each scheduled run owns the window between two ticks of `{cron}` ({tz}).

Tasks: `crawl` (Scrapy subprocess, pool `crawl_pool`) → `extract` (mapped over shards) →
`load` → `check` (quality gates: yield ≥ {q.min_extraction_yield:.0%}, empty text ≤
{q.max_empty_text_rate:.0%}, errors ≤ {q.max_error_rate:.0%}, ≥ {q.min_articles} article(s))
→ `publish` (Asset event `{asset}` with window, source and counts).

**Rerun**: clear the run (or any task) — every task is idempotent for its run, the database
ends in the same state. **Manual run**: *Trigger* with params `max_pages`, `related_depth`,
`recrawl` (refetch everything), `dry_run` (crawl only, nothing loaded).
**Backfill**: `airflow backfill create --dag-id news_ingest__{key} --from-date … --to-date …`
(or *Backfill* in the UI): each past window is read from the dated entries of the source's
feeds and sitemaps only — not listings, related links or revisits, which show today's site —
and `stats.crawl.backfill` of its run says what could not be recovered. Crawls of one source
never overlap (one `crawl` task at a time across all runs of this DAG, backfills included).
Configuration lives in `sources.yaml` (source `{key}`); the crawl_runs row with run id
`{key}__<airflow run id>` records what happened.
"""


def ingest_doc(source: Any) -> str:
    d = source.discovery
    discovery = (
        f"{len(d.feeds)} feeds, {len(d.sitemaps)} sitemaps, {len(d.listings)} listings, {len(d.seeds)} seeds"
    )
    return INGEST_DOC.format(
        key=source.key,
        name=source.name,
        homepage=source.homepage,
        discovery=discovery,
        cron=source.schedule.cron,
        tz=source.schedule.timezone,
        q=source.quality,
        asset=ARTICLES_ASSET_NAME,
    )
