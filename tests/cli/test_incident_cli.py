"""`datahealth incidents list|show|ack|snooze` and `datahealth schema show|accept` on a real project."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from datahealth.cli import app
from datahealth.config import load_project
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor

OPTIONS = RunOptions(profile=False, checks=False, publish=False)


@pytest.fixture
def project(tmp_path: Path, orders_database: Path) -> Path:
    """The orders table goes stale, then gains a column: a freshness and a schema incident."""
    database = orders_database
    loaded = load_project(tmp_path)
    run_monitor(loaded, as_of="2026-10-01T07:30:00Z", options=OPTIONS)
    with sqlite3.connect(database) as conn:
        conn.execute("ALTER TABLE orders ADD COLUMN note TEXT")
    run_monitor(loaded, as_of="2026-10-03T07:30:00Z", options=OPTIONS)
    return tmp_path


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_list_show_ack_snooze(project: Path) -> None:
    code, output = invoke("incidents", "list", "-p", str(project), "--format", "json")
    assert code == 0
    listed = json.loads(output)
    assert sorted(i["kind"] for i in listed) == ["freshness", "schema_change"]
    stale = next(i for i in listed if i["kind"] == "freshness")
    assert stale["status"] == "open" and stale["severity"] == "error"

    code, output = invoke("incidents", "list", "-p", str(project))
    assert code == 0 and "warehouse.orders is stale" in output and "schema changed" in output

    code, output = invoke(
        "incidents", "ack", str(stale["id"]), "-p", str(project), "--for", "4h", "--by", "ana"
    )
    assert code == 0 and "acknowledged until" in output
    code, output = invoke("incidents", "show", str(stale["id"]), "-p", str(project), "--format", "json")
    shown = json.loads(output)
    assert shown["status"] == "acknowledged" and shown["acknowledged_by"] == "ana" and shown["quiet_until"]
    assert [e["event"] for e in shown["events"]] == ["opened", "acknowledged"]

    schema = next(i for i in listed if i["kind"] == "schema_change")
    code, output = invoke("incidents", "snooze", str(schema["id"]), "-p", str(project), "--for", "1d")
    assert code == 0 and "snoozed until" in output
    code, output = invoke("incidents", "show", str(schema["id"]), "-p", str(project))
    assert code == 0 and "column note added" in output and "snoozed" in output


def test_clear_errors(project: Path) -> None:
    code, output = invoke("incidents", "show", "999", "-p", str(project))
    assert code == 2 and "no incident 999" in output
    code, output = invoke("incidents", "ack", "1", "-p", str(project), "--for", "soon")
    assert code == 2 and "--for: 'soon' is not a duration" in output
    code, output = invoke("incidents", "list", "-p", str(project), "--status", "closed")
    assert code == 2 and "--status must be open, resolved or all" in output
    code, output = invoke("schema", "accept", "warehouse.nope", "-p", str(project))
    assert code == 2 and "unknown dataset" in output


def test_schema_show_and_accept_resolve_on_the_next_run(project: Path) -> None:
    code, output = invoke("schema", "show", "warehouse.orders", "-p", str(project))
    assert (
        code == 0 and "column note added" in output and "datahealth schema accept warehouse.orders" in output
    )
    code, output = invoke("schema", "accept", "warehouse.orders", "-p", str(project))
    assert code == 0 and "accepted the schema seen 2026-10-03 07:30 (3 columns)" in output
    code, output = invoke("schema", "show", "warehouse.orders", "-p", str(project), "--format", "json")
    assert json.loads(output)["changes"] == []
    run_monitor(load_project(project), as_of="2026-10-03T08:30:00Z", options=OPTIONS)
    code, output = invoke("incidents", "list", "-p", str(project), "--status", "resolved", "--format", "json")
    assert [i["kind"] for i in json.loads(output)] == ["schema_change"]
    code, output = invoke("status", "-p", str(project), "--format", "json")
    [row] = json.loads(output)
    assert row["status"] == "fail" and row["open_incidents"] == 1 and "stale" in row["problem"]


def test_a_limited_list_says_how_many_it_left_out(project: Path) -> None:
    result = CliRunner().invoke(
        app, ["incidents", "list", "-p", str(project), "--limit", "1", "--format", "json"]
    )
    assert result.exit_code == 0
    assert len(json.loads(result.stdout)) == 1  # stdout stays plain JSON
    assert "showing 1 of 2 incidents, newest first" in result.stderr
    everything = CliRunner().invoke(app, ["incidents", "list", "-p", str(project), "--format", "json"])
    assert len(json.loads(everything.stdout)) == 2 and "showing" not in everything.stderr
