"""Run Airflow 3 natively for newsflow: an AIRFLOW_HOME, its components, and a REST client.

Used by ``newsflow airflow`` (ops click through a local standalone Airflow), by the
real-scheduler test (PostgreSQL metadata DB, LocalExecutor) and by the compose test. The
news database stays separate from Airflow's metadata database: components get both URLs,
``NEWSFLOW_DATABASE_URL`` for the tasks and ``AIRFLOW__DATABASE__SQL_ALCHEMY_CONN`` for Airflow.

Everything is configured through ``AIRFLOW__*`` environment variables (no airflow.cfg edits),
so the same :class:`AirflowHome` drives ``airflow db migrate``, ``airflow dags test`` and the
long-running components alike.
"""

from __future__ import annotations

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

import httpx

from pipeline.errors import NewsflowError

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DAGS_FOLDER = PROJECT_ROOT / "dags"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
SIMPLE_AUTH_MANAGER = "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
TERMINAL_STATES = {"success", "failed"}


class AirflowError(NewsflowError):
    """An Airflow command or API call failed; the message says which and why."""


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

    def prepare(self) -> None:
        """Create the folder, the admin password (kept across restarts) and the JWT secret."""
        self.home.mkdir(parents=True, exist_ok=True)
        (self.home / "logs").mkdir(exist_ok=True)
        stored = json.loads(self.passwords_file.read_text() or "{}") if self.passwords_file.exists() else {}
        if self.password is None:
            self.password = stored.get(self.username) or secrets.token_urlsafe(12)
        stored[self.username] = self.password
        self.passwords_file.write_text(json.dumps(stored) + "\n")
        self.passwords_file.chmod(0o600)
        secret_file = self.home / "jwt_secret"
        if not secret_file.exists():
            secret_file.write_text(secrets.token_urlsafe(32))
            secret_file.chmod(0o600)

    def env(self) -> dict[str, str]:
        """The environment of every Airflow process of this installation."""
        secret_file = self.home / "jwt_secret"
        jwt_secret = secret_file.read_text().strip() if secret_file.exists() else "unprepared"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
        env.update(
            {
                "AIRFLOW_HOME": str(self.home),
                "AIRFLOW__CORE__DAGS_FOLDER": str(self.dags_folder),
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
                "AIRFLOW__CORE__PARALLELISM": str(self.parallelism),
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": str(self.dags_paused_at_creation),
                "AIRFLOW__CORE__AUTH_MANAGER": SIMPLE_AUTH_MANAGER,
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{self.username}:admin",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(self.passwords_file),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.base_url}/execution/",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": str(self.metadata_url),
                "AIRFLOW__API__HOST": self.host,
                "AIRFLOW__API__PORT": str(self.port),
                "AIRFLOW__API__BASE_URL": self.base_url,
                "AIRFLOW__API_AUTH__JWT_SECRET": jwt_secret,
                "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(self.home / "logs"),
                # Pick up new and changed DAG files quickly (ops edit sources.yaml and wait).
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
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

    def __init__(self, home: AirflowHome, components: Iterable[str] = COMPONENTS) -> None:
        self.home = home
        self.names = list(components)
        self.components: list[Component] = []

    def start(self) -> None:
        env = self.home.env()
        for name in self.names:
            log_path = self.home.home / "logs" / f"{name}.log"
            log_file = log_path.open("ab")
            process = subprocess.Popen(
                [airflow_executable(), name],
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


class AirflowClient:
    """A small client of the Airflow 3 public REST API (v2), with JWT auth.

    Ops scripts and tests use it to trigger DAG runs and wait for them; the simple auth
    manager (and any auth manager implementing ``/auth/token``) hands out the token.
    """

    def __init__(self, base_url: str, username: str, password: str, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.password = password
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, trust_env=False)
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> AirflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def token(self) -> str:
        """A JWT from ``POST /auth/token`` (cached; refreshed on a 401)."""
        if self._token is None:
            response = self._http.post(
                "/auth/token", json={"username": self.username, "password": self.password}
            )
            if response.status_code >= 300:
                raise AirflowError(
                    f"login as {self.username} failed: HTTP {response.status_code} {response.text}"
                )
            self._token = str(response.json()["access_token"])
        return self._token

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call ``/api/v2{path}``; return the decoded JSON, raise :class:`AirflowError` otherwise."""
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.token()}"}
            response = self._http.request(method, f"/api/v2{path}", headers=headers, **kwargs)
            if response.status_code == 401 and attempt == 0:
                self._token = None
                continue
            break
        if response.status_code >= 300:
            raise AirflowError(f"{method} {path}: HTTP {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None

    def wait_until_healthy(self, timeout: float = 180.0, components: AirflowComponents | None = None) -> None:
        """Wait until the API server answers and the metadatabase is healthy."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if components is not None:
                components.check_alive()
            try:
                response = self._http.get("/api/v2/monitor/health")
                if response.status_code == 200:
                    health = response.json()
                    if health.get("metadatabase", {}).get("status") == "healthy":
                        return
                last = f"HTTP {response.status_code}: {response.text[:200]}"
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(1.0)
        raise AirflowError(f"API server at {self.base_url} not healthy after {timeout:.0f}s: {last}")

    def wait_for_dag(
        self, dag_id: str, timeout: float = 180.0, components: AirflowComponents | None = None
    ) -> dict[str, Any]:
        """Wait until the DAG processor has parsed and serialised ``dag_id``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if components is not None:
                components.check_alive()
            try:
                dag: dict[str, Any] = self.request("GET", f"/dags/{dag_id}")
                return dag
            except AirflowError as exc:
                if "HTTP 404" not in str(exc):
                    raise
            time.sleep(2.0)
        errors = self.request("GET", "/importErrors")
        raise AirflowError(f"DAG {dag_id} not parsed after {timeout:.0f}s; import errors: {errors}")

    def set_paused(self, dag_id: str, paused: bool) -> None:
        self.request("PATCH", f"/dags/{dag_id}", json={"is_paused": paused})

    def trigger(
        self, dag_id: str, conf: Mapping[str, Any] | None = None, logical_date: str | None = None
    ) -> str:
        """Trigger a DAG run (manual); return its run id."""
        body = {"logical_date": logical_date, "conf": dict(conf or {})}
        run: dict[str, Any] = self.request("POST", f"/dags/{dag_id}/dagRuns", json=body)
        return str(run["dag_run_id"])

    def clear_run(
        self, dag_id: str, run_id: str, task_ids: list[str] | None = None, *, downstream: bool = False
    ) -> int:
        """Clear the run's task instances (all, or ``task_ids`` and, with ``downstream``, the
        tasks after them: the UI's *Clear* of one task) so the scheduler reruns them."""
        body: dict[str, Any] = {
            "dry_run": False,
            "dag_run_id": run_id,
            "only_failed": False,
            "reset_dag_runs": True,
            "include_downstream": downstream,
        }
        if task_ids is not None:
            body["task_ids"] = task_ids
        cleared = self.request("POST", f"/dags/{dag_id}/clearTaskInstances", json=body)
        return len(cleared.get("task_instances", []))

    def create_backfill(
        self, dag_id: str, from_date: str, to_date: str, *, max_active_runs: int | None = None
    ) -> dict[str, Any]:
        """``POST /backfills`` (what ``airflow backfill create`` does): runs for the logical
        dates in ``[from_date, to_date]``; returns the backfill (its ``id``)."""
        body: dict[str, Any] = {"dag_id": dag_id, "from_date": from_date, "to_date": to_date}
        if max_active_runs is not None:
            body["max_active_runs"] = max_active_runs
        backfill: dict[str, Any] = self.request("POST", "/backfills", json=body)
        return backfill

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        """The run's task instances as the API describes them (state, try number, dates, …)."""
        data = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        instances: list[dict[str, Any]] = data["task_instances"]
        return instances

    def run_state(self, dag_id: str, run_id: str) -> str:
        run: dict[str, Any] = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        return str(run["state"])

    def task_states(self, dag_id: str, run_id: str) -> dict[str, str]:
        """``task_id[map_index]`` -> state of every task instance of the run."""
        data = self.request("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances", params={"limit": 100})
        states = {}
        for ti in data["task_instances"]:
            key = ti["task_id"] if ti.get("map_index", -1) < 0 else f"{ti['task_id']}[{ti['map_index']}]"
            states[key] = str(ti["state"])
        return states

    def wait_for_run(
        self,
        dag_id: str,
        run_id: str,
        timeout: float = 600.0,
        components: AirflowComponents | None = None,
    ) -> str:
        """Poll the run until it succeeds or fails; return the final state."""
        deadline = time.monotonic() + timeout
        state = "unknown"
        while time.monotonic() < deadline:
            if components is not None:
                components.check_alive()
            state = self.run_state(dag_id, run_id)
            if state in TERMINAL_STATES:
                return state
            time.sleep(2.0)
        raise AirflowError(
            f"run {run_id} of {dag_id} still {state} after {timeout:.0f}s; tasks: {self.task_states(dag_id, run_id)}"
        )

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        """The DAG's runs (up to 100)."""
        data = self.request("GET", f"/dags/{dag_id}/dagRuns", params={"limit": 100})
        runs: list[dict[str, Any]] = data["dag_runs"]
        return runs

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        """A task's XCom value (deserialised)."""
        entry = self.request(
            "GET",
            f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
            params={"deserialize": "true", "stringify": "false"},
        )
        return entry["value"]

    def asset_events(self, asset_name: str | None = None) -> list[dict[str, Any]]:
        data = self.request("GET", "/assets/events", params={"limit": 100, "order_by": "-timestamp"})
        events: list[dict[str, Any]] = data["asset_events"]
        if asset_name is not None:
            events = [e for e in events if e.get("name") == asset_name or e.get("asset_name") == asset_name]
        return events


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
