"""Unknown is not healthy: a check that errors or is not evaluated never resolves the incident it re-checks.

Whole runs on real engines: a typo'd contract key on DuckDB, and a PostgreSQL source that goes away between
observing the table and the Soda scan. The incident stays open, is marked "could not verify since …" once,
and the dataset's status says why in the run summary, `status --format json` and the stored observation.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from datahealth.cli.app import app
from datahealth.config import load_project
from datahealth.config.models import Project
from datahealth.core.results import Status
from datahealth.core.run import RunOptions, RunSummary
from datahealth.monitor import runner as monitor_runner
from datahealth.monitor.runner import run_monitor
from datahealth.store import HistoryStore
from tests.checks.conftest import duck_project, make_warehouse
from tests.support import postgres
from tests.support.projects import write_checks, write_project

OPTIONS = RunOptions(profile=False, publish=False)
CUSTOMERS = """
CREATE TABLE customers (id BIGINT, country VARCHAR);
INSERT INTO customers VALUES (1, 'DE'), (2, 'FR'), (3, 'XX');
"""
CONTRACT = "columns:\n  - {name: country, checks: [{invalid: {%s: [DE, FR, NL]}}]}\n"


def _incidents(project: Project) -> list[dict[str, Any]]:
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, subject, status, details FROM incidents ORDER BY id"))
            incidents = [dict(r._mapping) for r in rows]
            events = conn.execute(sa.text("SELECT incident_id, event FROM incident_events ORDER BY id"))
            timeline = [tuple(r) for r in events]
    finally:
        store.close()
    for incident in incidents:
        details = incident["details"]
        incident["details"] = json.loads(details) if isinstance(details, str) else details
        incident["events"] = [event for number, event in timeline if number == incident["id"]]
    return incidents


def _one(incidents: list[dict[str, Any]], subject: str) -> dict[str, Any]:
    [found] = [i for i in incidents if i["subject"] == subject]
    return found


def test_a_typo_in_the_contract_keeps_the_invalid_incident_open(tmp_path: Path) -> None:
    make_warehouse(tmp_path / "wh.duckdb", CUSTOMERS)
    project = duck_project(tmp_path, {"wh.customers": {"primary_key": ["id"]}})
    write_checks(tmp_path, "wh.customers", CONTRACT % "valid_values")
    run_monitor(project, as_of="2026-01-05T00:00:00Z", options=OPTIONS)
    assert _one(_incidents(project), "country.invalid")["status"] == "open"

    write_checks(tmp_path, "wh.customers", CONTRACT % "valid_vals")  # the bad row is still in the table
    for hour in ("01", "02"):
        summary = run_monitor(project, as_of=f"2026-01-05T{hour}:00:00Z", options=OPTIONS)
    invalid = _one(_incidents(project), "country.invalid")
    assert invalid["status"] == "open" and invalid["events"] == ["opened", "unverified"]  # marked once
    assert invalid["details"]["unverified_since"].startswith("2026-01-05T01:00")
    assert "valid" in invalid["details"]["unverified_reason"]
    [dataset] = summary.datasets
    assert dataset.status == Status.UNKNOWN and dataset.error and "orders.yml" not in dataset.error
    assert "customers.yml" in dataset.error

    status = CliRunner().invoke(app, ["status", "-p", str(tmp_path), "--format", "json"])
    assert status.exit_code == 0, status.output
    [row] = json.loads(status.stdout)
    assert row["status"] == Status.UNKNOWN and row["error"] and "customers.yml" in row["error"]

    write_checks(tmp_path, "wh.customers", CONTRACT % "valid_values")  # fixed: the same incident goes on
    run_monitor(project, as_of="2026-01-05T03:00:00Z", options=OPTIONS)
    incidents = _incidents(project)
    assert [i["id"] for i in incidents if i["subject"] == "country.invalid"] == [invalid["id"]]
    again = _one(incidents, "country.invalid")
    assert again["status"] == "open" and "unverified_since" not in again["details"]
    assert "resolved" not in again["events"]


@pytest.fixture
def pg_customers(pg_database: str, tmp_path: Path) -> Iterator[Project]:
    postgres.execute(
        pg_database,
        "CREATE SCHEMA shop",
        "CREATE TABLE shop.customers (id bigint, country text)",
        "INSERT INTO shop.customers VALUES (1, 'DE'), (2, 'FR'), (3, 'XX')",
    )
    write_project(
        tmp_path,
        sources={"pg": {"kind": "sql", "url": postgres.sqlalchemy_url(pg_database)}},
        datasets={"pg.customers": {"table": "shop.customers", "primary_key": ["id"]}},
    )
    write_checks(tmp_path, "pg.customers", CONTRACT % "valid_values")
    yield load_project(tmp_path)
    postgres.execute("postgres", f'ALTER DATABASE "{pg_database}" ALLOW_CONNECTIONS true')


def test_a_source_lost_before_the_scan_resolves_nothing(
    pg_customers: Project, pg_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_monitor(pg_customers, as_of="2026-01-05T00:00:00Z", options=OPTIONS)
    assert _one(_incidents(pg_customers), "country.invalid")["status"] == "open"

    checks_stage = monitor_runner.checks_stage

    def source_dies_then_check(*args: Any) -> None:  # after observe, before the Soda scan
        postgres.execute(
            "postgres",
            f'ALTER DATABASE "{pg_database}" ALLOW_CONNECTIONS false',
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            f"WHERE datname = '{pg_database}' AND pid <> pg_backend_pid()",
        )
        checks_stage(*args)

    monkeypatch.setattr(monitor_runner, "checks_stage", source_dies_then_check)
    summary: RunSummary = run_monitor(pg_customers, as_of="2026-01-05T01:00:00Z", options=OPTIONS)
    invalid = _one(_incidents(pg_customers), "country.invalid")
    assert invalid["status"] == "open" and invalid["events"] == ["opened", "unverified"]
    [dataset] = summary.datasets
    assert dataset.status == Status.UNKNOWN and dataset.error  # the reason, never empty
