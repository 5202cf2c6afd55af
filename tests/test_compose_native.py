"""The compose wiring, run for real without Docker: proof that ``docker-compose.yml`` is not fiction.

The test reads ``docker-compose.yml``, fills it from a throwaway ``.env`` (fresh secrets,
per-test database and role names), maps container hostnames, ports and paths to this machine
(``postgres:5432`` -> the local PostgreSQL, ``airflow-apiserver:8080`` -> a free loopback
port, named volumes -> temporary folders, ``/opt/newsflow`` -> the checkout) and then runs
what the services run, in compose order:

1. the ``postgres`` service's init scripts (``/docker-entrypoint-initdb.d``) with its environment;
2. ``airflow-init``'s command (migrations of both databases, admin login, ``crawl_pool``);
3. ``airflow-apiserver``, ``airflow-scheduler``, ``airflow-dag-processor``, ``airflow-triggerer``
   with their commands, and each one's healthcheck command until it passes;
4. a trigger of the demo source's ingest DAG through the REST API with the admin login from
   ``.env``, which must end in ``success`` with articles readable by the consumer login.

Parametrised by executor. ``CeleryExecutor`` is the scale-out setup of the compose file
(``COMPOSE_PROFILES=celery`` + ``AIRFLOW_EXECUTOR=CeleryExecutor`` in ``.env``): the
profile's ``redis`` service runs as a ``redis-server`` on a free loopback port, and its
``airflow-worker`` service twice, as two emulated containers (own ``HOSTNAME``, own Celery
node name). Every demo outlet is ingested, split into several extract shards
(``NEWSFLOW_PAGES_PER_SHARD``); the test asserts that the shards ran on both workers, that
every task ran on a worker, and that the articles equal those of an in-process run of the
same stages (what LocalExecutor runs) against the same demo content. The native mapping and
the Celery services live in ``tests/compose_native.py``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.compose_native import (
    CELERY_WORKERS,
    NativeCompose,
    article_keys,
    redis_service,
    reference_articles,
    run_command,
    wait_worker_healthy,
    worker_specs,
)
from tests.compose_support import (
    ROOT,
    env_example_with_secrets,
    interpolate,
    load_compose,
)

pytestmark = [pytest.mark.postgres, pytest.mark.airflow, pytest.mark.slow]

LONG_RUNNING = ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"]
DEMO_SOURCE = "capital-examiner"
#: What ``.env`` says for each executor (the compose file's own switch: executor + profile).
#: The Celery run splits each demo outlet's 15-22 pages into 2 extract shards.
EXECUTOR_ENV = {
    "LocalExecutor": {},
    "CeleryExecutor": {
        "AIRFLOW_EXECUTOR": "CeleryExecutor",
        "COMPOSE_PROFILES": "celery",
        "NEWSFLOW_PAGES_PER_SHARD": "11",
        "AIRFLOW_WORKER_CONCURRENCY": "1",
    },
}


def _pg_admin_url() -> str:
    from tests.conftest import pg_admin_url

    return pg_admin_url()


def _require_postgres() -> None:
    from tests.conftest import require_postgres

    require_postgres()


def _free_port() -> int:
    from pipeline.airflow_local import free_port

    return free_port()


def _admin_engine(database: str | None = None) -> Any:
    url = make_url(_pg_admin_url())
    if database:
        url = url.set(database=database)
    return create_engine(url, isolation_level="AUTOCOMMIT")


def _drop_everything(names: dict[str, str]) -> None:
    from pipeline.db.engine import dispose_engines

    dispose_engines()
    engine = _admin_engine()
    with engine.connect() as conn:
        for key in ("AIRFLOW_DB_NAME", "NEWSFLOW_DB_NAME"):
            conn.execute(text(f'DROP DATABASE IF EXISTS "{names[key]}" WITH (FORCE)'))
        for key in ("NEWSFLOW_READER_USER", "NEWSFLOW_DB_USER", "AIRFLOW_DB_USER"):
            conn.execute(text(f'DROP ROLE IF EXISTS "{names[key]}"'))
    engine.dispose()


@pytest.fixture(params=list(EXECUTOR_ENV))
def native(request: pytest.FixtureRequest, tmp_path: Path, demo_network: Any) -> Iterator[NativeCompose]:
    executor = str(request.param)
    _require_postgres()
    admin = make_url(_pg_admin_url())
    suffix = uuid.uuid4().hex[:8]
    names = {
        "AIRFLOW_DB_NAME": f"nf_compose_af_{suffix}",
        "AIRFLOW_DB_USER": f"nf_compose_af_{suffix}",
        "NEWSFLOW_DB_NAME": f"nf_compose_news_{suffix}",
        "NEWSFLOW_DB_USER": f"nf_compose_news_{suffix}",
        "NEWSFLOW_READER_USER": f"nf_compose_reader_{suffix}",
    }
    # The demo source (Celery: every demo outlet), paused at creation (sources.yaml decides,
    # see the compose file), on a leap-day schedule whose first interval after the DAG's
    # start date ends years from now: unpausing then creates no scheduled run, so the
    # triggered run is the only one.
    sources = [
        {**s, "schedule": {**s.get("schedule", {}), "cron": "0 0 29 2 *", "paused": True}}
        for s in demo_network.sources()
        if executor == "CeleryExecutor" or s["key"] == DEMO_SOURCE
    ]
    sources_file = tmp_path / "sources.yaml"
    sources_file.write_text(yaml.safe_dump({"version": 1, "sources": sources}, sort_keys=False))
    dotenv = env_example_with_secrets(
        {**names, **EXECUTOR_ENV[executor], "NEWSFLOW_SOURCES_FILE": str(sources_file)}
    )
    resolved = interpolate(load_compose(), dotenv)
    api_port, health_port, redis_port = _free_port(), _free_port(), _free_port()
    pg_port = int(admin.port or 5432)
    native = NativeCompose(
        services=resolved["services"],
        dotenv=dotenv,
        volumes_root=tmp_path / "volumes",
        airflow_home=tmp_path / "airflow-home",
        endpoints={
            "postgres:5432": f"127.0.0.1:{pg_port}",
            "airflow-apiserver:8080": f"127.0.0.1:{api_port}",
            "redis:6379": f"127.0.0.1:{redis_port}",
        },
        ports={"8080": str(api_port), "8974": str(health_port), "6379": str(redis_port)},
        pg_host=str(admin.host or "127.0.0.1"),
        pg_port=pg_port,
        executor=executor,
        sources=tuple(s["key"] for s in sources),
    )
    (native.airflow_home / "logs").mkdir(parents=True)
    try:
        yield native
    finally:
        _drop_everything(names)


def _run_postgres_init(native: NativeCompose) -> None:
    if shutil.which("psql") is None:
        # The postgres image runs its init scripts with psql; here the server's client must exist.
        if os.environ.get("CI") == "true":
            pytest.fail("psql (PostgreSQL client) is not installed")
        pytest.skip("psql (PostgreSQL client) is not installed")
    env = native.environment("postgres")
    env["POSTGRES_USER"] = make_url(_pg_admin_url()).username or "postgres"
    init_dir = native.mounts("postgres")["/docker-entrypoint-initdb.d"]
    scripts = sorted(init_dir.glob("*.sh"))
    assert scripts, "no init script mounted into the postgres service"
    for script in scripts:
        result = run_command([str(script)], env, ROOT, timeout=120)
        assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"


def _wait_healthy(native: NativeCompose, service: str, deadline: float) -> None:
    argv = native.healthcheck(service)
    env = native.environment(service)
    last = ""
    while time.monotonic() < deadline:
        result = run_command(argv, env, ROOT, timeout=120)
        if result.returncode == 0:
            return
        last = (result.stdout + result.stderr)[-800:]
        time.sleep(3)
    raise AssertionError(f"{service} healthcheck {shlex.join(argv)} never passed:\n{last}")


def _task_log_tails(native: NativeCompose, dag_id: str, run_id: str, lines: int = 40) -> str:
    """The last lines of the run's task logs, from the logs volume (for failure messages)."""
    logs = native.mounts("airflow-scheduler")["/opt/airflow/logs"]
    tails = []
    for path in sorted(logs.glob(f"dag_id={dag_id}/run_id={run_id}/**/*.log")):
        text = path.read_text(errors="replace").splitlines()
        tails.append(f"--- {path.relative_to(logs)}\n" + "\n".join(text[-lines:]))
    return "\n".join(tails) or "(no task logs)"


