"""``newsflow airflow``: a local Airflow with the newsflow DAGs, and a REST client for scripts.

``newsflow airflow`` (also ``make airflow``) starts api-server, scheduler, dag-processor and
triggerer against the embedded defaults (SQLite metadata DB in ``data/airflow``, the news
database from ``NEWSFLOW_DATABASE_URL``) for ops to click through; ``newsflow airflow
trigger`` starts a DAG run through the public REST API and optionally waits for it.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import typer

from pipeline.cli.app import app, console, console_err

airflow_app = typer.Typer(
    help="Run a local Airflow with the newsflow DAGs; trigger DAG runs through its REST API.",
    invoke_without_command=True,
)
app.add_typer(airflow_app, name="airflow")


@airflow_app.callback()
def standalone(
    ctx: typer.Context,
    home: Path = typer.Option(Path("data/airflow"), "--home", help="AIRFLOW_HOME (created if missing)."),
    port: int = typer.Option(8080, "--port", min=1, max=65535, help="Port of the API server / UI."),
    metadata_url: str | None = typer.Option(
        None, "--metadata-url", help="Airflow's own metadata DB; default SQLite in --home."
    ),
    password: str | None = typer.Option(
        None,
        "--password",
        envvar="NEWSFLOW_AIRFLOW_PASSWORD",
        help="Admin password (default: generated, kept).",
    ),
    crawl_slots: int = typer.Option(
        2, "--crawl-slots", min=1, max=64, help="Slots of crawl_pool (concurrent crawls)."
    ),
) -> None:
    """Start a local Airflow (api-server, scheduler, dag-processor, triggerer); Ctrl-C stops it."""
    if ctx.invoked_subcommand is not None:
        return
    from pipeline.airflow_local import AirflowHome, news_environment, serve
    from pipeline.dagkit import project_path
    from pipeline.db import migrate
    from pipeline.redact import redact

    news_env = news_environment()
    migrate.upgrade(news_env["NEWSFLOW_DATABASE_URL"])
    airflow_home = AirflowHome(
        project_path(home) if not home.is_absolute() else home,
        metadata_url=metadata_url,
        port=port,
        password=password,
        crawl_pool_slots=crawl_slots,
        news_env=news_env,
    )

    def ready(h: AirflowHome) -> None:
        console.print(
            f"[green]Airflow is up:[/green] {h.base_url}  user [bold]{h.username}[/bold]  password [bold]{h.password}[/bold]"
        )
        console.print(
            f"news database: {redact(news_env['NEWSFLOW_DATABASE_URL'])}; logs: {h.home / 'logs'}; Ctrl-C stops."
        )

    console.print(f"starting Airflow in {airflow_home.home} (first start migrates its database, ~1 min)")
    console.print(
        f"for the airflow CLI in another shell: [bold]{airflow_home.export_line}[/bold]", soft_wrap=True
    )
    serve(airflow_home, on_ready=ready)


@airflow_app.command("trigger")
def trigger(
    dag_id: str = typer.Argument(..., help="e.g. news_ingest__capital-examiner"),
    conf: str = typer.Option("{}", "--conf", help="Run params as JSON, e.g. '{\"max_pages\": 20}'."),
    url: str = typer.Option("http://127.0.0.1:8080", "--url", envvar="NEWSFLOW_AIRFLOW_URL"),
    user: str = typer.Option("admin", "--user", envvar="NEWSFLOW_AIRFLOW_USER"),
    password: str | None = typer.Option(None, "--password", envvar="NEWSFLOW_AIRFLOW_PASSWORD"),
    wait: bool = typer.Option(False, "--wait", help="Wait for the run to finish; exit 1 if it failed."),
    unpause: bool = typer.Option(
        False, "--unpause", help="Unpause the DAG first (a paused DAG's run waits until it is unpaused)."
    ),
    timeout: float = typer.Option(
        3600, "--timeout", min=0, max=7 * 86400, help="Seconds to wait with --wait."
    ),
) -> None:
    """Trigger a DAG run through the Airflow REST API and print its run id.

    ``--conf`` keys must be Params the DAG declares (a typo is an error, not a silently ignored
    key); the DAG is unpaused only with ``--unpause``.
    """
    from pipeline.airflow_local import AirflowClient, AirflowHome
    from pipeline.errors import UsageError

    try:
        params: dict[str, Any] = json.loads(conf)
    except ValueError as exc:
        raise UsageError(f"--conf is not JSON: {exc}") from exc
    if not isinstance(params, dict):
        raise UsageError("--conf must be a JSON object of Params, e.g. '{\"max_pages\": 20}'")
    if password is None:
        from pipeline.dagkit import project_path

        home = AirflowHome(project_path(os.environ.get("AIRFLOW_HOME", "data/airflow")))
        if not home.passwords_file.exists():
            raise UsageError("no --password given and no local password file found")
        password = home.stored_passwords().get(user)
        if not password:
            raise UsageError(f"no password for {user!r} in {home.passwords_file}")
    with AirflowClient(url, user, password) as client:
        run_id, paused = client.trigger_checked(dag_id, params, unpause=unpause)
        if paused:
            console_err.print(
                f"note: {dag_id} is paused; the run waits until it is unpaused (--unpause does it)",
                highlight=False,
            )
        console.print(f"triggered {dag_id} run {run_id}")
        if wait:
            state = client.wait_for_run(dag_id, run_id, timeout=timeout)
            console.print(f"{dag_id} run {run_id}: {state} {client.task_states(dag_id, run_id)}")
            if state != "success":
                raise typer.Exit(1)
