"""``newsflow db …``: schema migrations of the news database."""

from __future__ import annotations

import typer

from pipeline.cli.app import app, console

db_app = typer.Typer(help="Manage the news database schema (Alembic migrations).", no_args_is_help=True)
app.add_typer(db_app, name="db")

DatabaseUrl = typer.Option(
    None, "--database-url", help="SQLAlchemy URL; default NEWSFLOW_DATABASE_URL.", show_default=False
)


@db_app.command("upgrade")
def upgrade(database_url: str | None = DatabaseUrl, revision: str = "head") -> None:
    """Apply migrations up to REVISION (default head); a no-op when already there."""
    from pipeline.db import migrate

    migrate.upgrade(database_url, revision)
    console.print(f"database at revision {migrate.current_revision(database_url)}")


@db_app.command("downgrade")
def downgrade(
    revision: str = typer.Argument(..., help="Target revision, e.g. base."),
    database_url: str | None = DatabaseUrl,
) -> None:
    """Revert migrations down to REVISION."""
    from pipeline.db import migrate

    migrate.downgrade(database_url, revision)
    console.print(f"database at revision {migrate.current_revision(database_url)}")


@db_app.command("check")
def check(database_url: str | None = DatabaseUrl) -> None:
    """Fail if the models and the migrations disagree (alembic check)."""
    from pipeline.db import migrate

    migrate.check(database_url)
    console.print("no drift between models and migrations")
