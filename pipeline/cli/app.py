"""The Typer application object and shared console handles."""

from __future__ import annotations

import sys

import typer
from rich.console import Console

app = typer.Typer(
    name="newsflow",
    help="Scheduled news ingestion: crawl -> extract -> load -> check.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# Redirected output (logs, `make demo | tee`) gets wide tables instead of 80 squeezed columns.
_WIDTH = None if sys.stdout.isatty() else 160
console = Console(width=_WIDTH)
console_err = Console(stderr=True, width=_WIDTH)


@app.callback()
def _fresh_settings() -> None:
    """Each command reads the environment it runs in.

    Settings are cached per process; a command invoked in-process (tests, notebooks) after
    something else read them — a log record passing the redaction filter does — must not act
    on a database URL from before its environment was set.
    """
    from pipeline.settings import reset_settings_cache

    reset_settings_cache()
