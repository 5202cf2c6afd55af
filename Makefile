# newsflow — the two commands are `make demo` and `make test`; everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.8
STAMP := $(VENV)/.installed

.PHONY: install chromium demo test lint typecheck unit airflow lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install whenever the lock or the project metadata changes. Bytecode is compiled at install:
# uv does not by default, and with PYTHONDONTWRITEBYTECODE set (as on CI machines) every
# process - each crawl subprocess, each Airflow task - would compile ~600 modules again (~4 s).
# Airflow renders DAG graphs with graphviz: the Python package comes with the lock, Debian's
# `dot` binary is installed here when we are root and it is missing (else: apt-get install graphviz).
$(STAMP): $(BIN)/python requirements.lock pyproject.toml
	@if ! command -v dot > /dev/null && [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
		(apt-get update -qq && apt-get install -y -qq graphviz > /dev/null) || echo "note: apt-get install graphviz failed; graph rendering disabled"; fi
	$(BIN)/python -m pip install --quiet --disable-pip-version-check "uv==$(UV_VERSION)"
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	$(BIN)/python -m compileall -q pipeline crawlers dags > /dev/null
	touch $(STAMP)

install: $(STAMP) chromium

# Debian's Chromium, for sources with `render: browser` (playwright never downloads a browser).
# Installed with apt when missing and we are root; otherwise a note (only rendering needs it).
CHROMIUM ?= /usr/bin/chromium
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get > /dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium > /dev/null; \
	  else \
	    echo "note: $(CHROMIUM) is missing: sources with 'render: browser' need it (apt-get install chromium)"; \
	  fi; \
	fi

demo: install
	$(BIN)/newsflow demo

lint: install
	$(BIN)/ruff check pipeline crawlers dags tests benchmarks alembic
	$(BIN)/ruff format --check pipeline crawlers dags tests benchmarks alembic

typecheck: install
	$(BIN)/mypy

# Two xdist workers (TEST_WORKERS=0: one process). Which tests share a worker, and why the slow
# ones are handed out first: tests/conftest.py (pytest_collection_modifyitems).
TEST_WORKERS ?= 2
unit: install
	$(BIN)/python -m pytest $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder) $(PYTEST_ARGS)

test: lint typecheck unit

# Writes data/airflow/airflow.cfg and prints the line that points the plain `airflow` CLI at it.
airflow: install
	$(BIN)/newsflow airflow

# Regenerate the lock after editing pyproject.toml dependencies.
lock: install
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--python-platform x86_64-manylinux_2_28 --no-header -o requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
