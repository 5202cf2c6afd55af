"""``newsflow sources …``: validate and list ``sources.yaml``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from pipeline.cli.app import app, console

sources_app = typer.Typer(help="Validate and list configured sources.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")


@sources_app.command("check")
def check(path: Path | None = typer.Argument(None, help="Sources file; default NEWSFLOW_SOURCES.")) -> None:
    """Validate the sources file (exit 2 naming file, source and line) and list the sources."""
    from pipeline.config_errors import read_document, read_sources_text

    if path is None:
        from pipeline.settings import get_settings

        path = get_settings().sources
    # A hostile or broken file is refused before the (slow to import) models are loaded.
    read_document(read_sources_text(path), str(path))
    from pipeline.config import load_sources

    sources = load_sources(path)
    table = Table(title=f"{len(sources.sources)} source(s) OK")
    for column in ("key", "name", "homepage", "schedule", "discovery", "related", "max pages"):
        table.add_column(column)
    for src in sources.sources:
        d = src.discovery
        discovery = f"{len(d.feeds)} feeds, {len(d.sitemaps)} sitemaps, {len(d.listings)} listings, {len(d.seeds)} seeds"
        table.add_row(
            src.key,
            src.name,
            str(src.homepage),
            f"{src.schedule.cron} {src.schedule.timezone}" + (" (paused)" if src.schedule.paused else ""),
            discovery,
            f"depth {src.related.depth}, {src.related.scope}",
            str(src.limits.max_pages),
        )
    console.print(table)


def _set_pause(key: str, paused: bool, reason: str | None, database_url: str | None) -> None:
    """Record the decision and say what it does in the configured DAG layout."""
    from pipeline import dag_groups
    from pipeline.pauses import pause_source

    pause_source(key, paused, reason, database_url)
    verb = "paused" if paused else "resumed"
    if dag_groups.layout() == dag_groups.GROUPED:
        where = "its group DAG leaves it out of every run" if paused else "its group DAG crawls it again"
    else:
        where = "its crawl task skips" if paused else "its crawl task runs"
        where += f" (pausing the DAG news_ingest__{key} in Airflow works too)"
    console.print(f"{verb}: {key}; {where}", highlight=False)


@sources_app.command("pause")
def pause(
    key: str = typer.Argument(..., help="The source's key in sources.yaml."),
    reason: str | None = typer.Option(None, "--reason", help="Why (shown by newsflow status)."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="SQLAlchemy URL; default NEWSFLOW_DATABASE_URL.", show_default=False
    ),
) -> None:
    """Pause one source: no crawl of it by any ingest DAG until `newsflow sources resume KEY`.

    For the grouped DAG layout, where one DAG runs many sources; the state is in the news
    database (``source_pauses``), shown by ``newsflow status``. Idempotent.
    """
    _set_pause(key, True, reason, database_url)


@sources_app.command("resume")
def resume(
    key: str = typer.Argument(..., help="The source's key in sources.yaml."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="SQLAlchemy URL; default NEWSFLOW_DATABASE_URL.", show_default=False
    ),
) -> None:
    """Resume one source (in the grouped layout also one `schedule.paused: true` pauses). Idempotent."""
    _set_pause(key, False, None, database_url)
