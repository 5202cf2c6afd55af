"""Run Airflow 3 natively for newsflow: an AIRFLOW_HOME with its ``airflow.cfg``, and its components.

Used by ``newsflow airflow`` (``make airflow``: ops click through a local Airflow), by the
real-scheduler tests (PostgreSQL metadata DB, LocalExecutor) and by the compose test. The
news database stays separate from Airflow's metadata database: tasks get
``NEWSFLOW_DATABASE_URL``, Airflow its ``[database] sql_alchemy_conn``.

Like ``airflow standalone``, the installation is a folder: :meth:`AirflowHome.prepare` writes
``<home>/airflow.cfg`` (executor, DAG folder, metadata DB, API address, auth manager, a JWT
secret generated once and kept there), so the plain ``airflow`` CLI works on the same
instance after ``export AIRFLOW_HOME=<home>``; the REST client lives in
:mod:`pipeline.airflow_client`.
"""

from __future__ import annotations

import configparser
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from pipeline.airflow_client import TERMINAL_STATES, AirflowClient, AirflowError

__all__ = [
    "COMPONENTS",
    "DAGS_FOLDER",
    "PROJECT_ROOT",
    "TERMINAL_STATES",
    "AirflowClient",
    "AirflowComponents",
    "AirflowError",
    "AirflowHome",
    "ComponentSpec",
    "free_port",
    "news_environment",
    "serve",
]

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DAGS_FOLDER = PROJECT_ROOT / "dags"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
#: Bytes of the generated JWT signing secret (Airflow warns below 64 on every request).
JWT_SECRET_BYTES = 64


