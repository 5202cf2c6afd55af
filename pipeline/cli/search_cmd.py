"""``newsflow search`` and ``newsflow articles``: the consumer interface from the shell."""

from __future__ import annotations

import json

import typer

from pipeline.cli.app import app, console
from pipeline.limits import MAX_SEARCH_LIMIT

DatabaseUrl = typer.Option(
    None, "--database-url", help="SQLAlchemy URL; default NEWSFLOW_DATABASE_URL.", show_default=False
)
Since = typer.Option(
    None, "--since", help="Published at/after: 2026-05-01, an ISO time, or 24h / 7d / 2w.", show_default=False
)
Source = typer.Option(None, "--source", help="Only this source key.", show_default=False)


@app.command("search")
def search_command(
    query: str = typer.Argument(..., help='Words, "exact phrase", or, -excluded (web-search syntax).'),
    source: str | None = Source,
    since: str | None = Since,
    limit: int = typer.Option(20, "--limit", min=1, max=MAX_SEARCH_LIMIT, help="At most this many hits."),
    all_copies: bool = typer.Option(False, "--all-copies", help="Show every near-duplicate copy."),
    include_removed: bool = typer.Option(
        False, "--include-removed", help="Also stories gone from the web or purged (marked as removed)."
    ),
    as_json: bool = typer.Option(False, "--json", help="One JSON object per hit (JSON Lines)."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Full-text search over stored articles, best match first."""
    from rich.table import Table

    from pipeline.search import parse_since, search

    hits = search(
        query,
        source=source,
        since=parse_since(since),
        limit=limit,
        all_copies=all_copies,
        include_removed=include_removed,
        database_url=database_url,
    )
    if as_json:
        for hit in hits:
            print(json.dumps(hit.as_dict(), ensure_ascii=False))
        return
    if not hits:
        console.print("no matches")
        return
    table = Table("id", "source", "published", "title / snippet", show_lines=True)
    for hit in hits:
        published = hit.published_at.strftime("%Y-%m-%d %H:%M") if hit.published_at else "-"
        removed = (
            f"\n(removed {hit.removed_at:%Y-%m-%d %H:%M}: {hit.removal_reason or '?'})"
            if hit.removed_at
            else ""
        )
        table.add_row(
            str(hit.article_id), hit.source_key, published, f"{hit.title or ''}\n{hit.snippet}{removed}"
        )
    console.print(table)


@app.command("articles")
def articles_command(
    since: str | None = Since,
    updated_since: str | None = typer.Option(
        None, "--updated-since", help="Content changed at/after this time (incremental export)."
    ),
    source: str | None = Source,
    limit: int | None = typer.Option(None, "--limit", min=1, max=10**9, help="At most this many articles."),
    as_json: bool = typer.Option(False, "--json", help="Export JSON Lines: every column of news_articles."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """List or export articles from the news_articles view (oldest first)."""
    from rich.table import Table

    from pipeline.search import export_articles, parse_since

    rows = export_articles(
        since=parse_since(since),
        updated_since=parse_since(updated_since),
        source=source,
        limit=limit,
        database_url=database_url,
    )
    if as_json:
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
        return
    table = Table("id", "source", "published", "version", "cluster", "title")
    for row in rows:
        table.add_row(
            str(row["article_id"]),
            row["source_key"],
            (row["published_at"] or "-")[:16],
            str(row["version"]),
            str(row["cluster_id"]),
            row["title"] or "",
        )
    console.print(table)
