"""Run handles: what a task on another process (a Dask worker) uses to find its run."""

from __future__ import annotations

import pickle
from pathlib import Path

import sqlalchemy as sa

from datahealth.config import load_project
from datahealth.core.results import TableMeta
from datahealth.core.run import RunOptions
from datahealth.core.timeparse import parse_as_of
from datahealth.monitor.runner import MonitorRun
from datahealth.orchestration import handles
from datahealth.store.tables import runs
from tests.orchestration.projects import AS_OF, sqlite_project


def test_a_handle_travels_by_pickle_and_attaches_to_the_same_run(tmp_path: Path) -> None:
    project = load_project(sqlite_project(tmp_path, ["orders"]))
    run = MonitorRun(
        project, project.datasets, parse_as_of(AS_OF), options=RunOptions(profile=False, checks=False)
    )
    handle = handles.register(run)
    try:
        assert handles.resolve(handle) is run
        copy = pickle.loads(pickle.dumps(handle))
        handles.unregister(handle)  # as in a fresh worker process: nothing registered
        attached = handles.resolve(copy)
        assert attached is not run and attached.run_id == run.run_id and attached.options == run.options
        dataset = project.dataset("warehouse.orders")
        meta = attached.describe("warehouse", [dataset])["warehouse.orders"]
        assert isinstance(meta, TableMeta)
        assert attached.monitor(dataset, meta).observation.row_count == 3
        with run.store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(runs)).scalar() == 1  # no second run
        handles.unregister(copy)
        attached.close()
    finally:
        run.close()
