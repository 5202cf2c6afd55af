"""Static checks of the deployment files (there is no Docker engine to run them here).

``docker-compose.yml`` is validated against the vendored Compose Specification schema, raw and
after interpolation with a filled ``.env``, and its cross-references are checked: dependencies,
the environment every Airflow 3 component needs, secrets only from ``.env``, volumes, the
``celery`` profile and the healthchecks. The Dockerfile, ``.env.example`` and the image
requirements derivation are checked too, and every committed file is scanned for credentials.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import jsonschema
import pytest

from tests.compose_support import (
    ENV_EXAMPLE,
    ROOT,
    InterpolationError,
    env_example_with_secrets,
    interpolate,
    load_compose,
    read_env_file,
    referenced_variables,
    required_variables,
    service_environment,
)

SCHEMA = ROOT / "tests" / "schemas" / "compose-spec.json"
DOCKERFILE = ROOT / "docker" / "Dockerfile"
AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
}
CORE_SERVICES = {"postgres", *AIRFLOW_SERVICES - {"airflow-worker"}}
CELERY_SERVICES = {"redis", "airflow-worker"}
DEMO_SERVICES = {"demo-site"}
# What every Airflow 3 component must agree on (or find) to work as one deployment.
AIRFLOW_REQUIRED_ENV = {
    "AIRFLOW__CORE__EXECUTOR",
    "AIRFLOW__CORE__AUTH_MANAGER",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
    "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY",
    "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    "AIRFLOW__CORE__LOAD_EXAMPLES",
    "AIRFLOW__CORE__DAGS_FOLDER",
    "NEWSFLOW_DATABASE_URL",
    "NEWSFLOW_RAW_STORE",
    "NEWSFLOW_SOURCES",
}
SHARED_VALUES = AIRFLOW_REQUIRED_ENV - {"AIRFLOW__CORE__EXECUTOR"}
SECRET_KEY_NAME = re.compile(r"PASSWORD|SECRET|FERNET|TOKEN|PRIVATE_KEY|API_KEY", re.I)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture(scope="module")
def env() -> dict[str, str]:
    return env_example_with_secrets()


@pytest.fixture(scope="module")
def resolved(compose: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    return dict(interpolate(compose, env))


def _services(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return dict(doc["services"])


def _depends(service: dict[str, Any]) -> dict[str, dict[str, Any]]:
    deps = service.get("depends_on") or {}
    if isinstance(deps, list):
        return {name: {"condition": "service_started"} for name in deps}
    return dict(deps)


def _profiles(service: dict[str, Any]) -> set[str]:
    return set(service.get("profiles") or [])


# --- schema ----------------------------------------------------------------------------------


def test_schema_is_vendored_with_its_license_note() -> None:
    note = (SCHEMA.parent / "README.md").read_text(encoding="utf-8")
    assert "Apache License, Version 2.0" in note
    assert json.loads(SCHEMA.read_text(encoding="utf-8"))["title"] == "Compose Specification"


@pytest.mark.parametrize("stage", ["raw", "interpolated"])
def test_compose_file_validates_against_the_compose_spec(
    stage: str, compose: dict[str, Any], resolved: dict[str, Any]
) -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    doc = compose if stage == "raw" else resolved
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)


def test_schema_validation_catches_a_broken_file(compose: dict[str, Any]) -> None:
    """The validator is not vacuous: a typo'd service key is rejected."""
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    broken = json.loads(json.dumps(compose))
    broken["services"]["postgres"]["helthcheck"] = broken["services"]["postgres"].pop("healthcheck")
    assert list(jsonschema.Draft7Validator(schema).iter_errors(broken))


# --- services and cross-references -----------------------------------------------------------


