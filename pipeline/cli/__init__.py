"""The ``newsflow`` command: thin shells over the stage functions in ``pipeline``.

Each sub-command module registers itself on :data:`app`; the modules import heavy
libraries inside the commands so that ``newsflow --help`` stays fast.
"""

from __future__ import annotations

import sys

# Importing a command module registers its commands (one line per module).
import pipeline.cli.airflow_cmd
import pipeline.cli.crawl_cmd
import pipeline.cli.db_cmd
import pipeline.cli.demo_cmd
import pipeline.cli.demo_site_cmd
import pipeline.cli.extract_cmd
import pipeline.cli.load_cmd
import pipeline.cli.purge_cmd
import pipeline.cli.run_cmd
import pipeline.cli.search_cmd
import pipeline.cli.sources_cmd
import pipeline.cli.status_cmd
from pipeline.cli.app import app, console_err
from pipeline.config import ConfigError
from pipeline.errors import NewsflowError

__all__ = ["app", "main", "pipeline"]


def main() -> None:
    """Entry point: run the Typer app, turning expected errors into one line + exit code."""
    try:
        app(standalone_mode=True)
    except ConfigError as exc:
        for issue in exc.issues:
            console_err.print(f"[red]error:[/red] {issue}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except NewsflowError as exc:
        console_err.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
