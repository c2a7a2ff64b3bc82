"""`datahealth validate` covers what a run reads; read-only commands run without the sources' secrets."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
import yaml
from typer.testing import CliRunner

from datahealth.cli import app
from tests.support import postgres
from tests.support.projects import write_checks, write_project

runner = CliRunner()


def _duckdb_project(tmp_path: Path) -> Path:
    con = duckdb.connect(str(tmp_path / "wh.duckdb"))
    con.execute("CREATE TABLE customers (id INTEGER, country VARCHAR, updated_at TIMESTAMP)")
    con.close()
    return write_project(
        tmp_path,
        sources={"wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"}},
        datasets={"wh.customers": {"timestamp_column": "updated_at", "primary_key": ["id"]}},
    )


def test_a_typo_in_a_contract_makes_validate_exit_2_naming_file_line_and_key(tmp_path: Path) -> None:
    root = _duckdb_project(tmp_path)
    write_checks(
        root,
        "wh.customers",
        "columns:\n  - name: country\n    checks:\n      - invalid: {valid_vals: [NL]}\n",
    )
    result = runner.invoke(app, ["validate", "-p", str(root)])
    assert result.exit_code == 2, result.output
    assert "checks/wh/customers.yml:4 [columns.country.checks[0].invalid.valid_vals]" in result.output
    assert "did you mean 'valid_values'?" in result.output
    write_checks(
        root,
        "wh.customers",
        "columns:\n  - name: country\n    checks:\n      - invalid: {valid_values: [NL]}\n",
    )
    assert runner.invoke(app, ["validate", "-p", str(root)]).exit_code == 0


def test_a_contract_for_an_unknown_dataset_is_an_error(tmp_path: Path) -> None:
    root = _duckdb_project(tmp_path)
    write_checks(root, "wh.orders", "columns: []\n")
    result = runner.invoke(app, ["validate", "-p", str(root)])
    assert result.exit_code == 2
    assert "checks/wh/orders.yml: no dataset 'wh.orders' in sla_config" in result.output


def test_validate_connect_on_duckdb_reports_every_missing_table_and_column(tmp_path: Path) -> None:
    root = _duckdb_project(tmp_path)
    assert runner.invoke(app, ["validate", "-p", str(root), "--connect"]).exit_code == 0
    datasets = {
        "wh.customers": {"timestamp_column": "changed_at", "primary_key": ["id", "tenant"]},
        "wh.orders": {},
    }
    (root / "sla_config" / "datasets.yaml").write_text(yaml.safe_dump({"datasets": datasets}))
    assert runner.invoke(app, ["validate", "-p", str(root)]).exit_code == 0  # without --connect: config only
    result = runner.invoke(app, ["validate", "-p", str(root), "--connect"])
    assert result.exit_code == 2
    out = " ".join(result.output.split())
    assert (
        "wh.customers [timestamp_column]: column 'changed_at' does not exist (columns: country, id, updated_at)"
        in out
    )
    assert "wh.customers [primary_key]: column 'tenant' does not exist" in out
    assert "wh.orders [table]:" in out and "not found" in out


def test_validate_connect_on_postgres_names_an_unreachable_source_once(
    pg_database: str, tmp_path: Path
) -> None:
    postgres.execute(
        pg_database,
        "CREATE SCHEMA shop",
        "CREATE TABLE shop.orders (id bigint, created_at timestamp)",
        "CREATE TABLE shop.customers (id bigint)",
    )
    root = write_project(
        tmp_path,
        sources={
            "pg": {"kind": "sql", "url": postgres.sqlalchemy_url(pg_database)},
            "down": {"kind": "sql", "url": postgres.sqlalchemy_url(pg_database, port=1)},
        },
        datasets={
            "pg.orders": {"table": "shop.orders", "timestamp_column": "created_at", "primary_key": ["id"]},
            "pg.customers": {"table": "shop.customers", "required_columns": ["email"]},
            "pg.refunds": {"table": "shop.refunds"},
            "down.a": {},
            "down.b": {},
        },
    )
    result = runner.invoke(app, ["validate", "-p", str(root), "--connect"])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.startswith("error")]
    assert len(lines) == 3, result.output
    out = " ".join(result.output.split())
    assert "sources.down: cannot reach down" in out
    assert "pg.customers [required_columns]: column 'email' does not exist (columns: id)" in out
    assert "pg.refunds [table]: table shop.refunds not found in pg" in out


def test_read_only_commands_do_not_need_source_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _duckdb_project(tmp_path)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute("INSERT INTO customers VALUES (1, 'NL', TIMESTAMP '2026-10-10 05:00:00')")
    sources = {
        "wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"},
        "pg": {"kind": "sql", "url": "postgresql+psycopg://u:${DH_TEST_UNSET_PW}@127.0.0.1/x"},
    }
    (root / "sla_config" / "sources.yaml").write_text(yaml.safe_dump({"sources": sources}))
    datasets = {"wh.customers": {}, "pg.orders": {}}
    (root / "sla_config" / "datasets.yaml").write_text(yaml.safe_dump({"datasets": datasets}))
    monkeypatch.setenv("DH_TEST_UNSET_PW", "pw")
    ran = runner.invoke(app, ["run", "-p", str(root), "--no-prefect", "--no-publish", "-d", "wh.customers"])
    assert ran.exit_code == 0, ran.output
    monkeypatch.delenv("DH_TEST_UNSET_PW")
    for command in (["status"], ["incidents", "list"], ["report"], ["profile", "wh.customers"]):
        result = runner.invoke(app, [*command, "-p", str(root)])
        assert result.exit_code == 0, (command, result.output)
        assert "DH_TEST_UNSET_PW" not in result.output
    shown = runner.invoke(app, ["checks", "show", "wh.customers", "-p", str(root)])
    assert shown.exit_code == 0, shown.output
    for command in (["validate"], ["run", "--no-prefect", "--no-publish"]):
        needs = runner.invoke(app, [*command, "-p", str(root)])
        assert needs.exit_code == 2 and "environment variable DH_TEST_UNSET_PW is not set" in needs.output
