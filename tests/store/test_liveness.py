"""A run that died is found by the next one: its row marked `interrupted` (with when it was last seen),
and a delivery it had claimed put back in the queue at once, with a word in the next run's warnings."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from datahealth.store import HistoryStore, deliveries, liveness
from datahealth.store.tables import deliveries as deliveries_table
from datahealth.store.tables import runs

T0 = datetime(2026, 10, 5, 6, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[HistoryStore]:
    opened = HistoryStore.open(f"sqlite:///{tmp_path / 'history.db'}")
    yield opened
    opened.close()


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def status_of(store: HistoryStore, run_id: str) -> tuple[str, dict[str, object] | None]:
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(runs.c.status, runs.c.summary).where(runs.c.id == run_id)).one()
    return row.status, row.summary


def test_a_run_whose_process_died_is_marked_interrupted_with_its_last_seen_time(store: HistoryStore) -> None:
    owner = {"host": socket.gethostname(), "pid": dead_pid()}
    run_id = store.start_run(T0, owner=owner)
    [found] = liveness.mark_interrupted(store)
    assert found.run_id == run_id
    status, summary = status_of(store, run_id)
    assert status == "interrupted" and summary is not None and "last_seen" in summary["interrupted"]  # type: ignore[operator]
    assert "was interrupted; last seen" in found.describe()
    assert liveness.mark_interrupted(store) == []  # reported once


def test_a_live_run_and_a_recent_run_elsewhere_are_left_alone(store: HistoryStore) -> None:
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        mine = store.start_run(T0, owner={"host": socket.gethostname(), "pid": alive.pid})
        elsewhere = store.start_run(T0, owner={"host": "another-host", "pid": 1})
        assert liveness.mark_interrupted(store) == []
        assert status_of(store, mine)[0] == status_of(store, elsewhere)[0] == "running"
        later = datetime.now(UTC) + liveness.STALE_AFTER + timedelta(minutes=1)
        [stale] = liveness.mark_interrupted(store, now=later)  # silent for too long: gone
        assert stale.run_id == elsewhere and status_of(store, mine)[0] == "running"
    finally:
        alive.kill()
        alive.wait()


def test_a_delivery_claimed_by_a_dead_process_is_requeued_at_once(store: HistoryStore) -> None:
    delivery_id = deliveries.enqueue(store, channel="slack", target="#x", kind="post", payload={"text": "t"})
    assert deliveries.claim(store, delivery_id)
    assert deliveries.release_expired(store, "slack") == 0  # our own claim: we are alive
    with store.engine.begin() as conn:
        conn.execute(
            deliveries_table.update().values(external_ref=f"claimed by {socket.gethostname()}:{dead_pid()}")
        )
    assert deliveries.release_expired(store, "slack") == 1
    assert [d.id for d in deliveries.pending(store, "slack")] == [delivery_id]