def test_expected_services_and_profiles(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert set(services) == CORE_SERVICES | CELERY_SERVICES | DEMO_SERVICES
    for name in CORE_SERVICES:
        assert not _profiles(services[name]), f"{name} must run by default"
    for name in CELERY_SERVICES:
        assert _profiles(services[name]) == {"celery"}, name
    for name in DEMO_SERVICES:
        assert _profiles(services[name]) == {"demo"}, name
    # The demo network is reachable on the loopback of the container that runs the tasks.
    demo = services["demo-site"]
    # Every service running newsflow code builds (or reuses) the one project image.
    images = {
        (s.get("image"), json.dumps(s.get("build"), sort_keys=True))
        for n, s in services.items()
        if "build" in s
    }
    assert (
        len(images) == 1
        and {n for n, s in services.items() if "build" in s} == AIRFLOW_SERVICES | DEMO_SERVICES
    )
    assert demo["network_mode"] == "service:airflow-scheduler"
    assert "airflow-scheduler" in _depends(demo)
    assert services["postgres"]["image"].startswith("postgres:16")


def test_depends_on_targets_exist_and_respect_profiles(compose: dict[str, Any]) -> None:
    services = _services(compose)
    for name, service in services.items():
        for target, spec in _depends(service).items():
            assert target in services, f"{name} depends on unknown service {target}"
            assert target != name
            # A default service may not wait for one that only exists under a profile.
            if not _profiles(service):
                assert not _profiles(services[target]), f"{name} depends on profile-only {target}"
            condition = spec.get("condition", "service_started")
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits for {target}'s missing healthcheck"
            if condition == "service_completed_successfully":
                assert services[target].get("restart", "no") == "no", f"{target} must be one-shot"


def test_airflow_components_wait_for_database_and_init(compose: dict[str, Any]) -> None:
    services = _services(compose)
    assert _depends(services["airflow-init"]) == {"postgres": {"condition": "service_healthy"}}
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        deps = _depends(services[name])
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name


def test_every_airflow_service_has_the_airflow3_environment(
    resolved: dict[str, Any], env: dict[str, str]
) -> None:
    services = _services(resolved)
    environments = {name: service_environment(services[name], env) for name in AIRFLOW_SERVICES}
    for name, service_env in environments.items():
        missing = AIRFLOW_REQUIRED_ENV - service_env.keys()
        assert not missing, f"{name} lacks {sorted(missing)}"
        assert service_env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false", name
    # One deployment: the keys, databases and URLs are identical on every component.
    for key in SHARED_VALUES:
        values = {environments[name][key] for name in AIRFLOW_SERVICES}
        assert len(values) == 1, f"{key} differs between components: {values}"
    api_url = urlsplit(environments["airflow-scheduler"]["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
    assert api_url.hostname == "airflow-apiserver" and api_url.path == "/execution/"
    api_port = environments["airflow-apiserver"]["AIRFLOW__API__PORT"]
    assert api_url.port == int(api_port)
    assert services["airflow-apiserver"]["command"] == "api-server"
    assert any(p.endswith(f":{api_port}") for p in services["airflow-apiserver"]["ports"])
    # Airflow's metadata and the news database are different databases with different owners.
    meta = urlsplit(environments["airflow-scheduler"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    news = urlsplit(environments["airflow-scheduler"]["NEWSFLOW_DATABASE_URL"])
    assert meta.hostname == news.hostname == "postgres"
    assert meta.path != news.path and meta.username != news.username


def test_local_executor_by_default_celery_for_the_profile(compose: dict[str, Any]) -> None:
    services = _services(compose)
    env = read_env_file(ENV_EXAMPLE)
    default_env = env_example_with_secrets()
    for name in AIRFLOW_SERVICES - {"airflow-worker"}:
        executor = service_environment(interpolate(services[name], default_env), default_env)
        assert executor["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor", name
        assert (
            services[name]["environment"]["AIRFLOW__CORE__EXECUTOR"] == "${AIRFLOW_EXECUTOR:-LocalExecutor}"
        )
    assert env["AIRFLOW_EXECUTOR"] == "LocalExecutor" and "COMPOSE_PROFILES" in env
    # The documented switch turns every component to Celery.
    celery_env = env_example_with_secrets(
        {"AIRFLOW_EXECUTOR": "CeleryExecutor", "COMPOSE_PROFILES": "celery"}
    )
    for name in AIRFLOW_SERVICES:
        resolved = service_environment(interpolate(services[name], celery_env), celery_env)
        assert resolved["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name


def test_celery_profile_is_complete(resolved: dict[str, Any], env: dict[str, str]) -> None:
    services = _services(resolved)
    worker, redis = services["airflow-worker"], services["redis"]
    worker_env = service_environment(worker, env)
    assert worker_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert worker["command"] == "celery worker"
    broker = urlsplit(worker_env["AIRFLOW__CELERY__BROKER_URL"])
    assert broker.scheme == "redis" and broker.hostname == "redis"
    assert str(broker.port) in {str(p) for p in redis.get("expose", [])}
    assert worker_env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
    assert _depends(worker)["redis"]["condition"] == "service_healthy"
    assert "ports" not in worker and "container_name" not in worker, "must scale with --scale"
    assert redis["image"].startswith("redis:")
    # Scheduler and worker share the broker and result backend.
    sched_env = service_environment(services["airflow-scheduler"], env)
    for key in ("AIRFLOW__CELERY__BROKER_URL", "AIRFLOW__CELERY__RESULT_BACKEND"):
        assert sched_env[key] == worker_env[key]


def test_every_long_running_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in _services(compose).items():
        if service.get("restart", "no") == "no":
            continue
        check = service.get("healthcheck")
        assert check and check.get("test"), f"{name} has no healthcheck"
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name
        assert check.get("interval") and check.get("retries"), name


def test_volumes_are_declared_used_and_bind_sources_exist(
    compose: dict[str, Any], resolved: dict[str, Any]
) -> None:
    declared = set(compose.get("volumes") or {})
    used: set[str] = set()
    for name, service in _services(resolved).items():
        for spec in service.get("volumes") or []:
            source = spec.split(":")[0] if isinstance(spec, str) else spec.get("source", "")
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            else:
                assert source in declared, f"{name} uses undeclared volume {source}"
                used.add(source)
    assert used == declared, f"declared but unused: {declared - used}"
    postgres_volumes = _services(compose)["postgres"]["volumes"]
    assert "postgres-data:/var/lib/postgresql/data" in postgres_volumes
    assert "./docker/postgres-init:/docker-entrypoint-initdb.d:ro" in postgres_volumes


def test_sources_yaml_is_mounted_and_raw_store_is_a_volume_or_url(
    compose: dict[str, Any], resolved: dict[str, Any], env: dict[str, str]
) -> None:
    for name in AIRFLOW_SERVICES:
        service = _services(resolved)[name]
        service_env = service_environment(service, env)
        mounts = {v.split(":")[1]: v.split(":")[0] for v in service["volumes"]}
        assert mounts[service_env["NEWSFLOW_SOURCES"]] == "./sources.yaml"
        assert any(service_env["NEWSFLOW_RAW_STORE"].startswith(target) for target in mounts), name
    raw = _services(compose)["airflow-scheduler"]["environment"]["NEWSFLOW_RAW_STORE"]
    assert raw.startswith("${NEWSFLOW_RAW_STORE:-"), "an s3:// URL must be settable from .env"
    s3_env = {**env, "NEWSFLOW_RAW_STORE": "s3://bucket/raw", "AWS_ACCESS_KEY_ID": "x"}
    s3_service = interpolate(_services(compose)["airflow-scheduler"], s3_env)
    resolved_env = service_environment(s3_service, s3_env)
    assert (
        resolved_env["NEWSFLOW_RAW_STORE"] == "s3://bucket/raw" and resolved_env["AWS_ACCESS_KEY_ID"] == "x"
    )
    assert "AWS_SECRET_ACCESS_KEY" not in resolved_env, "unset pass-through variables stay unset"


# --- secrets -----------------------------------------------------------------------------------


def _secret_values(compose: dict[str, Any]) -> dict[str, str]:
    """Every environment value that carries a secret: by its key's name or a URL password."""
    found: dict[str, str] = {}
    for name, service in _services(compose).items():
        for key, value in (service.get("environment") or {}).items():
            if value is None:
                continue
            if SECRET_KEY_NAME.search(key) or re.search(r"://[^/@\s]+:[^/@\s]+@", str(value)):
                found[f"{name}.{key}"] = str(value)
    return found


def test_secrets_come_from_env_file(compose: dict[str, Any]) -> None:
    secrets = _secret_values(compose)
    assert len(secrets) >= 8
    for where, value in secrets.items():
        if where.endswith("_PASSWORDS_FILE"):
            continue
        refs = referenced_variables(value)
        assert refs, f"{where} is a literal secret"
        assert any(":?" in ops for ops in refs.values()), f"{where} must use ${{VAR:?…}}: {value}"
        # A URL's password part is itself a required reference, never a default.
        match = re.search(r"://[^/@\s:]+:(.+)@", value)
        if match:
            assert match.group(1).startswith("${") and ":?" in match.group(1), where
    required = required_variables(compose)
    assert {
        "AIRFLOW_FERNET_KEY",
        "AIRFLOW_JWT_SECRET",
        "AIRFLOW_API_SECRET_KEY",
        "AIRFLOW_ADMIN_PASSWORD",
    } <= required


def test_env_example_lists_every_variable_and_no_secret(compose: dict[str, Any]) -> None:
    example = read_env_file(ENV_EXAMPLE)
    referenced = set(referenced_variables(compose))
    assert referenced - set(example) == set(), "compose variables missing from .env.example"
    for name in required_variables(compose):
        assert example[name] == "", f".env.example must leave {name} empty"
    for key, value in example.items():
        if SECRET_KEY_NAME.search(key):
            assert value == "", f".env.example holds a value for {key}"


def test_missing_secret_stops_interpolation_with_its_name(compose: dict[str, Any]) -> None:
    env = env_example_with_secrets()
    env["AIRFLOW_JWT_SECRET"] = ""
    with pytest.raises(InterpolationError, match="AIRFLOW_JWT_SECRET"):
        interpolate(compose, env)


def test_dot_env_is_git_ignored() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    result = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False)
    assert result.returncode == 0
    docker_ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    assert ".env" in docker_ignore, "the build context must not carry .env into the image"


# --- Dockerfile and image requirements ---------------------------------------------------------


def _locked_version(name: str) -> str:
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    match = re.search(rf"^{re.escape(name)}==(\S+)", lock, re.M)
    assert match, name
    return match.group(1)


def test_dockerfile_builds_on_the_locked_airflow_and_checks_pip() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    froms = re.findall(r"^FROM\s+(\S+)", text, re.M)
    assert froms == [f"apache/airflow:{_locked_version('apache-airflow')}-python3.11"]
    assert '--constraint "${HOME}/constraints.txt"' in text
    assert "pip check" in text
    assert "image_requirements.py" in text and "--no-deps -e /opt/newsflow" in text
    for env_line in re.findall(r"^(?:ENV|ARG)\s+.*$", text, re.M):
        assert not SECRET_KEY_NAME.search(env_line), f"secret-like build setting: {env_line}"
    for script in ("docker/airflow-init.sh", "docker/postgres-init/10-newsflow-databases.sh"):
        assert os.access(ROOT / script, os.X_OK), f"{script} must be executable"


def _image_requirements_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "image_requirements", ROOT / "docker" / "image_requirements.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve string annotations through it
    spec.loader.exec_module(module)
    return module


def test_image_requirements_split_lock_and_constraints() -> None:
    mod = _image_requirements_module()
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    constraints = "# Airflow's constraints\nSQLAlchemy==2.0.1\npsycopg2-binary==2.9.0\n"
    result = mod.image_requirements(lock, pyproject, constraints, _locked_version("apache-airflow"))
    names = {mod.normalise(line.split("==")[0]) for line in result.lines}
    # The lock pins what the constraints do not; constraints win where they speak.
    assert f"scrapy=={_locked_version('scrapy')}" in result.lines
    assert {"trafilatura", "warcio", "numpy", "apache-airflow"} <= names
    assert "sqlalchemy" not in names and result.deferred["sqlalchemy"][1] == "2.0.1"
    # Dev-only tools stay out of the image, shared dependencies stay in.
    assert {"pytest", "mypy", "ruff", "hypothesis"} <= set(result.dev_only)
    assert not names & {"pytest", "mypy", "ruff", "hypothesis", "types-pyyaml"}
    assert "pluggy" in names  # pytest needs it, but so does Airflow
    assert "typing-extensions" in names
    with pytest.raises(SystemExit, match="apache-airflow"):
        mod.image_requirements(lock, pyproject, constraints, "9.9.9")


# --- credentials in committed files --------------------------------------------------------------

_SKIP_DIRS = {".git", ".venv", "node_modules", ".mypy_cache", ".ruff_cache", ".pytest_cache", "data"}
_CREDENTIAL_PATTERNS = {
    "private key": re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY-----"),
    "AWS access key id": re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "URL with a password": re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s/@:'\"]+:(?!\$\{|\$[A-Z_]|\*)[^\s/@'\"]+@"),
}
_CONFIG_ASSIGNMENT = re.compile(
    r"^\s*(?:export\s+)?([A-Z0-9_]*(?:PASSWORD|SECRET|FERNET_KEY|TOKEN|PRIVATE_KEY|API_KEY)[A-Z0-9_]*)\s*[=:]\s*(.*)$"
)
_CONFIG_SUFFIXES = {".env", ".example", ".yml", ".yaml", ".ini", ".cfg", ".toml", ".conf", ".sh"}


def _committed_files() -> list[Path]:
    if shutil.which("git") and (ROOT / ".git").exists():
        out = subprocess.run(
            ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
        ).stdout.decode()
        return [ROOT / p for p in out.split("\0") if p]
    return [
        p for p in ROOT.rglob("*") if p.is_file() and not _SKIP_DIRS.intersection(p.relative_to(ROOT).parts)
    ]


def _credential_findings(path: Path, text: str) -> list[str]:
    findings = []
    config_like = path.suffix in _CONFIG_SUFFIXES or path.name.startswith((".env", "Dockerfile"))
    for number, line in enumerate(text.splitlines(), 1):
        if line.rstrip().endswith("# credential-fixture"):
            continue  # a fake credential a fault test plants on purpose, marked as such
        for label, pattern in _CREDENTIAL_PATTERNS.items():
            if pattern.search(line):
                findings.append(f"{path.name}:{number}: {label}")
        if config_like:
            match = _CONFIG_ASSIGNMENT.match(line)
            if match:
                value = match.group(2).strip().strip("'\"")
                is_reference = value.startswith(("$", "#", "<")) or match.group(1).endswith(
                    ("_FILE", "_PATH")
                )
                if value and not is_reference:
                    findings.append(f"{path.name}:{number}: literal value for {match.group(1)}")
    return findings


def test_credential_scanner_detects_planted_secrets(tmp_path: Path) -> None:
    planted = tmp_path / "leak.env"
    # Assembled at run time so that this file itself stays clean for the scan below.
    text = "\n".join(
        [
            "AIRFLOW_DB_PASSWORD=" + "hunter2",
            "url = postgresql://newsflow:" + "s3cret@db/news",
            "key = AKIA" + "ABCDEFGHIJKLMNOP",
            "-----BEGIN RSA " + "PRIVATE KEY-----",
            "OK_PASSWORD=${FROM_ENV:?}",
            "OK_PASSWORDS_FILE=/run/secrets/passwords.json",
            "ok = postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        ]
    )
    findings = _credential_findings(planted, text)
    assert len(findings) == 4, findings


def test_no_credential_in_any_committed_file() -> None:
    findings: list[str] = []
    scanned = 0
    for path in _committed_files():
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        scanned += 1
        findings += [
            f"{path.relative_to(ROOT)}: {f.split(': ', 1)[1]}" for f in _credential_findings(path, text)
        ]
    assert scanned > 20
    assert not findings, "\n".join(findings)
