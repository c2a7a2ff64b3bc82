# datahealth — the two commands a new user types are `make demo` and `make test`.
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
export SODA_CORE_TELEMETRY_ENABLED ?= false
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS ?= 180

.PHONY: install system-deps services demo test test-fast bench lint format lock clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	scripts/bootstrap-python.sh
	@touch $@

system-deps:
	scripts/install-system-deps.sh

services: system-deps
	scripts/ensure-postgres.sh

demo: install
	$(BIN)/datahealth demo
	$(BIN)/datahealth status

test: install services
	$(PY) -m pytest $(PYTEST_ARGS)

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

lock:
	uv pip compile pyproject.toml --extra dev --override overrides.txt --no-header --no-annotate -o requirements.lock

clean:
	rm -rf $(VENV) .datahealth demo reports/*.html reports/*.prom reports/*.json
