"""Picklable handles to a `MonitorRun`, so tasks work on threads and on Dask workers alike.

A `MonitorRun` holds engines, locks and a history store: it cannot travel to another process, and Dask
serialises every task's arguments even on an in-process cluster. Tasks therefore receive a small
`RunHandle` and look the run up in this process's registry. In the flow's own process that is the run
the flow planned; in a Dask worker process it is a run *attached* to the same history-store run id,
opened once per process from the project directory (which must be reachable there: same checkout path,
PostgreSQL history store).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from datahealth.config import load_project
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import MonitorRun


@dataclass(frozen=True)
class RunHandle:
    """Everything a task needs to find (or re-open) its run; small and picklable."""

    run_id: str
    project_dir: str
    as_of: datetime
    tier: str | None
    options: RunOptions


_runs: dict[str, MonitorRun] = {}
_lock = threading.Lock()


def register(run: MonitorRun) -> RunHandle:
    """Make `run` reachable by its tasks in this process."""
    with _lock:
        _runs[run.run_id] = run
    return RunHandle(run.run_id, str(Path(run.project.root).resolve()), run.as_of, run.tier, run.options)


def unregister(handle: RunHandle) -> None:
    with _lock:
        _runs.pop(handle.run_id, None)


def resolve(handle: RunHandle) -> MonitorRun:
    """The run for `handle`: the registered one, or one attached to it in this (worker) process."""
    with _lock:
        run = _runs.get(handle.run_id)
        if run is None:
            project = load_project(handle.project_dir)
            run = MonitorRun(
                project, [], handle.as_of, options=handle.options, tier=handle.tier, run_id=handle.run_id
            )
            _runs[handle.run_id] = run
        return run
