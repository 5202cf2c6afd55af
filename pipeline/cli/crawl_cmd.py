"""``newsflow crawl``: one source's crawl (the same subprocess the Airflow task runs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from pipeline.cli.app import app, console
from pipeline.jsonout import encode
from pipeline.limits import MAX_PAGES


@app.command("crawl")
def crawl_command(
    source: str = typer.Option(..., "--source", "-s", help="Source key in the sources file."),
    run_id: str | None = typer.Option(
        None, "--run-id", help="Run id; default a new manual id. Re-using one replaces that run's raw data."
    ),
    max_pages: int | None = typer.Option(
        None, "--max-pages", min=1, max=MAX_PAGES, help="Override limits.max_pages."
    ),
    related_depth: int | None = typer.Option(
        None, "--related-depth", min=0, max=5, help="Override related.depth."
    ),
    recrawl: bool = typer.Option(False, "--recrawl", help="Refetch stored articles (conditionally)."),
    sources_path: Path | None = typer.Option(
        None, "--sources", help="Sources file; default NEWSFLOW_SOURCES."
    ),
    database_url: str | None = typer.Option(None, "--database-url", help="Default NEWSFLOW_DATABASE_URL."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Flag the run as a dry run: crawl and archive, the pipeline loads nothing."
    ),
    log_level: str = typer.Option("WARNING", "--log-level", help="Scrapy log level (stderr)."),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Crawl one source into the raw store; exit 1 only if the run as a whole failed."""
    from pipeline.db import migrate
    from pipeline.stages.crawl import crawl

    migrate.upgrade(database_url)
    kwargs: dict[str, Any] = {
        "max_pages": max_pages,
        "related_depth": related_depth,
        "recrawl": recrawl,
        "sources_path": sources_path,
        "database_url": database_url,
        "dry_run": dry_run,
        "log_level": log_level,
    }
    if as_json:
        result = crawl(source, run_id, **kwargs)
        typer.echo(json.dumps(encode(result.as_dict()), indent=2, default=str, ensure_ascii=False))
    else:
        with Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[source]}[/bold] {task.description}"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        ) as progress:
            task = progress.add_task("starting", source=source)

            def show(data: dict[str, Any]) -> None:
                progress.update(
                    task,
                    description=(
                        f"fetched {data.get('fetched', 0)}, unchanged {data.get('unchanged', 0)}, "
                        f"failed {data.get('failed', 0)}, queued {data.get('queued', 0)}, "
                        f"in flight {data.get('in_flight', 0)}"
                    ),
                )

            result = crawl(source, run_id, on_progress=show, **kwargs)
        console.print(summary(result))
        if result.error:
            console.print(f"[red]crawl failed:[/red] {result.error}", soft_wrap=True)
    if result.status == "failed":
        raise typer.Exit(1)


def summary(result: Any) -> Table:
    """One table: counters, errors by category, throughput."""
    table = Table(title=f"crawl: {result.status}", caption=f"run id {result.run_id}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    stats = result.stats or {}
    rows = [
        ("pages fetched", result.pages_fetched),
        ("unchanged (304)", result.pages_unchanged),
        ("failed", result.pages_failed),
        ("article candidates", stats.get("article_candidates", "-")),
        ("changed since last fetch", stats.get("changed", "-")),
        ("skipped (stored, not recent)", stats.get("skipped_known", 0)),
        ("related links", stats.get("links", "-")),
        ("over max_pages", stats.get("over_budget", 0)),
        ("pages/s", stats.get("pages_per_s", "-")),
        ("seconds", stats.get("elapsed_s", "-")),
    ]
    for category, count in sorted(result.errors_by_category.items()):
        rows.append((f"  {category}", count))
    for what, value in rows:
        table.add_row(what, str(value))
    return table
