"""Scale-out paths: per-source limits shared by flow runs, shards over a PostgreSQL history store, Dask."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from prefect import get_client

from datahealth.core.results import Status
from datahealth.orchestration import handles
from datahealth.orchestration.flow import data_health
from datahealth.orchestration.scaling import SourceSlots, ensure_concurrency_limits
from datahealth.store import HistoryStore
from datahealth.store.tables import observations, runs
from tests.orchestration.prefect_api import read_run
from tests.orchestration.projects import AS_OF, sqlite_project
from tests.support.postgres import sqlalchemy_url

pytestmark = pytest.mark.usefixtures("prefect_harness")
TABLES = ["a", "b", "c", "d", "e"]


def test_limits_are_created_once_and_a_run_takes_only_the_free_slots() -> None:
    assert ensure_concurrency_limits({"source-slots-test": 3}) == ["source-slots-test"]
    assert ensure_concurrency_limits({"source-slots-test": 5}) == []  # an existing (tuned) limit stays
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name("source-slots-test").limit == 3
        other = client.increment_concurrency_slots_with_lease(  # another worker holds two slots
            names=["source-slots-test"], slots=2, mode="concurrency", lease_duration=60
        ).json()["lease_id"]
        slots = SourceSlots(enabled=True)
        try:
            assert slots.reserve("slots-test", 3) == 1
            assert client.read_global_concurrency_limit_by_name("source-slots-test").active_slots == 3
        finally:
            slots.release_all()
            client.release_concurrency_slots_with_lease(lease_id=other)
        assert client.read_global_concurrency_limit_by_name("source-slots-test").active_slots == 0
    assert SourceSlots(enabled=False).reserve("anything", 4) == 4


@pytest.mark.slow
def test_shards_split_the_work_and_share_a_postgres_history(tmp_path: Path, pg_database: str) -> None:
    root = sqlite_project(
        tmp_path,
        TABLES,
        project={"name": "shards", "task_retry_delay": "0.1s"},
        history={"url": sqlalchemy_url(pg_database)},
    )
    seen = []
    for shard in range(2):
        state = data_health(
            project_dir=str(root), tier="frequent", as_of=AS_OF, shard=shard, shards=2, return_state=True
        )
        assert state.is_completed()
        seen.append(sorted(d["dataset"] for d in state.result()["datasets"]))
        view = read_run(state.state_details.flow_run_id)
        assert view.name == f"data-health frequent shard {shard + 1}/2 as of {AS_OF}"
        assert f"shards-frequent-shard-{shard + 1}-of-2-summary" in view.artifacts
    assert seen == [["warehouse.a", "warehouse.c", "warehouse.e"], ["warehouse.b", "warehouse.d"]]
    store = HistoryStore.open(sqlalchemy_url(pg_database))
    try:
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(runs)).scalar() == 2
            assert sorted(conn.execute(sa.select(observations.c.dataset)).scalars()) == [
                f"warehouse.{t}" for t in TABLES
            ]
    finally:
        store.close()


@pytest.mark.slow
def test_the_dask_task_runner_runs_the_same_flow(tmp_path: Path) -> None:
    root = sqlite_project(
        tmp_path,
        TABLES[:3],
        project={"name": "dask", "task_retry_delay": "0.1s"},
        extra_datasets={"warehouse.gone": {"table": "gone"}},
    )
    state = data_health(
        project_dir=str(root), tier="frequent", as_of=AS_OF, task_runner="dask", return_state=True
    )
    assert state.is_completed()
    result = state.result()
    assert {d["dataset"]: d["status"] for d in result["datasets"]} == {
        "warehouse.a": "ok",
        "warehouse.b": "ok",
        "warehouse.c": "ok",
        "warehouse.gone": "unknown",
    }
    view = read_run(state.state_details.flow_run_id)
    assert sorted(view.tasks) == [
        "describe warehouse",
        "observe warehouse.a",
        "observe warehouse.b",
        "observe warehouse.c",
        "observe warehouse.gone",
    ]
    assert all(state_type == "COMPLETED" for state_type, _ in view.tasks.values())
    assert "dask-frequent-datasets" in view.artifacts


def test_an_unknown_task_runner_fails_the_run_with_the_choices(tmp_path: Path) -> None:
    root = sqlite_project(tmp_path, ["a"], project={"name": "runner"})
    state = data_health(project_dir=str(root), task_runner="ray", return_state=True)
    assert state.is_failed() and "task_runner 'ray' is not one of: threads, dask" in state.message


@pytest.mark.slow
def test_the_flow_runs_on_a_real_dask_cluster_of_two_worker_processes(
    tmp_path: Path, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scheduler and two worker processes (TCP on loopback), as `dask-scheduler` + 2 `dask-worker`:
    tasks travel as picklable handles, each worker re-opens the project and writes nothing itself; the
    flow records every dataset once in the PostgreSQL history store."""
    from distributed import Client, LocalCluster

    root = sqlite_project(
        tmp_path,
        TABLES,
        project={"name": "dask-cluster", "task_retry_delay": "0.1s"},
        history={"url": sqlalchemy_url(pg_database)},
        extra_datasets={"warehouse.gone": {"table": "gone"}},
    )
    with (
        LocalCluster(
            n_workers=2,
            threads_per_worker=2,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",
        ) as cluster,
        Client(cluster) as client,
    ):
        monkeypatch.setenv("DATAHEALTH_DASK_ADDRESS", cluster.scheduler_address)
        state = data_health(
            project_dir=str(root), tier="daily", as_of=AS_OF, task_runner="dask", return_state=True
        )
        attached = client.run(lambda: sorted(handles._runs))  # each worker process's attached runs
        worker_pids = set(client.run(os.getpid).values())
    assert state.is_completed(), state.message
    result = state.result()
    statuses = {d["dataset"]: d["status"] for d in result["datasets"]}
    assert statuses == {
        **{f"warehouse.{t}": Status.OK.value for t in TABLES},
        "warehouse.gone": Status.UNKNOWN.value,
    }
    assert len(worker_pids) == 2 and os.getpid() not in worker_pids
    assert sum(1 for runs_seen in attached.values() if result["run_id"] in runs_seen) >= 1, attached
    view = read_run(state.state_details.flow_run_id)
    assert view.task_states["observe warehouse.gone"] == "Unreadable"
    store = HistoryStore.open(sqlalchemy_url(pg_database))
    try:
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(runs)).scalar() == 1
            recorded = sorted(conn.execute(sa.select(observations.c.dataset)).scalars())
    finally:
        store.close()
    assert recorded == sorted(statuses)
