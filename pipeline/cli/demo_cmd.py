"""``newsflow demo`` (``make demo``): start the demo network, run everything, show the result."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from pipeline.cli.app import app, console

NEXT_STEPS = """\
[bold]Next commands to try[/bold]
  .venv/bin/newsflow search "Belgorod governor"      full-text search (add --json for scripts)
  .venv/bin/newsflow status                          recent runs, quality verdicts, newest articles
  .venv/bin/newsflow articles --since 2020-01-01 --json   export articles
  .venv/bin/newsflow demo-site                       keep the demo network running (ports 8701-8703)
  make airflow                                       local Airflow with one DAG per source
  README.md, section "Deploy"                        docker compose with PostgreSQL + Airflow"""


@app.command("demo")
def demo(
    database_url: str | None = typer.Option(None, "--database-url", help="Default NEWSFLOW_DATABASE_URL."),
    articles: int = typer.Option(
        0, "--articles", min=0, max=100_000, help="Extra generated articles per outlet (scale mode)."
    ),
    query: str = typer.Option("Belgorod governor", "--query", help="The search shown at the end."),
) -> None:
    """Serve the demo news network on loopback, run the whole pipeline over it, show what it stored."""
    from pipeline.cli.run_cmd import run_with_progress, summary_table
    from pipeline.db import migrate
    from pipeline.db.engine import make_engine
    from pipeline.demo import DEMO_DIR, seed_report
    from pipeline.demo_ports import start_demo_network
    from pipeline.demo_site import DEFAULT_PORT
    from pipeline.redact import redact
    from pipeline.settings import get_settings

    migrate.upgrade(database_url)
    console.print(
        f"[bold]1.[/bold] news database migrated: {redact(database_url or get_settings().database_url)}"
    )
    network, same_ports = start_demo_network(DEMO_DIR / "ports.json", articles=articles)
    if not same_ports:
        console.print(
            f"[yellow]ports {DEFAULT_PORT}-{DEFAULT_PORT + 2} (or the ones the last demo used) are busy;"
            f" using {network.port}-{network.port + 2} from now on[/yellow]"
        )
    try:
        sources_path = network.write_sources(DEMO_DIR / "sources.yaml")
        console.print("[bold]2.[/bold] demo news network on loopback:")
        for outlet in network.outlets:
            console.print(f"     {outlet.key:<18} {outlet.base_url}")
        console.print(f"     sources file: {sources_path}")
        console.print("[bold]3.[/bold] running crawl -> extract -> load -> check for every outlet")
        summaries = run_with_progress(None, None, sources_path, database_url)
        seed_url = network.manifest(include_generated=False).seed_url
    finally:
        network.stop()
    console.print(summary_table(summaries, title="demo run"))
    for s in summaries:
        if s.error:
            console.print(f"[red]{s.source}[/red]: {escape(s.error)}", soft_wrap=True)

    engine = make_engine(database_url)
    try:
        report = seed_report(engine, seed_url)
        if report is None:
            console.print(f"[red]the seed story {seed_url} was not loaded[/red]")
            raise typer.Exit(1)
        console.print(
            Panel(
                Text(report.text),
                title=f"seed story, clean text: {escape(report.title or '')}",
                subtitle=f"{len(report.removed_lines)} boilerplate lines removed by cleaning",
            )
        )
        links = Table(title=f"related-article links of the seed story ({len(report.links)})")
        for column in ("to", "kind", "stored"):
            links.add_column(column)
        for to_url, kind, stored in report.links:
            links.add_row(Text(to_url), kind, "yes" if stored else "no")
        console.print(links)
        show_search(query, database_url)
    finally:
        engine.dispose()
    console.print(NEXT_STEPS)
    if report.leaked_boilerplate:
        console.print(f"[red]boilerplate leaked into the seed story: {report.leaked_boilerplate}[/red]")
        raise typer.Exit(1)
    if any(s.status != "success" for s in summaries):
        raise typer.Exit(1)


def show_search(query: str, database_url: str | None) -> None:
    """Print one full-text query and its top results, as a consumer would run it."""
    from pipeline.search import search

    hits = search(query, limit=5, database_url=database_url)
    table = Table(title=f'newsflow search "{query}"')
    for column in ("source", "title", "url"):
        table.add_column(column)
    for hit in hits:
        table.add_row(hit.source_key, Text(hit.title or "-"), Text(hit.url))
    console.print(table)
