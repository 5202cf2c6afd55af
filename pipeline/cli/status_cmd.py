"""``newsflow status``: recent runs per source, pages not stored as articles, newest articles, DB size."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import typer
from rich.table import Table
from rich.text import Text

from pipeline.cli.app import app, console

if TYPE_CHECKING:
    from pipeline.status import StatusReport


def _when(value: object) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if hasattr(value, "strftime") else "-"


@app.command("status")
def status(
    runs: int = typer.Option(5, "--runs", min=1, max=1_000, help="Recent runs shown per source."),
    newest: int = typer.Option(10, "--newest", min=0, max=1_000, help="Newest articles shown."),
    rejected: int = typer.Option(
        10,
        "--rejected",
        min=0,
        max=10_000,
        help="Pages not stored as articles shown per run (reason, detection score; closest calls first).",
    ),
    database_url: str | None = typer.Option(None, "--database-url", help="Default NEWSFLOW_DATABASE_URL."),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output."),
) -> None:
    """Recent runs per source (state, counts, quality verdict, failures), rejected pages, newest articles, DB size.

    Reads only: a missing database is an error (exit 3), never created nor migrated here.
    """
    from pipeline.db.engine import make_engine
    from pipeline.db.readonly import require_database
    from pipeline.status import collect_status

    url = require_database(database_url)
    engine = make_engine(url)
    try:
        report = collect_status(engine, runs_per_source=runs, newest=newest, rejected_per_run=rejected)
    finally:
        engine.dispose()
    if as_json:
        typer.echo(json.dumps(report.as_dict(), indent=2, ensure_ascii=False))
        return
    table = Table(title="recent runs")
    for column in (
        "source",
        "run id",
        "started (UTC)",
        "state",
        "pages",
        "304",
        "new",
        "upd",
        "same",
        "dup",
        "rej",
        "gone",
        "quality",
        "failures",
    ):
        table.add_column(column)
    for r in report.runs:
        failures = ", ".join(f"{k} {v}" for k, v in sorted(r.failures_by_category.items())) or "-"
        table.add_row(
            r.source,
            r.run_id,
            _when(r.started_at),
            r.state,
            str(r.pages_fetched),
            str(r.pages_unchanged),
            str(r.articles_new),
            str(r.articles_updated),
            str(r.articles_unchanged),
            str(r.articles_duplicate),
            str(r.articles_rejected),
            str(r.articles_removed),
            Text(r.error if r.state == "failed (stale)" and r.error else r.quality),
            failures,
        )
    console.print(table)
    for key, pause in (report.paused_sources or {}).items():
        reason = f": {pause['reason']}" if pause.get("reason") else ""
        console.print(
            f"paused: {key} since {_when(pause['since'])}{reason} (newsflow sources resume {key})",
            highlight=False,
        )
    for run_id in report.expired_runs or []:
        console.print(f"marked failed (stale: its process died): {run_id}", highlight=False)
    _print_rejected(report)
    articles = Table(title=f"newest articles ({report.article_count} stored, {report.removed_count} removed)")
    for column in ("source", "published (UTC)", "v", "title"):
        articles.add_column(column)
    for a in report.newest_articles:
        title = (a.title or "-") + (f" (removed {_when(a.removed_at)})" if a.removed_at else "")
        articles.add_row(a.source, _when(a.published_at), str(a.version), Text(title))
    console.print(articles)
    size = f"{report.database_bytes / 1_048_576:.1f} MiB" if report.database_bytes is not None else "n/a"
    console.print(f"database size: {size}; articles per source: {report.articles_per_source}")


def _print_rejected(report: StatusReport) -> None:
    """Per run: how many pages were not stored as articles, and the closest calls."""
    counts = report.rejected_counts or {}
    if not counts:
        return
    table = Table(title="pages not stored as articles (closest calls first; re-extractable)")
    for column in ("run id", "status", "score", "url", "reason"):
        table.add_column(column)
    for page in report.rejected_pages or []:
        score = f"{page.score:+.2f}" if page.score is not None else "-"
        table.add_row(page.run_id, page.status, score, Text(page.url), Text((page.reason or "-")[:160]))
    console.print(table)
    for run_id, by_status in counts.items():
        shown = ", ".join(f"{status} {n}" for status, n in sorted(by_status.items()))
        console.print(f"{run_id}: not stored: {shown}", highlight=False)
