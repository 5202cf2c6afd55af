"""``newsflow purge``: take one story down (text, versions, WARC payloads), keep an audit row."""

from __future__ import annotations

import json

import typer

from pipeline.cli.app import app, console
from pipeline.jsonout import encode


@app.command("purge")
def purge_command(
    url: str | None = typer.Option(
        None, "--url", help="The story's URL (any URL it was fetched under).", show_default=False
    ),
    article: int | None = typer.Option(
        None, "--article", min=1, max=2**63 - 1, help="The story's article id.", show_default=False
    ),
    reason: str = typer.Option(..., "--reason", help="Why (kept in the audit row article_purges)."),
    database_url: str | None = typer.Option(
        None, "--database-url", help="SQLAlchemy URL; default NEWSFLOW_DATABASE_URL.", show_default=False
    ),
    as_json: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Purge a story for a takedown: its text, versions and raw captures; idempotent.

    The article row stays (title, URL, dates) marked removed with reason "purged: REASON";
    the URL is never fetched or stored again. A second purge of the same story changes
    nothing and says "already purged".
    """
    from pipeline.db import migrate
    from pipeline.stages.purge import purge

    migrate.upgrade(database_url)
    result = purge(url=url, article_id=article, reason=reason, database_url=database_url)
    if as_json:
        print(json.dumps(encode(result.as_dict()), ensure_ascii=False))
        return
    if result.already_purged:
        console.print(
            f"already purged: {result.url} on {result.purged_at} ({result.reason}); nothing to do",
            highlight=False,
        )
        return
    console.print(
        f"purged {result.url} (article {result.article_id if result.article_id is not None else '-'}): "
        f"{result.versions_deleted} versions deleted, {result.warc_records_purged} WARC records replaced by a "
        f"notice ({result.warc_records_zeroed} zeroed), {result.records_cleared} extraction records cleared",
        highlight=False,
    )
    for note in result.warc_notes:
        console.print(f"  note: {note}", highlight=False)
