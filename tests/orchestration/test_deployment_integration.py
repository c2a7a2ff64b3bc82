"""End to end on a real Prefect server: `datahealth deploy` (work pool, limits, `prefect deploy --all`),
deployment runs picked up by `prefect worker start --run-once`, read back through the API.

The daily tier is split into two shards on one work pool; two workers take one shard run each and
share a PostgreSQL history store, which must end up holding both runs and every dataset exactly once.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from uuid import UUID

import pytest
import sqlalchemy as sa
from prefect import get_client
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId
from prefect.settings import PREFECT_API_URL, temporary_settings

from datahealth.store import HistoryStore
from datahealth.store.tables import observations, runs
from tests.orchestration.prefect_api import read_run
from tests.orchestration.prefect_server import PREFECT, PrefectServer
from tests.orchestration.projects import AS_OF, sqlite_project
from tests.support.ports import free_port
from tests.support.postgres import sqlalchemy_url

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
DATAHEALTH = str(Path(sys.executable).with_name("datahealth"))
POOL = "dh-it-pool"
WORKER = [PREFECT, "worker", "start", "--pool", POOL, "--run-once", "--limit", "1"]
TABLES = ["orders", "customers", "products"]


def wait_until(probe: Callable[[], bool], worker: Future[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        if worker.done():
            worker.result()  # surfaces the worker's failure
            return
        assert time.monotonic() < deadline, "no worker claimed a flow run"
        time.sleep(0.2)


def run(args: list[str], server: PrefectServer, cwd: Path, timeout: float = 180, **env: str) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=server.env(**env), capture_output=True, text=True, timeout=timeout
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{' '.join(args)} exited {done.returncode}:\n{output[-3000:]}"
    return output


def test_deploy_run_through_workers_and_read_back(
    tmp_path: Path, prefect_api_server: PrefectServer, pg_database: str
) -> None:
    server = prefect_api_server
    root = sqlite_project(
        tmp_path / "project",
        TABLES,
        project={"name": "deploy-it", "work_pool": POOL, "task_retry_delay": "0.1s"},
        tiers={
            "frequent": {"schedule": "*/15 * * * *", "profile": False, "checks": False, "datasets": ["*"]},
            "daily": {"schedule": "0 7 * * *", "timezone": "Europe/Berlin", "report": True, "shards": 2},
        },
        history={"url": sqlalchemy_url(pg_database)},
        publish={"prometheus": {"textfile": None}},
    )
    (root / "flows").mkdir()
    shutil.copy(REPO / "flows" / "data_health.py", root / "flows" / "data_health.py")
    out = run([DATAHEALTH, "deploy", "-p", str(root), "--write"], server, root)
    assert f"work pool {POOL}: created" in out and "source-warehouse created" in out, out
    assert "deployed frequent, daily-shard-1-of-2, daily-shard-2-of-2" in " ".join(out.split())

    with temporary_settings({PREFECT_API_URL: server.api_url}), get_client(sync_client=True) as client:
        daily = client.read_deployment_by_name("data-health/daily-shard-1-of-2")
        assert [(s.schedule.cron, s.schedule.timezone) for s in daily.schedules] == [
            ("0 7 * * *", "Europe/Berlin")
        ]
        assert daily.parameters == {
            "project_dir": ".",
            "tier": "daily",
            "datasets": None,
            "shard": 0,
            "shards": 2,
        }
        assert daily.work_pool_name == POOL
        assert client.read_global_concurrency_limit_by_name("source-warehouse").limit == 2
        flow_runs = [
            client.create_flow_run_from_deployment(
                client.read_deployment_by_name(f"data-health/daily-shard-{i}-of-2").id,
                parameters={"as_of": AS_OF},
            ).id
            for i in (1, 2)
        ]

    # two workers of one pool, one shard run each: the second starts once the first has claimed a run
    # (two `--run-once` workers polling at the same instant may race for the same run and one leaves)
    with ThreadPoolExecutor(2) as pool, temporary_settings({PREFECT_API_URL: server.api_url}):
        first = pool.submit(run, WORKER, server, tmp_path, 240)
        wait_until(lambda: any(read_run(r).state != "SCHEDULED" for r in flow_runs), first)
        second = pool.submit(run, WORKER, server, tmp_path, 240)
        outputs = [first.result(), second.result()]
        views = [read_run(flow_run) for flow_run in flow_runs]
    assert all("Worker '" in o or "worker" in o.lower() for o in outputs)
    observed: list[str] = []
    for view in views:
        assert view.state == "COMPLETED", (view.name, view.tasks)
        shard = view.parameters["shard"]
        assert view.name == f"data-health daily shard {shard + 1}/2 as of {AS_OF}"
        assert view.tasks["describe warehouse"] == ("COMPLETED", 1)
        mine = sorted(name.removeprefix("observe ") for name in view.tasks if name.startswith("observe "))
        assert all(view.tasks[f"observe {d}"][0] == "COMPLETED" for d in mine)
        observed += mine
        prefix = f"deploy-it-daily-shard-{shard + 1}-of-2"
        assert view.artifacts[f"{prefix}-summary"][0] == "markdown"
        assert f"{len(mine)} datasets" in view.artifacts[f"{prefix}-summary"][1]
        assert sorted(r["dataset"] for r in view.artifacts[f"{prefix}-datasets"][1]) == mine
        assert view.artifacts[f"{prefix}-report"][1].startswith("[Data-health report](file://")
    assert sorted(observed) == sorted(f"warehouse.{t}" for t in TABLES)

    store = HistoryStore.open(sqlalchemy_url(pg_database))
    try:
        with store.engine.connect() as conn:
            recorded = conn.execute(sa.select(runs.c.flow_run_id, runs.c.status)).all()
            datasets = conn.execute(sa.select(observations.c.dataset)).scalars().all()
    finally:
        store.close()
    assert sorted((UUID(r), s) for r, s in recorded) == sorted((r, "completed") for r in flow_runs)
    assert sorted(datasets) == sorted(f"warehouse.{t}" for t in TABLES)


def test_a_deployed_run_the_monitor_cannot_do_fails_in_one_line_without_a_traceback(
    tmp_path: Path, prefect_api_server: PrefectServer, pg_database: str
) -> None:
    """The worker's flow run cannot open its history store (the URL comes from the worker's environment):
    the run fails with the reason and the fix as its state message and one log line, no traceback in
    the worker's output or the flow run's log, and the password appears nowhere."""
    server = prefect_api_server
    password = "Hx7-wrong-pass-93"
    unreachable = f"postgresql+psycopg://monitor:{password}@127.0.0.1:{free_port()}/wh"
    root = sqlite_project(
        tmp_path / "project",
        TABLES,
        project={"name": "deploy-fail", "work_pool": POOL, "task_retry_delay": "0.1s"},
        history={"url": "${DH_TEST_HISTORY_URL}"},
        publish={"prometheus": {"textfile": None}},
    )
    (root / "flows").mkdir()
    shutil.copy(REPO / "flows" / "data_health.py", root / "flows" / "data_health.py")
    run(
        [DATAHEALTH, "deploy", "-p", str(root), "--write"],
        server,
        root,
        DH_TEST_HISTORY_URL=sqlalchemy_url(pg_database),
    )
    with temporary_settings({PREFECT_API_URL: server.api_url}), get_client(sync_client=True) as client:
        deployment = client.read_deployment_by_name("data-health/frequent")
        flow_run = client.create_flow_run_from_deployment(deployment.id, parameters={"as_of": AS_OF}).id

    worker = subprocess.run(
        WORKER,
        cwd=tmp_path,
        env=server.env(DH_TEST_HISTORY_URL=unreachable),
        capture_output=True,
        text=True,
        timeout=240,
    )
    output = worker.stdout + worker.stderr
    with temporary_settings({PREFECT_API_URL: server.api_url}), get_client(sync_client=True) as client:
        view = read_run(flow_run)
        logs = client.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run])))
    assert view.state == "FAILED", (view.state, output[-3000:])
    assert "cannot open the history store" in view.message and "check history.url" in view.message
    assert "\n" not in view.message
    assert "Traceback" not in output, output[-5000:]
    assert [line for line in output.splitlines() if "cannot open the history store" in line], output[-3000:]
    messages = [log.message for log in logs]
    assert any("cannot open the history store" in m for m in messages), messages
    assert not [m for m in messages if "Traceback" in m], messages
    for text in (output, view.message, *messages):
        assert password not in text