def _wait_for_runs(
    native: NativeCompose, client: Any, components: Any, runs: dict[str, str], timeout: float
) -> dict[str, tuple[str, dict[str, str]]]:
    """Poll the runs (dag id -> run id) to their end; stop at the first failed or retried task.

    The demo needs no retry, so a retry is reported at once instead of waiting minutes for it.
    """
    deadline = time.monotonic() + timeout
    outcome: dict[str, tuple[str, dict[str, str]]] = {}
    while time.monotonic() < deadline:
        components.check_alive()
        for dag_id, run_id in runs.items():
            state = client.run_state(dag_id, run_id)
            tasks = client.task_states(dag_id, run_id)
            outcome[dag_id] = (state, tasks)
            bad = {k: v for k, v in tasks.items() if v in {"failed", "up_for_retry", "upstream_failed"}}
            if bad or state == "failed":
                print(_task_log_tails(native, dag_id, run_id))
                print(components.log_tail("scheduler"))
                return outcome
        if all(state == "success" for state, _ in outcome.values()) and len(outcome) == len(runs):
            return outcome
        time.sleep(2.0)
    for dag_id, run_id in runs.items():
        print(_task_log_tails(native, dag_id, run_id))
    return outcome


def test_compose_services_run_natively_and_a_demo_run_succeeds(native: NativeCompose, tmp_path: Path) -> None:
    from pipeline.airflow_local import AirflowClient, AirflowComponents, AirflowHome

    started = time.monotonic()

    def phase(name: str) -> None:
        print(f"[{native.executor}] {name}: {time.monotonic() - started:.0f} s")

    # Celery: the reference articles (same stages, no Airflow), fetched while Airflow works.
    pool = ThreadPoolExecutor(1)
    reference = pool.submit(reference_articles, native, tmp_path) if native.celery else None

    services = native.active()
    assert ("airflow-worker" in services) == native.celery and ("redis" in services) == native.celery

    # 1. postgres: the init scripts create both databases, their owners and the reader login.
    _run_postgres_init(native)

    # 2. airflow-init: the service's own command with its own environment.
    init = run_command(native.argv("airflow-init"), native.environment("airflow-init"), ROOT, timeout=600)
    assert init.returncode == 0, f"airflow-init failed:\n{init.stdout[-3000:]}\n{init.stderr[-3000:]}"
    assert "airflow-init: done" in init.stdout
    phase("airflow-init")
    assert f"with {native.executor}" in init.stdout
    names = native.dotenv
    with _admin_engine(names["AIRFLOW_DB_NAME"]).connect() as conn:
        slots = conn.execute(text("SELECT slots FROM slot_pool WHERE pool = 'crawl_pool'")).scalar_one()
    assert slots == int(names["NEWSFLOW_CRAWL_POOL_SLOTS"])
    with _admin_engine(names["NEWSFLOW_DB_NAME"]).connect() as conn:
        revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        owner = conn.execute(
            text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")
        ).scalar_one()
    assert revision and owner == names["NEWSFLOW_DB_USER"]

    # 3. The long-running services: one environment (compose gives them the same), their commands.
    envs = {service: native.environment(service) for service in LONG_RUNNING}
    assert all(env == envs[LONG_RUNNING[0]] for env in envs.values())
    assert envs[LONG_RUNNING[0]]["AIRFLOW__CORE__EXECUTOR"] == native.executor
    commands = [native.argv(service) for service in LONG_RUNNING]
    assert all(len(argv) == 2 and argv[0] == "airflow" for argv in commands), commands

    class ComposeHome(AirflowHome):
        """An Airflow home whose processes get exactly the compose environment."""

        def env(self) -> dict[str, str]:
            return dict(envs[LONG_RUNNING[0]])

    home = ComposeHome(home=native.airflow_home)
    api_url = f"http://127.0.0.1:{native.ports['8080']}"
    user, password = names["AIRFLOW_ADMIN_USERNAME"], names["AIRFLOW_ADMIN_PASSWORD"]
    with (
        pool,
        redis_service(native) if native.celery else nullcontext(),
        AirflowComponents(home, [argv[1] for argv in commands]) as components,
        AirflowClient(api_url, user, password) as client,
    ):
        client.wait_until_healthy(timeout=240, components=components)
        # The workers depend on the api-server being healthy (compose's depends_on).
        workers = worker_specs(native) if native.celery else []
        for spec in workers:
            components.start_one(spec)
        # Every service's healthcheck at once (compose runs them independently too).
        deadline = time.monotonic() + 240
        checks = [partial(_wait_healthy, native, service, deadline) for service in LONG_RUNNING]
        checks += [partial(wait_worker_healthy, native, spec, deadline) for spec in workers]
        with ThreadPoolExecutor(len(checks)) as checking:
            for done in [checking.submit(check) for check in checks]:
                done.result()
        components.check_alive()
        phase("services healthy")

        # 4. The demo runs, triggered with the admin login from .env.
        runs = {}
        for key in native.sources:
            dag_id = f"news_ingest__{key}"
            dag = client.wait_for_dag(dag_id, timeout=240, components=components)
            assert dag["is_paused"] is True, "sources.yaml's schedule.paused decides at creation"
            runs[dag_id] = client.trigger(dag_id)
            client.set_paused(dag_id, False)
        outcome = _wait_for_runs(native, client, components, runs, timeout=600)
        phase("runs ended")
        instances: list[dict[str, Any]] = []
        for dag_id, run_id in runs.items():
            listed = client.request("GET", f"/dags/{dag_id}/dagRuns")["dag_runs"]
            assert [r["dag_run_id"] for r in listed] == [run_id], "the triggered run must be the only one"
            state, tasks = outcome.get(dag_id, ("unknown", {}))
            assert state == "success", f"{dag_id} run {run_id} ended {state}: {tasks}"
            assert tasks and set(tasks.values()) == {"success"}, tasks
            instances += client.task_instances(dag_id, run_id)

    if native.celery:
        # Every task ran on a Celery worker, and the extract shards on both of them.
        assert {ti["hostname"] for ti in instances} <= set(CELERY_WORKERS), instances
        shards = [ti for ti in instances if ti["task_id"] == "extract"]
        assert len(shards) > len(native.sources), "several shards per run (NEWSFLOW_PAGES_PER_SHARD)"
        assert {ti["hostname"] for ti in shards} == set(CELERY_WORKERS), [
            (ti["dag_id"], ti["map_index"], ti["hostname"]) for ti in shards
        ]
        # The articles are those the same stages store without Airflow.
        news = _admin_engine(names["NEWSFLOW_DB_NAME"])
        try:
            stored = article_keys(news)
        finally:
            news.dispose()
        assert reference is not None
        expected = reference.result()
        phase("reference run")
        assert stored and stored == expected

    # The articles are in the news database, readable through the consumer login only.
    reader_url = make_url(_pg_admin_url()).set(
        username=names["NEWSFLOW_READER_USER"],
        password=names["NEWSFLOW_READER_PASSWORD"],
        database=names["NEWSFLOW_DB_NAME"],
    )
    reader = create_engine(reader_url)
    try:
        with reader.connect() as conn:
            for key in native.sources:
                articles = conn.execute(
                    text("SELECT count(*) FROM news_articles WHERE source_key = :k"), {"k": key}
                ).scalar_one()
                assert articles > 0, key
            with pytest.raises(Exception, match=re.compile("permission denied", re.I)):
                conn.execute(text("SELECT count(*) FROM articles"))
    finally:
        reader.dispose()
