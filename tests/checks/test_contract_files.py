"""Every file under checks/ is accounted for: read for a known dataset, or reported as never read."""

from __future__ import annotations

from pathlib import Path

from datahealth.checks.contract_files import contract_file_issues
from datahealth.config import load_project
from tests.support.projects import write_checks, write_project


def _project(tmp_path: Path) -> Path:
    return write_project(
        tmp_path,
        sources={"wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"}},
        datasets={"wh.customers": {}, "wh.orders": {}},
    )


def test_contracts_that_no_run_reads_are_errors(tmp_path: Path) -> None:
    root = _project(tmp_path)
    write_checks(root, "wh.customers", "columns:\n  - name: id\n    checks:\n      - missing: {}\n")
    write_checks(root, "wh.custmers", "columns: []\n")  # a typo in the file name
    write_checks(root, "other.orders", "columns: []\n")  # no such source
    (root / "checks" / "wh" / "orders.yaml").write_text("columns: []\n")  # .yaml is never read
    (root / "checks" / "loose.yml").write_text("columns: []\n")  # not in a source folder
    (root / "checks" / "wh" / "README.md").write_text("notes are not contracts\n")
    issues = [str(i) for i in contract_file_issues(load_project(root))]
    assert issues == [
        "checks/loose.yml: this contract is never read (contracts live at checks/<source>/<dataset>.yml). "
        "Fix: move it into the folder of its source",
        "checks/other/orders.yml: no dataset 'other.orders' in sla_config, so this contract is never run. "
        "Fix: did you mean checks/wh/orders.yml? rename the file, or add 'other.orders' under datasets:",
        "checks/wh/custmers.yml: no dataset 'wh.custmers' in sla_config, so this contract is never run. "
        "Fix: did you mean checks/wh/customers.yml? rename the file, or add 'wh.custmers' under datasets:",
        "checks/wh/orders.yaml: contracts end in .yml; this file is never read for wh.orders. "
        "Fix: rename it to orders.yml",
    ]


def test_broken_yaml_and_schema_errors_carry_their_line(tmp_path: Path) -> None:
    root = _project(tmp_path)
    write_checks(root, "wh.customers", "columns:\n  - name: id\n    checks: [\n")
    write_checks(root, "wh.orders", "checks:\n  - row_count: {}\n  - freshnes: {column: ts}\n")
    issues = [str(i) for i in contract_file_issues(load_project(root))]
    assert len(issues) == 2
    assert issues[0].startswith("checks/wh/customers.yml:") and "invalid YAML" in issues[0]
    assert issues[1].startswith("checks/wh/orders.yml:3 [checks[1].freshnes]: unknown check type 'freshnes'")


def test_no_checks_folder_is_fine(tmp_path: Path) -> None:
    assert contract_file_issues(load_project(_project(tmp_path))) == []
