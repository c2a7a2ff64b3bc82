"""Stopping a statement at its time limit on engines without a statement timeout (DuckDB, SQLite).

A watchdog thread calls the connection's `interrupt()` once the limit has passed, and keeps calling it
until the guarded block ends; the query then fails and the caller reports a timeout. Engines with a
server-side limit (PostgreSQL's `statement_timeout`) do not need it.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

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
