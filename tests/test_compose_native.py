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
same stages against the same demo network (what LocalExecutor runs).
"""

from __future__ import annotations

import hashlib
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.compose_support import (
    ROOT,
    active_services,
    command_argv,
    env_example_with_secrets,
    interpolate,
    load_compose,
    service_environment,
)

pytestmark = [pytest.mark.postgres, pytest.mark.airflow, pytest.mark.slow]

LONG_RUNNING = ["airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"]
DEMO_SOURCE = "capital-examiner"
DAG_ID = f"news_ingest__{DEMO_SOURCE}"
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
#: Two emulated worker containers, by hostname; one task at a time each (``.env``'s
#: ``AIRFLOW_WORKER_CONCURRENCY=1``), so the extract shards queued together go to both.
CELERY_WORKERS = ("nf-worker-1", "nf-worker-2")
#: What the image adds to a container's environment besides compose's (see docker/Dockerfile).
IMAGE_AIRFLOW_HOME = "/opt/airflow"


def _pg_admin_url() -> str:
    from tests.conftest import pg_admin_url

    return pg_admin_url()


def _require_postgres() -> None:
    from tests.conftest import require_postgres

    require_postgres()


def _free_port() -> int:
    from pipeline.airflow_local import free_port

    return free_port()


@dataclass
class NativeCompose:
    """The compose project resolved for this machine."""

    services: dict[str, dict[str, Any]]
    dotenv: dict[str, str]
    volumes_root: Path
    airflow_home: Path
    endpoints: dict[str, str]  # "host:port" inside compose -> "127.0.0.1:port" here
    ports: dict[str, str]  # container port -> native port, for the published/listening ports
    pg_host: str
    pg_port: int
    executor: str = "LocalExecutor"
    sources: tuple[str, ...] = (DEMO_SOURCE,)

    @property
    def celery(self) -> bool:
        return self.executor == "CeleryExecutor"

    def active(self) -> list[str]:
        """The services ``docker compose up`` would start with this ``.env``."""
        return active_services({"services": self.services}, self.dotenv)

    def mounts(self, service: str) -> dict[str, Path]:
        """Container path -> host path of a service's volumes (named volumes -> temp folders)."""
        result: dict[str, Path] = {}
        for spec in self.services[service].get("volumes") or []:
            source, target = spec.split(":")[:2]
            if source.startswith((".", "/")):
                result[target] = (ROOT / source).resolve()
            else:
                folder = self.volumes_root / source
                folder.mkdir(parents=True, exist_ok=True)
                result[target] = folder
        return result

    def map_value(self, service: str, key: str, value: str) -> str:
        """One environment value as it must read on this machine."""
        for inside, outside in self.endpoints.items():
            value = value.replace(f"@{inside}/", f"@{outside}/").replace(f"//{inside}/", f"//{outside}/")
        if value == "0.0.0.0":
            value = "127.0.0.1"  # never listen beyond loopback in tests
        if key.endswith("_PORT") and value in self.ports:
            value = self.ports[value]
        prefixes = {**self.mounts(service), "/opt/newsflow": ROOT, IMAGE_AIRFLOW_HOME: self.airflow_home}
        for prefix in sorted(prefixes, key=len, reverse=True):
            if value == prefix or value.startswith(prefix + "/"):
                value = str(prefixes[prefix]) + value[len(prefix) :]
                break
        return value

    def environment(self, service: str) -> dict[str, str]:
        """The service's container environment, mapped, on top of what the image provides."""
        env = {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
            "HOME": os.environ.get("HOME", str(self.airflow_home)),
            "LANG": os.environ.get("LANG", "C.UTF-8"),
            "AIRFLOW_HOME": str(self.airflow_home),
            # The image installs the project at /opt/newsflow (editable): here, this checkout,
            # not whichever checkout the virtualenv was installed from (then what the test
            # process itself was given).
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p),
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
        if service == "postgres":
            env.update(PGHOST=self.pg_host, PGPORT=str(self.pg_port))
        for key, value in service_environment(self.services[service], self.dotenv).items():
            env[key] = self.map_value(service, key, value)
        return env

    def argv(self, service: str) -> list[str]:
        """The service's command as the image's entrypoint runs it (``bash …`` as is, else ``airflow …``)."""
        argv = command_argv(self.services[service]["command"])
        argv = [self.map_value(service, "", arg) for arg in argv]
        return argv if argv[0] in {"bash", "python"} else ["airflow", *argv]

    def healthcheck(self, service: str) -> list[str]:
        """The service's healthcheck test as argv, its ``localhost`` ports mapped."""
        test = list(self.services[service]["healthcheck"]["test"])
        kind, rest = test[0], test[1:]
        mapped = []
        for arg in rest:
            for inside, outside in self.ports.items():
                arg = arg.replace(f"localhost:{inside}", f"127.0.0.1:{outside}")
            mapped.append(arg)
        return ["sh", "-c", " ".join(mapped)] if kind == "CMD-SHELL" else mapped


