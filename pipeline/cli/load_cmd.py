"""``newsflow load``: the load stage for one run."""

from __future__ import annotations

import json

import typer

from pipeline.cli.app import app, console
from pipeline.jsonout import encode


@app.command("load")
def load_command(
    run: str = typer.Option(..., "--run", help="Run id whose extracted records to load."),
    batch_size: int = typer.Option(500, "--batch-size", min=1, max=100_000, help="Records per transaction."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="SQLAlchemy URL; default NEWSFLOW_DATABASE_URL.", show_default=False
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
    writers: int | None = typer.Option(
        None,
        "--writers",
        min=1,
        max=16,
        help="Batch transactions in flight at once (default: 2 on PostgreSQL, 1 on SQLite).",
        show_default=False,
    ),
) -> None:
    """Upsert a run's extracted records into articles (idempotent; safe to rerun)."""
    from pipeline.stages.load import load

    result = load(
        run,
        database_url=database_url,
        batch_size=batch_size,
        progress=progress and not as_json,
        writers=writers,
    )
    if as_json:
        print(json.dumps(encode(result.as_dict()), ensure_ascii=False))
        return
    console.print(
        f"run {result.run_id}: {result.records} records -> {result.new} new, {result.updated} updated, "
        f"{result.unchanged} unchanged, {result.duplicate} duplicate, {result.rejected} rejected, "
        f"{result.removed} removed from the web "
        f"({result.near_duplicates} near-duplicates, {result.links} links) in {result.seconds:.1f}s",
        highlight=False,
    )
