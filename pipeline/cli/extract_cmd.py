"""``newsflow extract``: the extraction stage for one run."""

from __future__ import annotations

import json

import typer

from pipeline.cli.app import app, console
from pipeline.jsonout import encode


@app.command("extract")
def extract_command(
    run: str = typer.Option(..., "--run", help="Run id whose archived responses to extract."),
    shard: int = typer.Option(
        0, "--shard", min=0, max=9_999, help="Process only this shard (fetch id modulo --shards)."
    ),
    shards: int = typer.Option(
        1, "--shards", min=1, max=10_000, help="Number of shards the run is split into."
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=0,
        max=256,
        help="Processes (default NEWSFLOW_WORKERS; 0 = one per core).",
        show_default=False,
    ),
    database_url: str | None = typer.Option(
        None, "--database-url", help="SQLAlchemy URL; default NEWSFLOW_DATABASE_URL.", show_default=False
    ),
    sources: str | None = typer.Option(
        None, "--sources", help="sources.yaml path; default NEWSFLOW_SOURCES.", show_default=False
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar."),
) -> None:
    """Extract clean articles from a run's raw pages into staging (idempotent; safe to rerun)."""
    from pipeline.stages.extract import extract

    result = extract(
        run,
        shard=shard,
        shards=shards,
        workers=workers,
        database_url=database_url,
        sources_path=sources,
        progress=progress and not as_json,
    )
    if as_json:
        print(json.dumps(encode(result.as_dict()), ensure_ascii=False))
        return
    console.print(
        f"run {result.run_id}: {result.pages} pages -> {result.extracted} articles, "
        f"{result.not_article} not articles, {result.empty} empty, {result.failed} failed "
        f"({result.learned_lines} learned boilerplate lines) in {result.seconds:.1f}s",
        highlight=False,
    )
