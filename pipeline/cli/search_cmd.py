"""``newsflow search`` and ``newsflow articles``: the consumer interface from the shell.

Output conventions (every command): ``--json`` prints one JSON document, ``--jsonl`` one JSON
object per line for streams; field ``source_key``; timestamps ISO 8601 UTC with ``Z``. Both
commands only read: a missing database is an error (exit 3), never created.
"""

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
AsJson = typer.Option(False, "--json", help="One JSON document.")
AsJsonl = typer.Option(False, "--jsonl", help="One JSON object per line (JSON Lines).")


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
    as_json: bool = AsJson,
    as_jsonl: bool = AsJsonl,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Full-text search over stored articles (any language), best match first."""
    from rich.table import Table

    from pipeline.db.readonly import require_database, require_source
    from pipeline.errors import UsageError
    from pipeline.search import parse_since, search

    if as_json and as_jsonl:
        raise UsageError("--json and --jsonl are exclusive")
    url = require_database(database_url)
    require_source(source, url)
    hits = search(
        query,
        source=source,
        since=parse_since(since),
        limit=limit,
        all_copies=all_copies,
        include_removed=include_removed,
        database_url=url,
    )
    if as_json:
        document = {"query": query, "count": len(hits), "hits": [hit.as_dict() for hit in hits]}
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return
    if as_jsonl:
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
    fmt: str | None = typer.Option(
        None,
        "--format",
        help="Export every column of news_articles: jsonl, csv or parquet.",
        show_default=False,
    ),
    output: str | None = typer.Option(
        None, "--output", "-o", help="Write the export to this file (default: stdout).", show_default=False
    ),
    as_json: bool = AsJson,
    as_jsonl: bool = AsJsonl,
    database_url: str | None = DatabaseUrl,
) -> None:
    """List or export articles from the news_articles view (oldest first)."""
    from rich.table import Table

    from pipeline.db.readonly import require_database, require_source
    from pipeline.errors import UsageError
    from pipeline.export import FORMATS, export_articles, write_rows
    from pipeline.search import parse_since

    if sum([as_json, as_jsonl, fmt is not None]) > 1:
        raise UsageError("--json, --jsonl and --format are exclusive")
    if fmt is not None and fmt not in FORMATS:
        raise UsageError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    if output is not None and fmt is None:
        raise UsageError("--output needs --format jsonl|csv|parquet")
    url = require_database(database_url)
    require_source(source, url)
    rows = export_articles(
        since=parse_since(since),
        updated_since=parse_since(updated_since),
        source=source,
        limit=limit,
        database_url=url,
    )
    if as_json:
        articles = list(rows)
        print(json.dumps({"count": len(articles), "articles": articles}, ensure_ascii=False, indent=2))
        return
    if as_jsonl or fmt is not None:
        write_rows(rows, fmt or "jsonl", output)
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
