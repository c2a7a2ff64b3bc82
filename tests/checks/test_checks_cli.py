"""`datahealth checks show`: the effective contract with user and generated checks marked."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from datahealth.cli import app
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor
from tests.checks.conftest import ORDERS_SQL, duck_project, make_warehouse
from tests.support.projects import write_checks

runner = CliRunner()


def _project(tmp_path: Path) -> Path:
    make_warehouse(tmp_path / "wh.duckdb", ORDERS_SQL.format(table="orders"))
    project = duck_project(
        tmp_path,
        {
            "wh.orders": {
                "primary_key": ["id"],
                "required_columns": ["email"],
                "checks": {"row_count_min_days": 2},
            }
        },
    )
    write_checks(
        tmp_path,
        "wh.orders",
        "# the team's rules\ncolumns:\n  - name: status  # order state\n"
        "    checks:\n      - invalid: {valid_values: [paid, open, refunded]}\n",
    )
    return project.root


def test_show_prints_the_effective_contract_marked_user_and_generated(tmp_path: Path) -> None:
    root = _project(tmp_path)
    result = runner.invoke(app, ["checks", "show", "wh.orders", "-p", str(root)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "# wh.orders: 1 user checks from checks/wh/orders.yml, 2 generated"
    assert "# schema: no accepted schema snapshot yet (the first run records one)" in lines
    assert "# row_count bounds need 2 days of history, 0 so far" in lines
    assert "# the team's rules" in lines and "dataset: wh/main/orders  # derived from sla_config" in lines
    assert "  - name: status  # order state" in lines
    assert "      - invalid: {valid_values: [paid, open, refunded]}" in lines
    assert "  - name: id  # generated: primary key" in lines
    assert "      - duplicate: {}  # generated: primary_key_duplicates (primary key)" in lines
    assert "      - missing: {}  # generated: required_columns_missing (required column)" in lines


def test_show_after_runs_includes_history_and_json_names_origins(tmp_path: Path) -> None:
    root = _project(tmp_path)
    from datahealth.config import load_project

    project = load_project(root)
    for as_of in ("2026-01-03T06:00:00Z", "2026-01-04T06:00:00Z"):
        run_monitor(project, as_of=as_of, options=RunOptions(profile=False, publish=False))
    result = runner.invoke(
        app,
        ["checks", "show", "wh.orders", "-p", str(root), "--format", "json", "--as-of", "2026-01-05T06:00Z"],
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["qualified_name"] == "wh/main/orders"
    assert {c["name"]: (c["origin"], c["switch"]) for c in document["checks"]} == {
        "status.invalid": ("user", None),
        "id.duplicate": ("generated", "primary_key_duplicates"),
        "email.missing": ("generated", "required_columns_missing"),
        "schema": ("generated", "schema"),
        "row_count": ("generated", "row_count_bounds"),
    }
    assert "data_type: decimal\n    numeric_precision: 10\n    numeric_scale: 2" in document["yaml"]
    assert "  - name: status  # order state\n    checks:" in document["yaml"]
    # added to the user's own entry:
    assert "    data_type: varchar  # generated: accepted schema" in document["yaml"]


def test_show_errors_are_one_line_with_exit_codes(tmp_path: Path) -> None:
    root = _project(tmp_path)
    unknown = runner.invoke(app, ["checks", "show", "wh.nope", "-p", str(root)])
    assert unknown.exit_code == 2 and "unknown dataset 'wh.nope'" in unknown.output
    write_checks(root, "wh.orders", "columns: [\n")
    broken = runner.invoke(app, ["checks", "show", "wh.orders", "-p", str(root)])
    assert broken.exit_code == 0
    assert "checks/wh/orders.yml line 2: invalid YAML" in broken.output
