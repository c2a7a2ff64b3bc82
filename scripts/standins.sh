#!/usr/bin/env bash
# Creates the virtualenvs of the local stand-ins the warehouse tests and the demo start (idempotent; `make test`
# runs it for both, `DATAHEALTH_DEMO_ENGINE=snowflake make demo` for the one it needs):
#
#   scripts/standins.sh [fakesnow] [bqemulator]     # no name: both
#
#   .cache/standins/fakesnow     fakesnow (Snowflake)  from requirements/standins/fakesnow.lock
#   .cache/standins/bqemulator   bqemulator (BigQuery) from requirements/standins/bqemulator.lock
#
# Each has its own environment because its pins clash with datahealth's (see the .in files). bqemulator
# needs DuckDB's spatial extension, which DuckDB would download on first use: it is installed from its wheel
# once, into the stand-in's own HOME (.cache/standins/bqemulator/home), never into the user's ~/.duckdb.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="${DATAHEALTH_STANDINS:-.cache/standins}"
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null 2>&1 || PYTHON=python3
mkdir -p "$ROOT"

ensure_venv() {  # name: (re)install when the lock changed since the last install
  local name="$1" lock="requirements/standins/$1.lock" venv="$ROOT/$1"
  local stamp="$venv/.installed"
  if [ -f "$stamp" ] && cmp -s "$lock" "$stamp"; then
    return 0
  fi
  echo "installing the $name stand-in into $venv"
  [ -x "$venv/bin/python" ] || uv venv --quiet --python "$PYTHON" "$venv"
  uv pip sync --quiet --require-hashes --compile-bytecode --python "$venv/bin/python" "$lock"
  cp "$lock" "$stamp"
}

NAMES=("$@")
[ ${#NAMES[@]} -gt 0 ] || NAMES=(fakesnow bqemulator)
for name in "${NAMES[@]}"; do
  case "$name" in
    fakesnow | bqemulator) ensure_venv "$name" ;;
    *) echo "unknown stand-in $name (known: fakesnow, bqemulator)" >&2; exit 2 ;;
  esac
done
[[ " ${NAMES[*]} " == *" bqemulator "* ]] || exit 0

BQ_HOME="$ROOT/bqemulator/home"
if [ ! -f "$BQ_HOME/.extensions-installed" ]; then
  mkdir -p "$BQ_HOME"
  HOME="$(cd "$BQ_HOME" && pwd)" "$ROOT/bqemulator/bin/python" - <<'PY'
import duckdb
import duckdb_extensions

con = duckdb.connect()
for name in ("spatial", "avro"):
    duckdb_extensions.import_extension(name, con=con)
PY
  touch "$BQ_HOME/.extensions-installed"
fi
