"""``newsflow run``: crawl -> extract -> load -> check for the chosen sources, with progress."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from pipeline.cli.app import app, console
from pipeline.limits import MAX_PAGES
from pipeline.orchestrate import DEFAULT_PARALLEL, STAGES, SourceRunSummary


def summary_table(summaries: Sequence[SourceRunSummary], title: str = "newsflow run") -> Table:
    """Per source: pages, articles by outcome, failures by category, quality verdict, seconds."""
    table = Table(title=title)
    for column in (
        "source",
        "status",
        "pages",
        "304",
        "known, not refetched",
        "new",
        "updated",
        "unchanged",
        "duplicate",
        "rejected",
        "failures",
        "quality",
        "seconds",
    ):
        table.add_column(
            column, justify="right" if column not in {"source", "status", "failures", "quality"} else "left"
        )
    for s in summaries:
        failures = ", ".join(f"{k} {v}" for k, v in sorted(s.failures_by_category.items())) or "-"
        style = "green" if s.status == "success" else "red"
        table.add_row(
            s.source,
            f"[{style}]{s.status}[/{style}]",
            str(s.pages_fetched),
            str(s.pages_unchanged),
            str(s.pages_skipped),
            str(s.articles_new),
            str(s.articles_updated),
            str(s.articles_unchanged),
            str(s.articles_duplicate),
            str(s.articles_rejected),
            failures,
            Text(s.quality if len(s.quality) < 60 else s.quality[:57] + "..."),
            f"{s.seconds:.1f}",
        )
    return table


def run_with_progress(
    source_keys: Sequence[str] | None,
    max_pages: int | None,
    sources_path: Path | None,
    database_url: str | None,
    crawl_log_level: str = "WARNING",
    parallel: int = DEFAULT_PARALLEL,
    wait_if_busy: bool = True,
) -> list[SourceRunSummary]:
    """Run the pipeline showing one progress row per source that advances stage by stage."""
    from pipeline.config import load_sources
    from pipeline.orchestrate import run_sources

    keys = list(source_keys) if source_keys else [s.key for s in load_sources(sources_path).sources]
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.fields[source]:<20}"),
        BarColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as progress:
        tasks = {key: progress.add_task("waiting", total=len(STAGES), source=key) for key in keys}
        current: dict[str, str] = {}

        def on_stage(source: str, stage: str) -> None:
            task_id = tasks[source]
            if source in current:
                progress.advance(task_id)
            current[source] = stage
            progress.update(task_id, description=stage)

        summaries = run_sources(
            keys,
            max_pages=max_pages,
            sources_path=sources_path,
            database_url=database_url,
            on_stage=on_stage,
            crawl_log_level=crawl_log_level,
            parallel=parallel,
            wait_if_busy=wait_if_busy,
        )
        for summary in summaries:
            progress.update(tasks[summary.source], completed=len(STAGES), description=summary.status)
    return summaries


@app.command("run")
def run(
    source: list[str] | None = typer.Option(
        None, "--source", "-s", help="Source key (repeatable); default all."
    ),
    max_pages: int | None = typer.Option(
        None, "--max-pages", min=1, max=MAX_PAGES, help="Override limits.max_pages."
    ),
    sources_path: Path | None = typer.Option(
        None, "--sources", help="Sources file; default NEWSFLOW_SOURCES."
    ),
    database_url: str | None = typer.Option(None, "--database-url", help="Default NEWSFLOW_DATABASE_URL."),
    as_json: bool = typer.Option(False, "--json", help="Print the summaries as JSON instead of a table."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Show the crawler's INFO log."),
    parallel: int = typer.Option(DEFAULT_PARALLEL, "--parallel", min=1, max=64, help="Sources run at once."),
    wait: bool = typer.Option(
        True,
        "--wait/--no-wait",
        help="When another crawl of a source is live: wait for it, or fail that source.",
    ),
) -> None:
    """Crawl, extract, load and check the chosen sources (all by default); exit 1 if any failed."""
    crawl_log_level = "INFO" if verbose else "WARNING"
    if as_json:
        from pipeline.orchestrate import run_sources

        summaries = run_sources(
            source,
            max_pages=max_pages,
            sources_path=sources_path,
            database_url=database_url,
            crawl_log_level=crawl_log_level,
            parallel=parallel,
            wait_if_busy=wait,
        )
        typer.echo(json.dumps({"runs": [s.as_dict() for s in summaries]}, indent=2, ensure_ascii=False))
    else:
        summaries = run_with_progress(
            source, max_pages, sources_path, database_url, crawl_log_level, parallel, wait
        )
        console.print(summary_table(summaries))
        for s in summaries:
            if s.error:
                console.print(f"[red]{s.source}[/red]: {escape(s.error)}", soft_wrap=True)
    if any(s.status != "success" for s in summaries):
        raise typer.Exit(1)
