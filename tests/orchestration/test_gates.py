"""Quality gates: the verdict rules, waiting, and a real downstream flow stopped, skipped or let through."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prefect import flow, task

from datahealth.config import load_project
from datahealth.core.results import Status, StoredObservation
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor
from datahealth.orchestration.gates import judge, resolve_datasets
from datahealth.prefect import UnhealthyInputs, require_healthy, wait_for_healthy
from tests.orchestration.prefect_api import read_run
from tests.orchestration.projects import AS_OF, sqlite_project

STALE_AS_OF = "2026-10-06T07:00:00+00:00"  # newest rows 26 h old: past the 12 h error SLA → fail
NOW = datetime(2026, 10, 6, 8, tzinfo=UTC)
QUICK = RunOptions(profile=False, checks=False, publish=False)


def _obs(dataset: str, status: Status, as_of: datetime = NOW) -> StoredObservation:
    return StoredObservation(
        id=1,
        run_id="r",
        dataset=dataset,
        source=dataset.split(".")[0],
        as_of=as_of,
        status=status,
        row_count=3,
        last_updated=as_of,
        freshness_lag_seconds=0.0,
        columns=(),
        checks_failed=0,
        error=None,
        error_kind=None,
        details={},
    )


def test_verdict_names_each_unhealthy_input_and_why() -> None:
    observations = {
        "w.ok": _obs("w.ok", Status.OK),
        "w.warn": _obs("w.warn", Status.WARN),
        "w.failing": _obs("w.failing", Status.FAIL),
        "w.old": _obs("w.old", Status.OK, NOW - timedelta(hours=5)),
    }
    names = ["w.ok", "w.warn", "w.failing", "w.old", "w.new"]
    verdict = judge(names, observations, NOW, max_age=timedelta(hours=2))
    assert not verdict.healthy
    assert sorted(verdict.problems) == ["w.failing", "w.new", "w.old"]
    assert verdict.problems["w.new"] == "never observed by datahealth"
    assert verdict.problems["w.failing"].startswith(f"status {Status.FAIL.value}")
    assert verdict.describe().startswith(
        f"3 of 5 input datasets unhealthy: w.failing: status {Status.FAIL.value}"
    )
    assert "w.warn" in judge(names, observations, NOW, fail_on=Status.WARN).problems
    assert judge(["w.ok", "w.warn"], observations, NOW).healthy


def test_a_pattern_matching_nothing_is_an_error_not_an_open_gate(tmp_path: Path) -> None:
    project = load_project(sqlite_project(tmp_path, ["orders", "customers"]))
    assert resolve_datasets(project, ["warehouse.*"]) == ["warehouse.customers", "warehouse.orders"]
    with pytest.raises(ValueError, match="'warehouse.ordr' matches no dataset"):
        resolve_datasets(project, ["warehouse.ordr"])


def test_waiting_ends_when_the_monitor_sees_the_inputs_healthy_again(tmp_path: Path) -> None:
    root = sqlite_project(tmp_path, ["orders"])
    project = load_project(root)
    run_monitor(project, as_of=STALE_AS_OF, options=QUICK)
    polls: list[str] = []

    def late_load_arrives(verdict: object) -> None:  # the upstream load lands, the next monitor run sees it
        polls.append(str(verdict))
        with sqlite3.connect(root / "data" / "warehouse.db") as conn:
            conn.execute("INSERT INTO orders (id, updated_at) VALUES (99, '2026-10-06 07:30:00')")
        run_monitor(project, as_of="2026-10-06T08:00:00+00:00", options=QUICK)

    verdict = wait_for_healthy(
        ["warehouse.orders"],
        root,
        timeout=timedelta(minutes=5),
        poll_every=timedelta(0),
        on_poll=late_load_arrives,
    )
    assert verdict.healthy and len(polls) == 1
    gave_up = wait_for_healthy(["warehouse.*", "warehouse.orders"], root, timeout=timedelta(0))
    assert gave_up.healthy and gave_up.datasets == ("warehouse.orders",)


sent: list[str] = []


@task
def send_campaign(name: str) -> str:
    sent.append(name)
    return name


@flow
def campaign_send(project_dir: str, on_unhealthy: str) -> str:
    verdict = require_healthy(["warehouse.orders"], project_dir=project_dir, on_unhealthy=on_unhealthy)
    if not verdict.healthy:
        return "skipped"
    return send_campaign("autumn")


@pytest.mark.slow
@pytest.mark.usefixtures("prefect_harness")
def test_a_downstream_flow_is_stopped_skipped_or_let_through_by_the_gate(tmp_path: Path) -> None:
    root = sqlite_project(tmp_path, ["orders"])
    project = load_project(root)
    run_monitor(project, as_of=AS_OF, options=QUICK)  # newest rows 2 h old: healthy
    sent.clear()
    assert campaign_send(str(root), "fail") == "autumn" and sent == ["autumn"]

    run_monitor(project, as_of=STALE_AS_OF, options=QUICK)
    sent.clear()
    stopped = campaign_send(str(root), "fail", return_state=True)
    assert stopped.is_failed() and sent == []
    with pytest.raises(UnhealthyInputs, match=f"warehouse.orders: status {Status.FAIL.value}"):
        stopped.result()
    view = read_run(stopped.state_details.flow_run_id)
    assert view.tasks == {"require healthy ['warehouse.orders']": ("FAILED", 1)}

    skipped = campaign_send(str(root), "skip", return_state=True)
    assert skipped.is_completed() and skipped.result() == "skipped" and sent == []
    gate = read_run(skipped.state_details.flow_run_id)
    assert gate.tasks == {"require healthy ['warehouse.orders']": ("COMPLETED", 1)}
    assert gate.task_states == {"require healthy ['warehouse.orders']": "Skipped"}
