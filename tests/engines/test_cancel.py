"""The watchdog that stops statements on engines without a statement timeout (DuckDB, SQLite)."""

from __future__ import annotations

import threading
import time

import pytest

from datahealth.engines.cancel import watchdog


def test_watchdog_interrupts_until_the_block_ends() -> None:
    calls: list[float] = []
    released = threading.Event()

    def interrupt() -> None:
        calls.append(time.monotonic())
        if len(calls) == 3:  # the "query" only notices the third interrupt (the first two landed too early)
            released.set()

    with watchdog(0.01, interrupt) as watch:
        assert released.wait(5)
    count = len(calls)
    assert watch.fired and count >= 3
    time.sleep(0.15)
    assert len(calls) == count  # nothing fires after the block


def test_watchdog_without_a_limit_never_fires() -> None:
    with watchdog(None, lambda: pytest.fail("interrupted")) as watch:
        pass
    assert not watch.fired
