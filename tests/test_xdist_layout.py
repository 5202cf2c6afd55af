"""How ``make test`` splits the suite over two xdist workers (``tests/conftest.py``) stays true.

The scheduler sees node ids only, so the modules that must stay whole are listed by hand; these
tests fail when a module gains a module-scoped fixture without being listed (it would be set
up on both workers), when a listed module is renamed away, or when the Makefile stops passing
the options the scheduler relies on.
"""

from __future__ import annotations

import re
from pathlib import Path

from tests.conftest import AIRFLOW_STACK_MODULES, WHOLE_MODULES, xdist_scope

ROOT = Path(__file__).resolve().parents[1]
SHARED_FIXTURE = re.compile(r"@pytest\.fixture\([^)]*scope=[\"'](module|package|session)[\"']")
STACK_START = re.compile(r"\b(AirflowComponents|NativeCompose)\(")


def _test_modules() -> dict[str, str]:
    return {
        path.relative_to(ROOT).as_posix(): path.read_text(encoding="utf-8")
        for path in sorted((ROOT / "tests").rglob("test_*.py"))
    }


def test_listed_modules_exist() -> None:
    modules = _test_modules()
    assert set(modules) >= (WHOLE_MODULES | AIRFLOW_STACK_MODULES)
    assert not WHOLE_MODULES & AIRFLOW_STACK_MODULES


def test_every_module_with_a_shared_fixture_stays_whole() -> None:
    shared = {name for name, text in _test_modules().items() if SHARED_FIXTURE.search(text)}
    assert shared, "the pattern finds nothing: it no longer matches how fixtures are declared"
    assert shared <= WHOLE_MODULES | AIRFLOW_STACK_MODULES, shared - WHOLE_MODULES - AIRFLOW_STACK_MODULES


def test_every_module_that_starts_an_airflow_stack_is_in_the_stack_group() -> None:
    starters = {name for name, text in _test_modules().items() if STACK_START.search(text)}
    assert starters, "the pattern finds nothing: it no longer matches how stacks are started"
    assert starters <= AIRFLOW_STACK_MODULES, starters - AIRFLOW_STACK_MODULES


def test_scopes() -> None:
    stack = {xdist_scope(f"{module}::test_x[a]") for module in AIRFLOW_STACK_MODULES}
    assert stack == {"airflow-stack"}
    assert xdist_scope("tests/test_dags_run.py::test_a") == xdist_scope("tests/test_dags_run.py::test_b")
    assert xdist_scope("tests/test_urls.py::test_a") != xdist_scope("tests/test_urls.py::test_b")


def test_makefile_runs_the_scheduler_with_its_options() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^TEST_WORKERS \?= 2$", makefile, re.M)
    assert "-n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder" in makefile
