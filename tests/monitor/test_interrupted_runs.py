"""No run stays `running`: one that breaks is recorded `failed`; the run after a killed one marks it
`interrupted` and names it in its warnings."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from datahealth.config import load_project
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import MonitorRun, run_monitor
from datahealth.store import HistoryStore
from datahealth.store.tables import runs
from tests.support.projects import write_project


def test_the_next_run_marks_and_reports_an_interrupted_run(tmp_path: Path) -> None:
    with sqlite3.connect(tmp_path / "wh.db") as conn:
        conn.execute("CREATE TABLE orders (id INTEGER, loaded_at TIMESTAMP)")
    root = write_project(tmp_path, {"wh": {"kind": "sql", "url": "sqlite:///wh.db"}}, {"wh.orders": {}})
    project = load_project(root)
    killed = subprocess.Popen([sys.executable, "-c", "pass"])
    killed.wait()
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        dead_run = store.start_run(
            datetime(2026, 10, 5, tzinfo=UTC), owner={"host": socket.gethostname(), "pid": killed.pid}
        )
    finally:
        store.close()
    summary = run_monitor(project, options=RunOptions(profile=False, checks=False, report=False))
    assert [w for w in summary.warnings if "interrupted" in w] == [
        w for w in summary.warnings if w.startswith(f"run {dead_run} ") and "marked interrupted" in w
    ]
    assert any(dead_run in w for w in summary.warnings)
    again = run_monitor(project, options=RunOptions(profile=False, checks=False, report=False))
    assert not any(dead_run in w for w in again.warnings)


def test_a_run_that_breaks_is_recorded_failed_not_left_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sqlite3.connect(tmp_path / "wh.db") as conn:
        conn.execute("CREATE TABLE orders (id INTEGER, loaded_at TIMESTAMP)")
    project = load_project(
        write_project(tmp_path, {"wh": {"kind": "sql", "url": "sqlite:///wh.db"}}, {"wh.orders": {}})
    )

    def broken(self: MonitorRun, results: object) -> None:
        raise RuntimeError("evaluation broke")

    monkeypatch.setattr(MonitorRun, "finish", broken)
    with pytest.raises(RuntimeError, match="evaluation broke"):
        run_monitor(project, options=RunOptions(profile=False, checks=False, report=False))
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        with store.engine.connect() as conn:
            [(status, summary)] = conn.execute(sa.select(runs.c.status, runs.c.summary)).all()
    finally:
        store.close()
    assert status == "failed" and summary["error"] == "RuntimeError: evaluation broke"
