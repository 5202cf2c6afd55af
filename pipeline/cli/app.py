"""The Typer application object and shared console handles."""

from __future__ import annotations

import typer
from rich.console import Console

app = typer.Typer(
    name="newsflow",
    help="Scheduled news ingestion: crawl -> extract -> load -> check.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
console_err = Console(stderr=True)
