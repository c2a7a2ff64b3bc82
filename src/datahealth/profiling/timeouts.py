"""Statement time limits for profile queries, enforced by the engine rather than hoped for.

A profile is the one query datahealth sends that reads every row, so it is the one that must never
run away on a busy warehouse. PostgreSQL gets `statement_timeout` set for the profile's transaction
only (`set_config(..., is_local => true)`), on top of the source-wide default from the connection.
DuckDB and SQLite have no statement timeout, so a watchdog thread calls the connection's `interrupt()`
when the limit passes; the query then fails and the profile becomes a timeout error for that dataset.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import sqlalchemy as sa

from datahealth.config.models import DatasetConfig
from datahealth.core.durations import format_duration
from datahealth.core.results import ErrorKind
from datahealth.sources.base import DatasetError

_REPEAT_SECONDS = 0.05


@dataclass
class Watch:
    """Whether the watchdog fired: an error raised after it fired is a timeout, whatever its text."""

    seconds: float | None
    fired: bool = False


@contextlib.contextmanager
def watchdog(seconds: float | None, interrupt: Callable[[], None]) -> Iterator[Watch]:
    """Call `interrupt()` once `seconds` have passed, and again every 50 ms until the block exits.

    Repeating matters: an interrupt that lands while the driver is still preparing the statement (a busy
    host can take longer than a short limit) is a no-op, and the query would then run unbounded.
    """
    watch = Watch(seconds)
    if not seconds or seconds <= 0:
        yield watch
        return
    done = threading.Event()

    def run() -> None:
        if done.wait(seconds):
            return
        watch.fired = True
        while not done.is_set():
            interrupt()
            done.wait(_REPEAT_SECONDS)

    thread = threading.Thread(target=run, name="datahealth-profile-watchdog", daemon=True)
    thread.start()
    try:
        yield watch
    finally:
        done.set()
        thread.join()


def set_local_statement_timeout(conn: sa.Connection, seconds: float) -> None:
    """PostgreSQL: limit every statement of the current transaction (bound value, reset at its end)."""
    milliseconds = max(1, int(seconds * 1000))
    conn.execute(sa.select(sa.func.set_config("statement_timeout", str(milliseconds), True)))


@contextlib.contextmanager
def sql_time_limit(conn: sa.Connection, method: str, seconds: float | None) -> Iterator[Watch]:
    """Apply the dialect's time-limit `method` ('statement_timeout', 'interrupt' or 'none') to `conn`."""
    if method == "statement_timeout" and seconds:
        set_local_statement_timeout(conn, seconds)
        yield Watch(seconds)
        return
    if method == "interrupt":
        driver = conn.connection.driver_connection
        interrupt = getattr(driver, "interrupt", None)
        if interrupt is not None:
            with watchdog(seconds, interrupt) as watch:
                yield watch
            return
    yield Watch(None)


def timeout_seconds(dataset: DatasetConfig, source_default: float | None) -> float | None:
    """The dataset's `profile.timeout`, else its source's `statement_timeout`."""
    if dataset.profile.timeout is not None:
        return dataset.profile.timeout.total_seconds()
    return source_default


def timeout_error(dataset: DatasetConfig, seconds: float | None) -> DatasetError:
    if not seconds:
        limit = "its time limit"
    else:
        limit = f"{seconds * 1000:.0f}ms" if seconds < 1 else format_duration(seconds)
    return DatasetError(
        f"profiling {dataset.name} timed out after {limit} (profile.timeout or the source's "
        "statement_timeout); the query was cancelled",
        ErrorKind.TIMEOUT,
    )
