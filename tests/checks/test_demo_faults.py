"""The demo's promise, checked end to end: each injected fault fails a check with its observed value, and the
clean datasets pass, using the repository's own sla_config/ and checks/ against a freshly built demo platform."""

from __future__ import annotations

import shutil
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from datahealth.config import load_project
from datahealth.core.run import RunOptions
from datahealth.demo.platform import DEMO_FAULTS, DemoPlatform
from datahealth.monitor.runner import run_monitor
from datahealth.store import HistoryStore, read

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
FAULT_DAYS = {f.kind: f.day for f in DEMO_FAULTS}
# The first day (it records the schema baseline), a clean day before the first fault, and each fault day.
MONITORED = {
    0,
    FAULT_DAYS["events_dropped"] - 1,
    FAULT_DAYS["required_nulls"] - 1,
    FAULT_DAYS["stops_loading"] - 1,
    *FAULT_DAYS.values(),
}


@pytest.fixture(scope="module")
def demo_checks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("demo")
    shutil.copytree(REPO / "sla_config", root / "sla_config")
    shutil.copytree(REPO / "checks", root / "checks")
    project = load_project(root)
    platform = DemoPlatform(root / "demo", scale=0.05)
    platform.reset()
    by_day: dict[int, dict[str, dict[str, dict[str, Any]]]] = {}
    truth: dict[str, float] = {}
    for day in range(max(MONITORED) + 1):
        platform.append_day(day)
        if day not in MONITORED:
            continue
        as_of = platform.load_time(day).replace(tzinfo=UTC) + timedelta(hours=2)
        run_monitor(project, as_of=as_of, options=RunOptions(profile=False, publish=False))
        store = HistoryStore.open(project.config.history.url, project.root)
        try:
            latest = read.latest_observations(store)
            rows = read.checks_of(store, [o.id for o in latest.values()])
            by_day[day] = {o.dataset: {r.name: r for r in rows[o.id]} for o in latest.values()}
        finally:
            store.close()
        if day == FAULT_DAYS["duplicate_rows"]:
            with duckdb.connect(str(platform.warehouse_path), read_only=True) as con:
                truth["null_customer_ids"] = con.execute(
                    "SELECT count(*) FROM email_events WHERE customer_id IS NULL"
                ).fetchone()[0]
                truth["duplicate_customer_ids"] = con.execute(
                    "SELECT count(*) - count(DISTINCT customer_id) FROM customers"
                ).fetchone()[0]
    return {"by_day": by_day, "truth": truth}


def _not_passing(day_results: dict[str, dict[str, dict[str, Any]]]) -> dict[tuple[str, str], str]:
    return {
        (dataset, name): r.outcome
        for dataset, checks in day_results.items()
        for name, r in checks.items()
        if r.outcome != "pass"
    }


def test_every_check_passes_before_the_first_fault(demo_checks: dict[str, Any]) -> None:
    by_day = demo_checks["by_day"]
    dropped = FAULT_DAYS["events_dropped"]  # its reconciliation fails that day: see below
    for day in sorted(d for d in by_day if d < FAULT_DAYS["required_nulls"] and d != dropped):
        assert _not_passing(by_day[day]) == {}, day
    before = by_day[FAULT_DAYS["required_nulls"] - 1]
    assert before["lake.clickstream"]["schema"].outcome == "pass"
    assert len(before["warehouse.customers"]) == 11  # 7 from checks/warehouse/customers.yml + 4 generated


def test_each_fault_fails_a_check_with_its_observed_value(demo_checks: dict[str, Any]) -> None:
    by_day, truth = demo_checks["by_day"], demo_checks["truth"]
    nulls = by_day[FAULT_DAYS["required_nulls"]]["warehouse.email_events"]["customer_id.missing"]
    assert (nulls.outcome, nulls.origin) == ("fail", "generated")
    assert nulls.observed_value == truth["null_customer_ids"] > 0

    dupes = by_day[FAULT_DAYS["duplicate_rows"]]["warehouse.customers"]
    assert (dupes["customer_id.duplicate"].outcome, dupes["customer_id.duplicate"].observed_value) == (
        "fail",
        truth["duplicate_customer_ids"],
    )
    assert truth["duplicate_customer_ids"] == 25
    assert dupes["email.duplicate"].outcome == "fail"  # the user's contract sees the same re-sent rows

    stale = by_day[FAULT_DAYS["stops_loading"]]["warehouse.purchases"]["freshness"]
    assert stale.outcome == "fail" and stale.observed_value > 30 and stale.threshold == "< 30 hours"
    assert by_day[FAULT_DAYS["stops_loading"] - 1]["warehouse.purchases"]["freshness"].outcome == "pass"

    missing = by_day[FAULT_DAYS["events_dropped"]]["lake.clickstream"]["reconcile stream.clickstream"]
    assert missing.outcome == "fail" and missing.origin == "reconcile"
    assert missing.observed_value == missing.details["rows"] - missing.details["against_rows"] < 0
    assert 0.02 < -missing.observed_value / missing.details["against_rows"] < 0.04  # about 3 % dropped
    assert (
        missing.details["method"].startswith("file footers")
        and missing.details["against_method"] == "kafka offsets"
    )
    assert "stream.clickstream" in missing.message and "fewer" in missing.message
    before = by_day[FAULT_DAYS["events_dropped"] - 1]["lake.clickstream"]["reconcile stream.clickstream"]
    assert (before.outcome, before.observed_value) == ("pass", 0.0)  # every event of the day before arrived

    drift = by_day[FAULT_DAYS["schema_drift"]]["lake.clickstream"]["schema"]
    assert (drift.outcome, drift.observed_value, drift.check_type) == ("fail", 2.0, "schema")
    assert drift.message == "added: experiment_id; type changed: duration_ms bigint -> varchar"


def test_only_the_faults_fail_and_nothing_errors(demo_checks: dict[str, Any]) -> None:
    expected = {
        ("warehouse.email_events", "customer_id.missing"): FAULT_DAYS["required_nulls"],
        ("warehouse.customers", "customer_id.duplicate"): FAULT_DAYS["duplicate_rows"],
        ("warehouse.customers", "email.duplicate"): FAULT_DAYS["duplicate_rows"],
        ("warehouse.purchases", "freshness"): FAULT_DAYS["stops_loading"],
        ("lake.clickstream", "schema"): FAULT_DAYS["schema_drift"],
    }
    on_the_day = {("lake.clickstream", "reconcile stream.clickstream"): FAULT_DAYS["events_dropped"]}
    for day, results in demo_checks["by_day"].items():
        failing = _not_passing(results)
        assert set(failing.values()) <= {"fail"}, (day, failing)
        assert set(failing) == {key for key, since in expected.items() if day >= since} | {
            key for key, on in on_the_day.items() if day == on
        }, day
        assert not any(dataset in ("warehouse.products", "lake.crm_exports") for dataset, _ in failing)
