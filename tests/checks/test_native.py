"""Generated checks computed by datahealth where soda-core has no plugin, on the machine's real MariaDB."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from datahealth.checks.native import contract_issues
from datahealth.cli.app import app
from datahealth.config import load_project
from datahealth.core.results import CheckOutcome
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor
from tests.checks.conftest import check_dataset
from tests.support import mariadb
from tests.support.projects import write_checks, write_project

ORDERS = (
    "CREATE TABLE orders (id INT, region VARCHAR(10), email VARCHAR(50), updated_at DATETIME)",
    "INSERT INTO orders VALUES (1, 'eu', 'a@x.io', '2026-01-01 10:00:00'), (2, 'eu', NULL, '2026-01-02 10:00:00'),"
    " (2, 'eu', 'b@x.io', '2026-01-03 10:00:00'), (3, 'us', 'c@x.io', '2026-01-04 10:00:00'),"
    " (3, 'us', 'd@x.io', '2026-01-04 11:00:00')",
)


def test_readme_mariadb_source_is_monitored_from_its_url_alone(mariadb_database: str, tmp_path: Path) -> None:
    """README: "Monitoring a MySQL or MariaDB table": the source URL and a primary key, nothing else."""
    mariadb.execute(mariadb_database, *ORDERS)
    write_project(
        tmp_path,
        {"shop": {"kind": "sql", "url": mariadb.sqlalchemy_url(mariadb_database)}},
        {"shop.orders": {"primary_key": ["id"]}},
    )
    summary = run_monitor(
        load_project(tmp_path), as_of="2026-01-05T00:00:00Z", options=RunOptions(publish=False)
    )
    [result] = summary.datasets
    assert result.status == "fail"  # the generated duplicate check found ids 2 and 3 twice
    assert (result.rows, result.checks_failed, result.error) == (5, 1, None)


def test_one_statement_finds_duplicates_on_a_composite_key_and_missing_values(
    mariadb_database: str, tmp_path: Path
) -> None:
    mariadb.execute(mariadb_database, *ORDERS)
    write_project(
        tmp_path,
        {"shop": {"kind": "sql", "url": mariadb.sqlalchemy_url(mariadb_database)}},
        {"shop.orders": {"primary_key": ["id", "region"], "required_columns": ["email", "nowhere"]}},
    )
    results = check_dataset(load_project(tmp_path), "shop.orders")
    duplicate, missing = results["duplicate"], results["email.missing"]
    assert (duplicate.outcome, duplicate.observed_value, duplicate.threshold) == (
        CheckOutcome.FAIL,
        2.0,
        "= 0",
    )
    assert duplicate.message == "2 duplicate values over the key columns (40.00% of 5 rows)"
    assert (missing.outcome, missing.observed_value, missing.origin) == (CheckOutcome.FAIL, 1.0, "generated")
    assert missing.details["engine"] == "datahealth" and missing.details["diagnostics"]["missing_count"] == 1
    nowhere = results["nowhere.missing"]
    assert nowhere.outcome == CheckOutcome.ERROR and "does not exist in shop.orders" in nowhere.message


def test_a_user_contract_on_mariadb_fails_validation_naming_what_runs(
    mariadb_database: str, tmp_path: Path
) -> None:
    write_project(
        tmp_path,
        {"shop": {"kind": "sql", "url": mariadb.sqlalchemy_url(mariadb_database)}},
        {"shop.orders": {"primary_key": ["id"]}},
    )
    write_checks(tmp_path, "shop.orders", "checks:\n  - row_count: {}\n")
    [issue] = contract_issues(load_project(tmp_path))
    assert issue.startswith("checks/shop/orders.yml is not run: MySQL/MariaDB has no Soda data source")
    assert "primary-key duplicates, required-column missing values, row-count bounds" in issue
    result = CliRunner().invoke(app, ["validate", "-p", str(tmp_path)])
    assert result.exit_code == 2 and "checks/shop/orders.yml is not run" in result.output
