"""Why the monitor itself could not run, in one line that says what to fix.

A deployed flow run has no CLI around it: whatever the flow raises, Prefect's engine logs with its full
traceback on the worker and in the flow run's log, where the reason is buried under fifty frames of
Prefect and SQLAlchemy. The flow instead ends in a Failed state whose message is the line built here
(the reason and the fix, secrets redacted), and logs the traceback at DEBUG only, for who asks for it
with `PREFECT_LOGGING_LEVEL=DEBUG`. `datahealth run` prints the same line.
"""

from __future__ import annotations

from datahealth.config.errors import ConfigError
from datahealth.core.redaction import redact
from datahealth.monitor.selection import SelectionError
from datahealth.store.engine import HistoryStoreError

MAX_LENGTH = 500
HISTORY_STORE_FIX = "check history.url in sla_config/ and that the store is reachable"
DEBUG_HINT = "set PREFECT_LOGGING_LEVEL=DEBUG for the traceback"


class MonitorError(RuntimeError):
    """The monitor itself failed (not the data); fails the run only with `fail_run_on_monitor_error`."""


def explain(exc: BaseException) -> str:
    """One secret-free line: what stopped the monitor and how to fix it."""
    return redact(_explain(exc))[:MAX_LENGTH]


def _explain(exc: BaseException) -> str:
    if isinstance(exc, ConfigError):
        first = str(exc.issues[0]) if exc.issues else str(exc)
        more = len(exc.issues) - 1
        rest = f" (and {more} more; `datahealth validate` lists them)" if more > 0 else ""
        return f"invalid configuration: {_one_line(first)}{rest}"
    if isinstance(exc, HistoryStoreError):
        return f"{_one_line(str(exc))} ({HISTORY_STORE_FIX})"
    if isinstance(exc, SelectionError):
        return f"{_one_line(str(exc))} (check the run's tier and datasets parameters)"
    if isinstance(exc, MonitorError):
        return _one_line(str(exc))
    text = _one_line(str(exc))
    detail = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    return f"the monitor failed with an internal error: {detail} ({DEBUG_HINT})"


def _one_line(text: str) -> str:
    return " ".join(text.split())
