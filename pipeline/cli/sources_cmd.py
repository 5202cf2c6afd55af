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
