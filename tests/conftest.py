"""Shared fixtures: fresh SQLite and PostgreSQL news databases, settings isolation.

PostgreSQL tests use the real server named by ``NEWSFLOW_TEST_PG_URL`` (default: the local
trust-auth server). Each test session creates its own database and drops it at the end.
When ``CI=true`` an unreachable server is a failure, never a skip.

``make test`` runs the suite on two pytest-xdist workers; :func:`xdist_scope` says which tests
share a worker, the collection hook in which order work is handed out.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from pipeline.db import migrate
from pipeline.db.engine import dispose_engines, normalise_url
from pipeline.settings import reset_settings_cache
from tests.minisite import MiniSite, serve

DEFAULT_PG_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


def pg_admin_url() -> str:
    return normalise_url(os.environ.get("NEWSFLOW_TEST_PG_URL", DEFAULT_PG_URL))


def _pg_available(url: str) -> str | None:
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
        return None
    except Exception as exc:
        return str(exc).splitlines()[0]


def require_postgres() -> str:
    """The admin URL of the test server; fails (CI=true) or skips (elsewhere) if unreachable."""
    admin = pg_admin_url()
    problem = _pg_available(admin)
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL unreachable at {admin} in CI: {problem}")
        pytest.skip(f"PostgreSQL unreachable: {problem}")
    return admin


def create_pg_database(prefix: str = "nf_test") -> str:
    """Create a fresh PostgreSQL database and return its URL (fails, never skips, in CI)."""
    admin = require_postgres()
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return make_url(admin).set(database=name).render_as_string(hide_password=False)


def drop_pg_database(url: str) -> None:
    dispose_engines()
    name = make_url(url).database
    engine = create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


#: Modules whose tests start a long-running Airflow stack (api-server, scheduler,
#: dag-processor, triggerer; Celery workers): one worker runs them one after another, so that
#: two stacks never share the two cores and their waits (``wait_for_consumer``'s 180 s, the
#: healthchecks) keep the margin they had when the suite ran in one process.
AIRFLOW_STACK_MODULES = frozenset(
    {
        "tests/test_airflow_ops.py",
        "tests/test_airflow_scheduler.py",
        "tests/test_airflow_soak.py",
        "tests/test_compose_native.py",
    }
)
#: Modules that stay whole on one worker: a module- or session-scoped fixture of their own (a
#: migrated Airflow home, a demo network) is set up once, as in a one-process run, not once
#: per worker; ``test_demo_command.py`` binds ``newsflow demo``'s fixed default ports.
WHOLE_MODULES = frozenset(
    {
        "tests/test_compose.py",
        "tests/test_dags_run.py",
        "tests/test_demo_command.py",
        "tests/test_demo_site.py",
        "tests/test_living_network.py",
    }
)


def xdist_scope(nodeid: str) -> str:
    """The unit of work a test belongs to under ``make test``'s two workers.

    A unit runs on one worker, its tests in file order; any other test is a unit of its own,
    so the two workers stay evenly busy to the end.
    """
    module = nodeid.split("::", 1)[0]
    if module in AIRFLOW_STACK_MODULES:
        return "airflow-stack"
    return module if module in WHOLE_MODULES else nodeid


@pytest.hookimpl(optionalhook=True)  # a run without pytest-xdist (-p no:xdist) knows no such hook
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """``--dist loadgroup`` by :func:`xdist_scope` instead of ``xdist_group`` marks.

    pytest-xdist 3.8 groups marked tests by rewriting ``item._nodeid``, which pytest 9.2 no
    longer reads (node ids live in ``item._id``): the marks would be silently ignored. The
    scheduler runs in the controlling process, which sees node ids only, hence the lists.
    """
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ScopeScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_scope(nodeid)

    return ScopeScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker: hand out the ``slow`` tests first.

    The slow tests (an Airflow stack, a day of hourly runs) take 1-2.5 minutes each: handed out
    last, one of them would keep one worker busy while the other has nothing left to do. The
    Makefile passes ``--no-loadscope-reorder``, so this order is the order of hand-out. A
    one-process run keeps the file order.
    """
    if "PYTEST_XDIST_WORKER" not in os.environ:
        return
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Every test starts with default-free settings pointing into its own tmp folder."""
    for key in list(os.environ):
        if key.startswith("NEWSFLOW_") and key != "NEWSFLOW_TEST_PG_URL":
            monkeypatch.delenv(key)
    monkeypatch.setenv("NEWSFLOW_DATABASE_URL", f"sqlite:///{tmp_path}/news.db")
    monkeypatch.setenv("NEWSFLOW_RAW_STORE", str(tmp_path / "raw"))
    reset_settings_cache()
    yield
    reset_settings_cache()
    dispose_engines()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """An empty SQLite news database file, migrated to head."""
    url = f"sqlite:///{tmp_path}/news.db"
    migrate.upgrade(url)
    return url


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL news database (dropped afterwards)."""
    url = create_pg_database()
    try:
        migrate.upgrade(url)
        yield url
    finally:
        drop_pg_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest) -> str:
    """Runs the test on both backends, each with a fresh migrated database."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def db_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Like ``db_url`` but also exported as ``NEWSFLOW_DATABASE_URL`` for code under test."""
    monkeypatch.setenv("NEWSFLOW_DATABASE_URL", db_url)
    reset_settings_cache()
    return db_url


@pytest.fixture
def demo_network() -> Iterator[object]:
    """The demo news network on free loopback ports, edition 1, stopped after the test."""
    from pipeline.demo_site import DemoNetwork

    network = DemoNetwork(host="127.0.0.1", port=0)
    network.start()
    try:
        yield network
    finally:
        network.stop()


@pytest.fixture
def site() -> Iterator[MiniSite]:
    """A tiny living news site on a loopback port (:mod:`tests.minisite`); tests change it between runs."""
    yield from serve(MiniSite())


@pytest.fixture
def loaded(db_url: str) -> str:
    """Two outlets on both backends: a seed story, its syndicated copy and unrelated stories
    that share words (:func:`tests.loadkit.load_two_outlets`)."""
    from tests.loadkit import load_two_outlets

    return load_two_outlets(db_url)
