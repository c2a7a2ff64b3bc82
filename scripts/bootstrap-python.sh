#!/usr/bin/env bash
# Creates .venv and installs one locked dependency set, then datahealth itself (editable).
#
#   scripts/bootstrap-python.sh runtime   # requirements/runtime.lock: what `datahealth` needs to run
#   scripts/bootstrap-python.sh dev       # requirements/dev.lock: runtime + tests, linters, benchmarks
#
# The locks pin names, versions and sha256 hashes (uv checks every download against them); installing
# needs no resolution at all. `make lock` recompiles them (see the Makefile and overrides.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
SET="${1:-dev}"
case "$SET" in
  runtime | dev) ;;
  *) echo "usage: $0 runtime|dev" >&2; exit 2 ;;
esac
LOCK="requirements/$SET.lock"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! command -v uv >/dev/null 2>&1; then
  echo "installing uv (the package installer) with pip"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check uv
fi
[ -x "$VENV/bin/python" ] || uv venv --quiet --python "$PYTHON" "$VENV"
# sync: exactly the lock (a runtime install after a dev one removes the dev tools again).
# --compile-bytecode writes every module's .pyc now: where PYTHONDONTWRITEBYTECODE is set (CI images,
# containers) Python would otherwise compile Prefect and SQLAlchemy from source on every command, which
# doubles the time of a short `datahealth run`.
uv pip sync --quiet --require-hashes --compile-bytecode --python "$VENV/bin/python" "$LOCK"
uv pip install --quiet --python "$VENV/bin/python" --no-deps -e .
"$VENV/bin/python" -m compileall -q -j 0 src
