"""The ``newsflow`` command: thin shells over the stage functions in ``pipeline``.

Each sub-command module registers itself on :data:`app`; the modules import heavy
libraries inside the commands so that ``newsflow --help`` stays fast.
"""

from __future__ import annotations

import sys
import traceback

import typer
from rich.markup import escape

# Typer vendors Click (typer._click); its usage errors are that Click's, not the PyPI one's.
from typer._click.exceptions import UsageError as ClickUsageError

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
from pipeline.config_errors import ConfigError
from pipeline.errors import NewsflowError
from pipeline.redact import install_log_redaction, redact

__all__ = ["app", "main", "pipeline"]


def main() -> None:
    """Entry point: run the Typer app, turning expected errors into one line + exit code.

    An unexpected exception still shows its traceback (it is a bug to report), but redacted:
    driver and HTTP messages may carry URLs with credentials. A database that cannot be
    reached is no bug: one line, exit 3 (bad usage is 2, any other failure 1).
    """
    install_log_redaction()
    try:
        # Not standalone: Click's usage errors come back here, to be shown as one line
        # (Typer would draw a multi-line box); Exit comes back as its code.
        code = app(standalone_mode=False)
        sys.exit(code if isinstance(code, int) else 0)
    except ClickUsageError as exc:  # BadParameter, NoSuchOption, MissingParameter …
        command = exc.ctx.command_path if exc.ctx is not None else "newsflow"
        message = " ".join(exc.format_message().split())
        console_err.print(
            f"[red]error:[/red] {escape(redact(message))} (see {command} --help)",
            highlight=False,
            soft_wrap=True,
        )
        sys.exit(2)
    except typer.Abort:
        console_err.print("aborted", highlight=False)
        sys.exit(1)
    except ConfigError as exc:
        for issue in exc.issues:
            console_err.print(f"[red]error:[/red] {redact(issue)}", highlight=False, soft_wrap=True)
        sys.exit(2)
    except NewsflowError as exc:
        console_err.print(f"[red]error:[/red] {redact(exc)}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        from sqlalchemy.exc import InterfaceError, OperationalError

        from pipeline.db.readonly import DATABASE_UNAVAILABLE_EXIT

        if isinstance(exc, OperationalError | InterfaceError):
            text = str(exc.orig or exc).strip()
            first = text.splitlines()[0] if text else type(exc).__name__
            console_err.print(
                f"[red]error:[/red] database unavailable: {escape(redact(first))}",
                highlight=False,
                soft_wrap=True,
            )
            sys.exit(DATABASE_UNAVAILABLE_EXIT)
        sys.stderr.write(redact(traceback.format_exc()))
        sys.exit(1)