def _run(argv: list[str], env: dict[str, str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


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
        result = _run([str(script)], env, ROOT, timeout=120)
        assert result.returncode == 0, f"{script.name} failed:\n{result.stdout}\n{result.stderr}"


def _wait_healthy(native: NativeCompose, service: str, deadline: float) -> None:
    argv = native.healthcheck(service)
    env = native.environment(service)
    last = ""
    while time.monotonic() < deadline:
        result = _run(argv, env, ROOT, timeout=120)
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


@contextmanager
def _redis(native: NativeCompose) -> Iterator[None]:
    """The ``redis`` service (image default command ``redis-server``) on its mapped loopback port.

    Nothing persisted (the volume's ``/data`` is a temp folder anyway): no RDB snapshots, no AOF.
    """
    if shutil.which("redis-server") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("redis-server is not installed (the celery profile's broker)")
        pytest.skip("redis-server is not installed")
    port = native.ports["6379"]
    data = native.mounts("redis")["/data"]
    argv = ["redis-server", "--bind", "127.0.0.1", "--port", port, "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(data), "--logfile", str(data / "redis.log")]
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        # The service's healthcheck (`redis-cli ping`), pointed at the mapped port.
        cli, *command = native.healthcheck("redis")
        check = [cli, "-h", "127.0.0.1", "-p", port, *command]
        deadline = time.monotonic() + 30
        while _run(check, native.environment("redis"), ROOT, timeout=10).stdout.strip() != "PONG":
            assert process.poll() is None, f"redis-server exited {process.returncode}"
            assert time.monotonic() < deadline, "redis-server never answered PING"
            time.sleep(0.2)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def _worker_specs(native: NativeCompose) -> list[Any]:
    """The ``airflow-worker`` service twice, as two containers would run it.

    Each gets its own ``HOSTNAME`` (Docker sets it to the container's hostname; here it also
    names the Celery node and, through ``hostname_callable``, the task instances' hostname)
    and one task at a time. ``--skip-serve-logs``: the log server listens on every interface
    and a fixed port; the workers share the logs volume with the api-server, which reads the
    task logs from it.
    """
    from pipeline.airflow_local import ComponentSpec

    argv = native.argv("airflow-worker")
    assert argv[:3] == ["airflow", "celery", "worker"], argv
    assert native.environment("airflow-worker")["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "1"
    specs = []
    for name in CELERY_WORKERS:
        env = native.environment("airflow-worker")
        env["HOSTNAME"] = name
        env["AIRFLOW__CORE__HOSTNAME_CALLABLE"] = "tests.compose_support.container_hostname"
        args = (*argv[1:], "--celery-hostname", name, "--skip-serve-logs")
        specs.append(ComponentSpec(name, args, env=env))
    return specs


def _wait_worker_healthy(native: NativeCompose, spec: Any, deadline: float) -> None:
    """The worker service's healthcheck (a Celery ping of ``celery@$HOSTNAME``), as that worker."""
    argv = native.healthcheck("airflow-worker")
    last = ""
    while time.monotonic() < deadline:
        result = _run(argv, dict(spec.env), ROOT, timeout=120)
        if result.returncode == 0:
            return
        last = (result.stdout + result.stderr)[-800:]
        time.sleep(3)
    raise AssertionError(f"{spec.name}: healthcheck {shlex.join(argv)} never passed:\n{last}")


def _article_keys(engine: Any) -> set[tuple[str, str, str]]:
    """(URL path, title, sha256 of the text) of every stored article (paths: the ports differ)."""
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT url, title, text FROM articles")).all()
    return {
        (
            urlsplit(url)._replace(scheme="", netloc="").geturl(),
            title or "",
            hashlib.sha256(body.encode()).hexdigest(),
        )
        for url, title, body in rows
    }


def _reference_articles(native: NativeCompose, tmp_path: Path) -> set[tuple[str, str, str]]:
    """The same outlets through the same stage functions in this process, into a fresh SQLite DB.

    Against a demo network of its own (same content, other ports): the demo's flaky page
    answers 500 to every odd request, so two crawlers sharing one server could interleave
    into one that never gets the page.
    """
    from pipeline.db import migrate
    from pipeline.demo_site import DemoNetwork
    from pipeline.stages.crawl import crawl
    from pipeline.stages.extract import extract
    from pipeline.stages.load import load

    url = f"sqlite:///{tmp_path / 'reference.db'}"
    migrate.upgrade(url)
    network = DemoNetwork(host="127.0.0.1", port=0)
    network.start()
    try:
        sources_file = tmp_path / "reference-sources.yaml"
        sources = [s for s in network.sources() if s["key"] in native.sources]
        sources_file.write_text(yaml.safe_dump({"version": 1, "sources": sources}, sort_keys=False))
        for key in native.sources:
            run_id = f"{key}__reference"
            crawled = crawl(key, run_id, sources_path=sources_file, database_url=url)
            assert crawled.status == "succeeded", crawled
            extract(run_id, workers=1, database_url=url, sources_path=sources_file)
            load(run_id, database_url=url)
    finally:
        network.stop()
    engine = create_engine(url)
    try:
        return _article_keys(engine)
    finally:
        engine.dispose()


def test_compose_services_run_natively_and_a_demo_run_succeeds(native: NativeCompose, tmp_path: Path) -> None:
    from pipeline.airflow_local import AirflowClient, AirflowComponents, AirflowHome

    started = time.monotonic()

    def phase(name: str) -> None:
        print(f"[{native.executor}] {name}: {time.monotonic() - started:.0f} s")

    # Celery: the reference articles (same stages, no Airflow), fetched while Airflow works.
    pool = ThreadPoolExecutor(1)
    reference = pool.submit(_reference_articles, native, tmp_path) if native.celery else None

    services = native.active()
    assert ("airflow-worker" in services) == native.celery and ("redis" in services) == native.celery

    # 1. postgres: the init scripts create both databases, their owners and the reader login.
    _run_postgres_init(native)

    # 2. airflow-init: the service's own command with its own environment.
    init = _run(native.argv("airflow-init"), native.environment("airflow-init"), ROOT, timeout=600)
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
        _redis(native) if native.celery else nullcontext(),
        AirflowComponents(home, [argv[1] for argv in commands]) as components,
        AirflowClient(api_url, user, password) as client,
    ):
        client.wait_until_healthy(timeout=240, components=components)
        # The workers depend on the api-server being healthy (compose's depends_on).
        workers = _worker_specs(native) if native.celery else []
        for spec in workers:
            components.start_one(spec)
        # Every service's healthcheck at once (compose runs them independently too).
        deadline = time.monotonic() + 240
        checks = [partial(_wait_healthy, native, service, deadline) for service in LONG_RUNNING]
        checks += [partial(_wait_worker_healthy, native, spec, deadline) for spec in workers]
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
            stored = _article_keys(news)
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
