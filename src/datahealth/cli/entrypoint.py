"""The console script's entry point: run the app, free what it opened, exit the ordinary way.

The interpreter's own shutdown runs the exit handlers (Prefect stops its temporary server there) and
flushes every stream, so all output reaches a pipe and the exit code is the command's. Before that we
collect garbage once: duckdb 2.0's nanobind bindings print "leaked N instances" during interpreter
finalization for every DuckDB object still alive then, and objects held only by reference cycles (a
connection inside a failed scan's traceback, a SQLAlchemy pool in a cycle) would otherwise still be
alive. Commands close their sources and stores themselves; this catches what a cycle kept.

Any error no command handled ends as one line on stderr and exit 1; `--debug` anywhere on the command
line shows its traceback instead.
"""

from __future__ import annotations

import gc
import sys

from datahealth.cli import app
from datahealth.core.redaction import redact

DEBUG_FLAG = "--debug"


def main() -> None:
    """Run the app; an unexpected error is one line (and a hint to `--debug` for its traceback), exit 1."""
    debug = DEBUG_FLAG in sys.argv[1:]
    if debug:
        sys.argv = [arg for arg in sys.argv if arg != DEBUG_FLAG]
    code: int | str | None = 0
    try:
        app()
    except SystemExit as exc:  # click ends every command with one
        code = exc.code
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # no traceback reaches a user unless asked for
        if debug:
            raise
        print(unexpected_error(exc), file=sys.stderr)
        code = 1
    finally:
        gc.collect()
    sys.exit(code)


def unexpected_error(exc: BaseException) -> str:
    """One secret-free line for an error no command handled."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return f"error: {redact(detail)[:500]} (run again with {DEBUG_FLAG} for the traceback)"
