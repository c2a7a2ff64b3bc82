#!/usr/bin/env bash
# Creates .venv and installs the locked dependencies plus datahealth itself (editable).
# uv resolves prefect's certifi pin through overrides.txt when the lock is (re)compiled; installing
# from requirements.lock needs no resolution at all.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
if ! command -v uv >/dev/null 2>&1; then
  echo "installing uv (the package installer) with pip"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check uv
fi
[ -x "$VENV/bin/python" ] || uv venv --quiet --python "$PYTHON" "$VENV"
uv pip sync --quiet --python "$VENV/bin/python" requirements.lock
uv pip install --quiet --python "$VENV/bin/python" --no-deps -e .
