"""The console script's entry point: run the app, free what it opened, exit the ordinary way.

The interpreter's own shutdown runs the exit handlers (Prefect stops its temporary server there) and
flushes every stream, so all output reaches a pipe and the exit code is the command's. Before that we
collect garbage once: duckdb 2.0's nanobind bindings print "leaked N instances" during interpreter
finalization for every DuckDB object still alive then, and objects held only by reference cycles (a
connection inside a failed scan's traceback, a SQLAlchemy pool in a cycle) would otherwise still be
alive. Commands close their sources and stores themselves; this catches what a cycle kept.
"""

from __future__ import annotations

import gc
import sys

from datahealth.cli import app


def main() -> None:
    code: int | str | None = 0
    try:
        app()
    except SystemExit as exc:  # click ends every command with one
        code = exc.code
    except KeyboardInterrupt:
        code = 130
    finally:
        gc.collect()
    sys.exit(code)
