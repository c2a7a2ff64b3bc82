"""The `data_health` flow under the session's Prefect test server: what the UI shows, and when it fails."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest
import sqlalchemy as sa

from datahealth.orchestration.flow import data_health
from datahealth.store import HistoryStore
from datahealth.store.tables import runs
from tests.orchestration.prefect_api import read_run
from tests.orchestration.projects import AS_OF, sqlite_project
from tests.support.postgres import execute, sqlalchemy_url

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("prefect_harness")]
SETTINGS = {"name": "flow-test", "task_retries": 1, "task_retry_delay": "0.1s"}


def test_data_problems_complete_the_run_and_read_as_a_story(tmp_path: Path) -> None:
    root = sqlite_project(
        tmp_path,
        ["orders", "customers"],
        project=SETTINGS,
        extra_sources={"offline": {"kind": "sql", "url": f"sqlite:///{tmp_path / 'nowhere.db'}"}},
        extra_datasets={"warehouse.gone": {"table": "gone"}, "offline.events": {"table": "events"}},
        publish={"prometheus": {"textfile": None}},
    )
    state = data_health(project_dir=str(root), tier="daily", as_of=AS_OF, return_state=True)
    assert state.is_completed()
    result = state.result()
    by_name = {d["dataset"]: d for d in result["datasets"]}
    assert by_name["offline.events"]["error_kind"] == "unreachable"
    assert by_name["warehouse.gone"]["error_kind"] == "missing"
    assert result["counts"]["unknown"] == 2

    view = read_run(state.state_details.flow_run_id)
    assert view.name == "data-health daily as of 2026-10-05T07:00:00+00:00"
    assert view.tasks == {
        "describe warehouse": ("COMPLETED", 1),
        "describe offline": ("COMPLETED", 2),  # unreachable: retried once, then recorded as an error result
        "observe warehouse.orders": ("COMPLETED", 1),
        "observe warehouse.customers": ("COMPLETED", 1),
        "observe warehouse.gone": ("COMPLETED", 1),
        "observe offline.events": ("COMPLETED", 1),
    }
    summary_type, summary = view.artifacts["flow-test-daily-summary"]
    assert (
        summary_type == "markdown"
        and "| 🛑 unknown | 2 |" in summary
        and "offline.events** (unreachable)" in summary
    )
    table_type, table = view.artifacts["flow-test-daily-datasets"]
    assert table_type == "table" and [r["status"] for r in table][:2] == ["unknown", "unknown"]
    assert {r["dataset"]: r["rows"] for r in table}["warehouse.orders"] == 3
    reasons = {r["dataset"]: r["reason"] for r in table}
    assert (
        reasons["warehouse.gone"]
        and "gone" in reasons["warehouse.gone"]
        and reasons["warehouse.orders"] is None
    )
    # the UI says what is wrong without failing anything: named task states, the run's state message
    assert view.task_states["observe warehouse.gone"] == "Unreadable"
    assert view.task_states["observe warehouse.orders"] == "Completed"
    assert view.message.startswith(
        "2 of 4 datasets failing: offline.events (unknown), warehouse.gone (unknown)"
    )
    link_type, link = view.artifacts["flow-test-daily-report"]
    assert link_type == "markdown" and link.startswith("[Data-health report](file://")
    report = Path(url2pathname(urlparse(link[link.index("(") + 1 : -1]).path))
    assert report.is_file() and report.parent == root / "reports"


def test_a_sweep_tier_observes_only_and_times_out_a_slow_dataset(tmp_path: Path) -> None:
    slow = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 8000000) "
        "SELECT datetime('2026-10-05 06:00:00') FROM c ORDER BY x DESC LIMIT 1"
    )
    root = sqlite_project(
        tmp_path,
        ["orders"],
        project={**SETTINGS, "task_timeout": "1s"},
        extra_datasets={"warehouse.slow": {"table": "orders", "loaded_at_query": slow}},
        publish={"prometheus": {"textfile": None}},
    )
    state = data_health(project_dir=str(root), tier="frequent", as_of=AS_OF, return_state=True)
    assert state.is_completed()
    by_name = {d["dataset"]: d for d in state.result()["datasets"]}
    assert by_name["warehouse.slow"]["error_kind"] == "timeout"
    assert by_name["warehouse.slow"]["error"] == "monitoring warehouse.slow exceeded the task timeout of 1s"
    assert by_name["warehouse.orders"]["status"] == "ok"
    view = read_run(state.state_details.flow_run_id)
    assert view.tasks["observe warehouse.slow"][0] == "FAILED"  # TimedOut is a failed state
    assert "flow-test-frequent-report" not in view.artifacts  # a sweep renders no report


def test_the_flow_fails_only_when_the_monitor_itself_cannot_work(tmp_path: Path) -> None:
    broken = sqlite_project(
        tmp_path / "config",
        ["orders"],
        project=SETTINGS,
        extra_datasets={"warehouse.bad": {"table": "orders", "tier": "nope"}},
    )
    state = data_health(project_dir=str(broken), as_of=AS_OF, return_state=True)
    assert state.is_failed() and "unknown tier 'nope'" in state.message

    unreachable = sqlite_project(
        tmp_path / "store",
        ["orders"],
        project=SETTINGS,
        history={"url": "postgresql+psycopg://postgres@127.0.0.1:1/none"},
    )
    state = data_health(project_dir=str(unreachable), as_of=AS_OF, return_state=True)
    assert state.is_failed() and "cannot open the history store" in state.message


@pytest.mark.parametrize("strict", [True, False])
def test_a_publisher_failure_fails_the_run_only_when_configured(tmp_path: Path, strict: bool) -> None:
    root = sqlite_project(
        tmp_path,
        ["orders"],
        project={**SETTINGS, "fail_run_on_monitor_error": strict},
        tiers={"daily": {"report": True, "email": True}},  # email required, no SMTP host
        publish={"prometheus": {"textfile": None}},
    )
    state = data_health(project_dir=str(root), tier="daily", as_of=AS_OF, return_state=True)
    assert state.is_failed() is strict
    if strict:
        assert "the monitor itself failed: publisher email: EmailDeliveryError" in state.message
    store = HistoryStore.open(f"sqlite:///{root / '.datahealth' / 'history.db'}")
    try:
        with store.engine.connect() as conn:
            finished = conn.execute(sa.select(runs.c.status)).scalars().all()
    finally:
        store.close()
    assert finished == ["completed"]  # everything was recorded before the flow failed


def test_a_connection_lost_while_observing_is_retried_then_recorded(tmp_path: Path, pg_database: str) -> None:
    execute(
        pg_database,
        "CREATE TABLE orders (id int, updated_at timestamp)",
        "INSERT INTO orders VALUES (1, '2026-10-05 05:00')",
    )
    drop = "SELECT pg_terminate_backend(pg_backend_pid())"  # the server ends the session mid-query
    root = sqlite_project(
        tmp_path,
        ["customers"],
        project=SETTINGS,
        publish={"prometheus": {"textfile": None}},
        extra_sources={"pg": {"kind": "sql", "url": sqlalchemy_url(pg_database)}},
        extra_datasets={
            "pg.orders": {"table": "public.orders", "timestamp_column": "updated_at"},
            "pg.dropping": {"table": "public.orders", "loaded_at_query": drop},
        },
    )
    state = data_health(project_dir=str(root), tier="frequent", as_of=AS_OF, return_state=True)
    assert state.is_completed()
    by_name = {d["dataset"]: d for d in state.result()["datasets"]}
    assert by_name["pg.dropping"]["error_kind"] == "unreachable"
    assert by_name["pg.orders"]["rows"] == 1 and by_name["warehouse.customers"]["rows"] == 3
    view = read_run(state.state_details.flow_run_id)
    assert view.tasks["observe pg.dropping"] == ("COMPLETED", 2)  # retried once, then an error result
    assert view.tasks["observe pg.orders"] == ("COMPLETED", 1)
