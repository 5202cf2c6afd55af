"""The compose project run natively (no Docker): what ``tests/test_compose_native.py`` builds on.

:class:`NativeCompose` is ``docker-compose.yml`` resolved for this machine (hostnames, ports,
named volumes and image paths mapped); the rest runs the ``celery`` profile's services the
way their containers would: ``redis`` as a ``redis-server`` on a loopback port, each
``airflow-worker`` as an emulated container (its own ``HOSTNAME``); and the reference run
the Celery articles are compared with.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from sqlalchemy import create_engine, text

from tests.compose_support import ROOT, active_services, command_argv, service_environment

#: Two emulated worker containers, by hostname; one task at a time each (``.env``'s
#: ``AIRFLOW_WORKER_CONCURRENCY=1``), so the extract shards queued together go to both.
CELERY_WORKERS = ("nf-worker-1", "nf-worker-2")
#: What the image adds to a container's environment besides compose's (see docker/Dockerfile).
IMAGE_AIRFLOW_HOME = "/opt/airflow"


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
    sources: tuple[str, ...] = ()

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


def run_command(
    argv: list[str], env: dict[str, str], cwd: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


@contextmanager
def redis_service(native: NativeCompose) -> Iterator[None]:
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
        while run_command(check, native.environment("redis"), ROOT, timeout=10).stdout.strip() != "PONG":
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


def worker_specs(native: NativeCompose) -> list[Any]:
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


def wait_worker_healthy(native: NativeCompose, spec: Any, deadline: float) -> None:
    """The worker service's healthcheck (a Celery ping of ``celery@$HOSTNAME``), as that worker."""
    argv = native.healthcheck("airflow-worker")
    last = ""
    while time.monotonic() < deadline:
        result = run_command(argv, dict(spec.env), ROOT, timeout=120)
        if result.returncode == 0:
            return
        last = (result.stdout + result.stderr)[-800:]
        time.sleep(3)
    raise AssertionError(f"{spec.name}: healthcheck {shlex.join(argv)} never passed:\n{last}")


def article_keys(engine: Any) -> set[tuple[str, str, str]]:
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


def reference_articles(native: NativeCompose, tmp_path: Path) -> set[tuple[str, str, str]]:
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
        return article_keys(engine)
    finally:
        engine.dispose()
