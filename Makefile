# datahealth — the two commands a new user types are `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
export SODA_CORE_TELEMETRY_ENABLED ?= false
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 180

.PHONY: install install-runtime system-deps services standins demo test test-fast bench lint format lock clean

# Two locked sets (requirements/*.lock, names + versions + hashes): `runtime` is what `datahealth` needs
# to run (make demo); `dev` adds pytest, ruff, mypy, Playwright and the benchmark tools. dev is a
# superset of runtime, so installing it also satisfies the runtime stamp.
install: $(VENV)/.installed-dev

install-runtime: $(VENV)/.installed-runtime

$(VENV)/.installed-runtime: requirements/runtime.lock pyproject.toml
	@rm -f $(VENV)/.installed-dev
	scripts/bootstrap-python.sh runtime
	@touch $@

$(VENV)/.installed-dev: requirements/dev.lock pyproject.toml
	scripts/bootstrap-python.sh dev
	@touch $@ $(VENV)/.installed-runtime

system-deps:
	scripts/install-system-deps.sh

services: system-deps
	scripts/ensure-postgres.sh
	scripts/ensure-rabbitmq.sh
	scripts/ensure-mariadb.sh

# The local stand-ins of cloud warehouses (fakesnow, bqemulator), each in its own virtualenv under
# .cache/standins; the tests start them on free loopback ports.
standins:
	scripts/standins.sh
	scripts/azurite.sh

# DATAHEALTH_DEMO_LAKE=s3|azure|gcs puts the demo's lake on a local stand-in (docs/lakes.md), and
# DATAHEALTH_DEMO_ENGINE=snowflake|bigquery|mariadb runs the demo's warehouse on one: the dev set has the
# lake and warehouse extras; the warehouse stand-ins need their own virtualenv or the machine's MariaDB.
export DATAHEALTH_DEMO_ENGINE
DEMO_INSTALL := $(if $(or $(DATAHEALTH_DEMO_LAKE),$(filter snowflake bigquery,$(DATAHEALTH_DEMO_ENGINE))),install,install-runtime)

demo: $(DEMO_INSTALL)
	$(if $(filter snowflake,$(DATAHEALTH_DEMO_ENGINE)),scripts/standins.sh fakesnow)
	$(if $(filter bigquery,$(DATAHEALTH_DEMO_ENGINE)),scripts/standins.sh bqemulator)
	$(if $(filter mariadb,$(DATAHEALTH_DEMO_ENGINE)),scripts/ensure-mariadb.sh)
	$(BIN)/datahealth demo
	$(BIN)/datahealth status

test: install services standins
	$(PY) -m pytest --durations=25 $(PYTEST_ARGS)

test-fast: install
	$(PY) -m pytest -m "not integration" $(PYTEST_ARGS)

bench: install services
	$(PY) bench/run.py

lint: install
	$(BIN)/ruff check src tests bench flows
	$(BIN)/ruff format --check src tests bench flows
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests bench flows
	$(BIN)/ruff check --fix src tests bench flows

# Recompile both locks for Python 3.11 (the version the README names), keeping the pinned versions
# unless `make lock LOCK_ARGS=--upgrade`; dev.lock is constrained by runtime.lock so the two agree.
# overrides.txt: see "Installing" in the README.
LOCK_FLAGS := --python-version 3.11 --override overrides.txt --generate-hashes --annotation-style line $(LOCK_ARGS)
lock:
	uv pip compile pyproject.toml $(LOCK_FLAGS) -o requirements/runtime.lock
	uv pip compile pyproject.toml --extra dev -c requirements/runtime.lock $(LOCK_FLAGS) -o requirements/dev.lock
	for standin in fakesnow bqemulator; do \
	  uv pip compile requirements/standins/$$standin.in $(LOCK_FLAGS) -o requirements/standins/$$standin.lock; \
	done

clean:
	rm -rf $(VENV) .cache .datahealth demo reports/*.html reports/*.prom reports/*.json
