"""One incident per cause, in whole runs on DuckDB: findings that share a cause fold into one incident that
carries all the evidence, and a second, different change to an open incident is a thread reply."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from datahealth.config.models import Project
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor
from datahealth.store import HistoryStore
from tests.checks.conftest import duck_project, make_warehouse
from tests.support.fake_slack import FakeSlack
from tests.support.projects import write_checks

OPTIONS = RunOptions(profile=False, publish=False)
TOKEN_ENV = "DH_TEST_CAUSE_SLACK_TOKEN"


def _incidents(project: Project) -> list[dict[str, Any]]:
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(sa.text("SELECT id, kind, subject, status, severity, details FROM incidents"))
            found = [dict(r._mapping) for r in rows]
            kept = conn.execute(sa.text("SELECT fingerprint, details FROM findings ORDER BY id"))
            findings = [(f, json.loads(d) if isinstance(d, str) else d) for f, d in kept]
    finally:
        store.close()
    for incident in found:
        details = incident["details"]
        incident["details"] = json.loads(details) if isinstance(details, str) else details
        incident["finding"] = next(
            (d for f, d in reversed(findings) if f.endswith(f"|{incident['kind']}|{incident['subject']}")), {}
        )
    return found


def test_a_stale_table_with_a_freshness_check_is_one_incident(tmp_path: Path) -> None:
    make_warehouse(
        tmp_path / "wh.duckdb",
        "CREATE TABLE orders (id BIGINT, created_at TIMESTAMP)",
        "INSERT INTO orders VALUES (1, '2026-01-01 10:00'), (2, '2026-01-02 10:00')",
    )
    project = duck_project(
        tmp_path,
        {"wh.orders": {"timestamp_column": "created_at", "sla": {"warn_after": "1d", "error_after": "2d"}}},
    )
    write_checks(
        tmp_path,
        "wh.orders",
        "checks:\n  - freshness: {column: created_at, threshold: {unit: hour, must_be_less_than: 24}}\n",
    )
    run_monitor(project, as_of="2026-01-06T00:00:00Z", options=OPTIONS)
    [incident] = _incidents(project)
    assert (incident["kind"], incident["subject"], incident["status"]) == ("freshness", "sla", "open")
    assert incident["details"]["freshness_checks"] == ["freshness"]  # both evidences on one incident
    assert incident["finding"]["lag_seconds"] > 0


def test_the_freshness_check_alone_raises_the_same_freshness_incident(tmp_path: Path) -> None:
    make_warehouse(
        tmp_path / "wh.duckdb",
        "CREATE TABLE orders (id BIGINT, created_at TIMESTAMP)",
        "INSERT INTO orders VALUES (1, '2026-01-04 10:00')",
    )
    project = duck_project(
        tmp_path, {"wh.orders": {"timestamp_column": "created_at", "sla": {"error_after": "5d"}}}
    )
    write_checks(
        tmp_path,
        "wh.orders",
        "checks:\n  - freshness: {column: created_at, threshold: {unit: hour, must_be_less_than: 6}}\n",
    )
    run_monitor(project, as_of="2026-01-05T00:00:00Z", options=OPTIONS)
    [incident] = _incidents(project)
    assert (incident["kind"], incident["subject"]) == ("freshness", "sla")
    run_monitor(
        project, as_of="2026-01-05T00:15:00Z", options=RunOptions(profile=False, publish=False, checks=False)
    )
    [incident] = _incidents(project)
    assert incident["status"] == "open"  # the SLA alone being fine does not resolve the check's staleness


def test_rows_duplicated_across_the_key_columns_are_one_incident(tmp_path: Path) -> None:
    make_warehouse(
        tmp_path / "wh.duckdb",
        "CREATE TABLE customers (id BIGINT, email VARCHAR)",
        "INSERT INTO customers SELECT range, 'c' || range || '@x.io' FROM range(100)",
        "INSERT INTO customers SELECT range, 'c' || range || '@x.io' FROM range(25)",  # 25 rows loaded twice
    )
    project = duck_project(tmp_path, {"wh.customers": {"primary_key": ["id"]}})
    write_checks(tmp_path, "wh.customers", "columns:\n  - {name: email, checks: [{duplicate: {}}]}\n")
    run_monitor(project, as_of="2026-01-05T00:00:00Z", options=OPTIONS)
    [incident] = _incidents(project)
    assert incident["subject"] == "id.duplicate"
    assert incident["details"]["duplicate_checks"] == ["id.duplicate", "email.duplicate"]
    assert [r["subject"] for r in incident["finding"]["related"]] == ["email.duplicate"]


def test_a_null_spike_and_the_missing_check_on_its_column_are_one_incident(tmp_path: Path) -> None:
    make_warehouse(tmp_path / "wh.duckdb", "CREATE TABLE events (id BIGINT, country VARCHAR)")
    project = duck_project(
        tmp_path,
        {"wh.events": {"anomaly": {"min_training_runs": 3}, "profile": {"every": "run"}}},
    )
    write_checks(
        tmp_path,
        "wh.events",
        "columns:\n  - {name: country, checks: [{missing: {threshold: {metric: percent, must_be_less_than: 5}}}]}\n",
    )
    start = datetime(2026, 1, 1, 6, tzinfo=UTC)
    for day in range(8):
        nulls = 40 if day == 7 else day % 2  # a null spike on the last day
        make_warehouse(
            tmp_path / "wh.duckdb",
            f"INSERT INTO events SELECT range, CASE WHEN range < {nulls} THEN NULL ELSE 'DE' END FROM range(100)",
        )
        options = RunOptions(publish=False)
        run_monitor(project, as_of=(start + timedelta(days=day)).isoformat(), options=options)
    open_ = [i for i in _incidents(project) if i["status"] == "open"]
    assert [(i["kind"], i["subject"]) for i in open_] == [("check", "country.missing")]
    related = open_[0]["finding"]["related"]
    assert any(r["kind"] == "anomaly" and "null" in r["subject"] for r in related)


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        monkeypatch.setenv(TOKEN_ENV, fake.token)
        yield fake


def test_a_second_schema_change_is_a_thread_reply(tmp_path: Path, slack: FakeSlack) -> None:
    make_warehouse(
        tmp_path / "wh.duckdb", "CREATE TABLE t (id BIGINT, a INTEGER)", "INSERT INTO t VALUES (1, 1)"
    )
    project = duck_project(
        tmp_path,
        {"wh.t": {"primary_key": ["id"]}},
        publish={
            "prometheus": {"textfile": None},
            "slack": {"token_env": TOKEN_ENV, "base_url": slack.api_url, "default_channel": "#data"},
        },
    )
    options = RunOptions(profile=False)
    run_monitor(project, as_of="2026-01-05T00:00:00Z", options=options)
    make_warehouse(tmp_path / "wh.duckdb", "ALTER TABLE t ADD COLUMN extra INTEGER")
    run_monitor(project, as_of="2026-01-05T01:00:00Z", options=options)
    [original] = slack.top_level("#data")
    assert "extra" in json.dumps(original.blocks)
    make_warehouse(tmp_path / "wh.duckdb", "ALTER TABLE t ALTER COLUMN a TYPE BIGINT")
    run_monitor(project, as_of="2026-01-05T02:00:00Z", options=options)
    assert len(slack.top_level("#data")) == 1  # not a new alert, and not silence either:
    [reply] = slack.replies(original)
    assert "a" in reply.text and "Severity raised from warn to error" in reply.text
    [incident] = _incidents(project)
    assert incident["severity"] == "error" and len(incident["details"]["changes"]) == 2