def free_port(host: str = "127.0.0.1") -> int:
    """A port nothing listens on right now (for the API server in tests)."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass
class AirflowHome:
    """Everything that defines one local Airflow installation.

    ``metadata_url`` is Airflow's own database (SQLite file for standalone use,
    PostgreSQL for tests and production); ``news_env`` carries the ``NEWSFLOW_*``
    variables the tasks need (news database URL, raw store, sources file, …).
    """

    home: Path
    metadata_url: str | None = None
    port: int = 8080
    host: str = "127.0.0.1"
    dags_folder: Path = DAGS_FOLDER
    username: str = "admin"
    password: str | None = None
    crawl_pool_slots: int = 2
    parallelism: int = 8
    dags_paused_at_creation: bool = True
    news_env: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.home = self.home.resolve()
        if self.metadata_url is None:
            self.metadata_url = f"sqlite:///{self.home / 'airflow.db'}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def passwords_file(self) -> Path:
        return self.home / "simple_auth_manager_passwords.json"

    @property
    def config_file(self) -> Path:
        return self.home / "airflow.cfg"

    @property
    def export_line(self) -> str:
        """The one line that points the plain ``airflow`` CLI at this installation."""
        return f"export AIRFLOW_HOME={self.home}"

    def prepare(self) -> None:
        """Create the folder, the admin password (kept across restarts) and ``airflow.cfg``."""
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "logs").mkdir(exist_ok=True)
        stored = self.stored_passwords()
        if self.password is None:
            self.password = stored.get(self.username) or secrets.token_urlsafe(12)
        stored[self.username] = self.password
        self.passwords_file.write_text(json.dumps(stored) + "\n")
        self.passwords_file.chmod(0o600)
        self.write_config()

    def stored_passwords(self) -> dict[str, str]:
        """User -> password of the simple auth manager's file (empty before the first start)."""
        if not self.passwords_file.exists():
            return {}
        stored: dict[str, str] = json.loads(self.passwords_file.read_text() or "{}")
        return stored

    def config(self) -> dict[str, dict[str, str]]:
        """The sections of ``airflow.cfg`` newsflow sets (Airflow's defaults for the rest)."""
        return {
            "core": {
                "dags_folder": str(self.dags_folder),
                "executor": "LocalExecutor",
                "load_examples": "False",
                "parallelism": str(self.parallelism),
                "dags_are_paused_at_creation": str(self.dags_paused_at_creation),
                "auth_manager": SIMPLE_AUTH_MANAGER,
                "simple_auth_manager_users": f"{self.username}:admin",
                "simple_auth_manager_passwords_file": str(self.passwords_file),
                "execution_api_server_url": f"{self.base_url}/execution/",
            },
            "database": {"sql_alchemy_conn": str(self.metadata_url)},
            "api": {"host": self.host, "port": str(self.port), "base_url": self.base_url},
            "logging": {"base_log_folder": str(self.home / "logs")},
            # Pick up new and changed DAG files quickly (ops edit sources.yaml and wait).
            "dag_processor": {"refresh_interval": "30", "min_file_process_interval": "30"},
            "scheduler": {"enable_health_check": "False"},
        }

    def write_config(self) -> None:
        """(Re)write ``airflow.cfg``, keeping its JWT secret; readable by the owner only.

        The secret is generated once (``JWT_SECRET_BYTES`` random bytes) and never printed;
        tokens issued before a restart stay valid because it is kept.
        """
        parser = configparser.ConfigParser(interpolation=None)
        if self.config_file.exists():
            parser.read(self.config_file)
        secret = parser.get("api_auth", "jwt_secret", fallback="")
        if len(secret) < JWT_SECRET_BYTES:
            secret = secrets.token_urlsafe(JWT_SECRET_BYTES)
        for section, values in {**self.config(), "api_auth": {"jwt_secret": secret}}.items():
            if not parser.has_section(section):
                parser.add_section(section)
            for key, value in values.items():
                parser.set(section, key, value)
        self.config_file.touch(mode=0o600)
        with self.config_file.open("w") as handle:
            handle.write("# Written by newsflow (pipeline/airflow_local.py); edits to other keys are kept.\n")
            parser.write(handle)
        self.config_file.chmod(0o600)

    def env(self) -> dict[str, str]:
        """The environment of every Airflow process of this installation.

        Configuration is in ``airflow.cfg``; inherited ``AIRFLOW__*`` overrides are dropped so
        that the file is what runs (tests pass theirs in ``extra_env``).
        """
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "PYTHONPATH": os.pathsep.join(
                    p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH", "")) if p
                ),
                "NO_PROXY": "127.0.0.1,localhost",
                "no_proxy": "127.0.0.1,localhost",
            }
        )
        env.update(self.news_env)
        env.update(self.extra_env)
        return env

    def airflow(
        self, *args: str, timeout: float = 600, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run one ``airflow`` CLI command of this installation and return its output."""
        command = [airflow_executable(), *args]
        result = subprocess.run(
            command,
            env=self.env(),
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
            raise AirflowError(f"`airflow {' '.join(args)}` exited {result.returncode}:\n{tail}")
        return result

    def migrate(self) -> None:
        """Create or upgrade Airflow's metadata database and the ``crawl_pool`` pool."""
        self.prepare()
        self.airflow("db", "migrate")
        self.airflow(
            "pools",
            "set",
            "crawl_pool",
            str(self.crawl_pool_slots),
            "Concurrent crawls (Scrapy subprocesses) across all sources",
        )


def airflow_executable() -> str:
    """The ``airflow`` script next to this interpreter (the project's virtualenv)."""
    candidate = Path(sys.executable).with_name("airflow")
    return str(candidate) if candidate.exists() else "airflow"


@dataclass(frozen=True)
class ComponentSpec:
    """A long-running ``airflow …`` process that is more than ``airflow <name>``.

    For example a Celery worker: ``ComponentSpec("worker-1", ("celery", "worker",
    "--celery-hostname", "worker-1"), env={...})``. ``env`` replaces the home's environment
    for this process only (``None``: the home's).
    """

    name: str
    args: tuple[str, ...]
    env: Mapping[str, str] | None = None


@dataclass
class Component:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log_file: IO[bytes]


class AirflowComponents:
    """The long-running Airflow processes of one home, each in its own process group.

    Used as a context manager: components are started on enter and stopped (SIGTERM, then
    SIGKILL after a grace period) on exit, whatever happened in between.
    """

    def __init__(self, home: AirflowHome, components: Iterable[str | ComponentSpec] = COMPONENTS) -> None:
        self.home = home
        self.specs = [c if isinstance(c, ComponentSpec) else ComponentSpec(c, (c,)) for c in components]
        self.names = [spec.name for spec in self.specs]
        self.components: list[Component] = []

    def start(self) -> None:
        home_env = self.home.env()
        for spec in self.specs:
            self.start_one(spec, home_env)

    def start_one(self, spec: ComponentSpec, home_env: Mapping[str, str] | None = None) -> None:
        """Start one more process (also after the others: e.g. workers once the API is up)."""
        env = dict(spec.env) if spec.env is not None else dict(home_env or self.home.env())
        name = spec.name
        if spec not in self.specs:
            self.specs.append(spec)
            self.names.append(name)
        log_path = self.home.home / "logs" / f"{name}.log"
        log_file = log_path.open("ab")
        process = subprocess.Popen(
            [airflow_executable(), *spec.args],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.components.append(Component(name, process, log_path, log_file))

    def check_alive(self) -> None:
        for component in self.components:
            code = component.process.poll()
            if code is not None:
                raise AirflowError(
                    f"airflow {component.name} exited with {code}:\n{self.log_tail(component.name)}"
                )

    def log_tail(self, name: str, lines: int = 40) -> str:
        for component in self.components:
            if component.name == name and component.log_path.exists():
                text = component.log_path.read_text(errors="replace")
                return "\n".join(text.splitlines()[-lines:])
        return ""

    def stop(self, grace_seconds: float = 20.0) -> None:
        for component in self.components:
            if component.process.poll() is None:
                os.killpg(component.process.pid, signal.SIGTERM)
        deadline = time.monotonic() + grace_seconds
        for component in self.components:
            try:
                component.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(component.process.pid, signal.SIGKILL)
                component.process.wait(timeout=10)
            component.log_file.close()
        self.components.clear()

    def __enter__(self) -> AirflowComponents:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def news_environment() -> dict[str, str]:
    """The ``NEWSFLOW_*`` variables for Airflow tasks, with every path made absolute.

    Airflow runs tasks from its own working directories; relative defaults such as
    ``sqlite:///data/newsflow.db`` would otherwise land in a different folder per process.
    """
    from pipeline.dagkit import project_path
    from pipeline.settings import get_settings

    settings = get_settings()
    env = {k: v for k, v in os.environ.items() if k.startswith("NEWSFLOW_")}
    url = settings.database_url
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = f"sqlite:///{project_path(url.removeprefix('sqlite:///'))}"
    env["NEWSFLOW_DATABASE_URL"] = url
    store = settings.raw_store
    env["NEWSFLOW_RAW_STORE"] = store if "://" in store else str(project_path(store))
    env["NEWSFLOW_SOURCES"] = str(project_path(settings.sources))
    return env


def serve(home: AirflowHome, components: Iterable[str] = COMPONENTS, on_ready: Any = None) -> None:
    """Migrate, start the components, wait until healthy, then block until interrupted.

    SIGTERM is turned into a normal exit so the components (in their own process
    groups) are stopped with their parent instead of being orphaned.
    """

    def terminate(signum: int, _frame: Any) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, terminate)
    try:
        _serve(home, components, on_ready)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)


def _serve(home: AirflowHome, components: Iterable[str], on_ready: Any) -> None:
    home.migrate()
    with AirflowComponents(home, components) as running:
        assert home.password is not None
        with AirflowClient(home.base_url, home.username, home.password) as client:
            client.wait_until_healthy(components=running)
        if on_ready is not None:
            on_ready(home)
        while True:
            running.check_alive()
            time.sleep(2.0)
