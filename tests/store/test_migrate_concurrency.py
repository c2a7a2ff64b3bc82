"""Any number of first runs on a new SQLite history store succeed: one migrates, the others wait and see.

Before the migration lock file, about half of such trials failed with "table alembic_version already
exists": Python's sqlite3 runs DDL outside a transaction, so SQLite's write lock did not serialise them.
Then about one trial in 50 failed with "database is locked": a connection switching the new file to WAL
while another process migrated it was refused at once (tests/engines/test_sqlite.py pins that case);
twenty trials of eight processes make such a rare race likely to show.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from datahealth.store import HistoryStore
from datahealth.store.migrate import head_revision

PROCESSES = 8
TRIALS = 20


def _open_store(url: str, barrier: Any, results: Any) -> None:
    barrier.wait()  # every process opens the store at the same moment
    try:
        store = HistoryStore.open(url)
        store.close()
        results.put("ok")
    except Exception as exc:  # the failure is the finding: report it to the test
        results.put(f"{type(exc).__name__}: {exc}")


@pytest.mark.parametrize("trial", range(TRIALS))
def test_concurrent_first_runs_on_a_new_sqlite_store_all_succeed(tmp_path: Path, trial: int) -> None:
    path = tmp_path / "history.db"
    url = f"sqlite:///{path}"
    context = multiprocessing.get_context("fork")
    barrier, results = context.Barrier(PROCESSES), context.Queue()
    workers = [context.Process(target=_open_store, args=(url, barrier, results)) for _ in range(PROCESSES)]
    for worker in workers:
        worker.start()
    outcomes = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    assert outcomes == ["ok"] * PROCESSES
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all() == [
                head_revision()
            ]
    finally:
        engine.dispose()
