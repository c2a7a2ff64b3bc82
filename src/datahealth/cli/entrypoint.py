"""The console script's entry point: run the app, then leave without interpreter teardown noise.

duckdb 2.0's nanobind bindings print "leaked N instances" warnings while the interpreter finalizes,
after every command that touched DuckDB. They are harmless but bury the command's real output, so
after the command finishes we run the registered exit handlers ourselves (Prefect stops its ephemeral
server there, logging flushes) and end the process without the finalization that prints them.
"""

from __future__ import annotations

import atexit
import os
import sys


def main() -> None:
    from datahealth.cli import app

    code = 0
    try:
        app()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except KeyboardInterrupt:
        code = 130
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
