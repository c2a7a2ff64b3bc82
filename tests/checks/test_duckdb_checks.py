"""The real Soda engine on a real DuckDB file: outcomes, observed values, and errors that stay readable."""

from __future__ import annotations

from pathlib import Path

import pytest

from datahealth.checks import checks_stage
from datahealth.config.models import Project
from datahealth.core.results import CheckOutcome, DatasetResult, Observation, TableMeta
from datahealth.sources import open_source
from tests.checks.conftest import AS_OF, check_dataset
from tests.support.projects import write_checks

PASS, WARN, FAIL, ERROR = CheckOutcome.PASS, CheckOutcome.WARN, CheckOutcome.FAIL, CheckOutcome.ERROR


def test_user_and_generated_checks_pass_and_fail_with_observed_values(orders_project: Project) -> None:
    write_checks(
        orders_project.root,
        "wh.orders",
        """\
columns:
  - name: status
    checks:
      - invalid: {valid_values: [paid, open, refunded]}
      - invalid: {qualifier: lenient, valid_values: [paid, open, refunded, weird]}
  - name: amount
    checks:
      - aggregate: {function: min, threshold: {must_be_greater_than_or_equal: 0}}
      - invalid: {valid_min: -10, valid_max: 1000, threshold: {must_be: 0, level: warn}}
checks:
  - row_count: {threshold: {must_be_between: {greater_than_or_equal: 1, less_than_or_equal: 1000}}}
  - freshness: {column: created_at, threshold: {unit: hour, must_be_less_than: 24}}
  - freshness: {qualifier: strict, column: created_at, threshold: {unit: hour, must_be_less_than: 6}}
  - failed_rows: {qualifier: negative, expression: "amount < 0"}
  - metric:
      qualifier: paid_share
      expression: "AVG(CASE WHEN status = 'paid' THEN 1.0 ELSE 0 END)"
      threshold: {must_be_greater_than: 0.5}
""",
    )
    results = check_dataset(orders_project, "wh.orders")
    summary = {name: (r.outcome, r.observed_value, r.origin) for name, r in results.items()}
    assert summary == {
        "status.invalid": (FAIL, 1.0, "user"),
        "status.invalid.lenient": (PASS, 0.0, "user"),
        "amount.aggregate": (FAIL, -5.0, "user"),
        "amount.invalid": (PASS, 0.0, "user"),
        "row_count": (PASS, 10.0, "user"),
        "freshness": (PASS, 13.0, "user"),
        "freshness.strict": (FAIL, 13.0, "user"),
        "failed_rows.negative": (FAIL, 1.0, "user"),
        "metric.paid_share": (PASS, 0.6, "user"),
        "id.duplicate": (FAIL, 1.0, "generated"),
        "id.missing": (PASS, 0.0, "generated"),
        "email.missing": (FAIL, 1.0, "generated"),
    }
    email = results["email.missing"]
    assert (email.check_type, email.column, email.threshold) == ("missing", "email", "= 0")
    assert email.message == "1 missing values in email (10.00% of 10 rows)"
    assert email.details["switch"] == "required_columns_missing"
    assert email.details["soda_path"] == "columns.email.checks.missing"
    assert results["row_count"].threshold == "between 1 and 1,000"
    assert results["freshness.strict"].threshold == "< 6 hours"
    assert results["freshness.strict"].message.startswith("newest value 2026-01-04 11:00, 13 hours before")
    assert results["id.duplicate"].message == "1 duplicate values in id (10.00% of 10 rows)"
    assert results["amount.aggregate"].message == "min in amount is -5"
    assert (results["metric.paid_share"].message, results["metric.paid_share"].threshold) == (
        "paid_share is 0.6",
        "> 0.5",
    )


def test_warn_level_thresholds_warn(orders_project: Project) -> None:
    write_checks(
        orders_project.root,
        "wh.orders",
        "columns:\n  - {name: status, checks: [{invalid: {valid_values: [paid, open, refunded], "
        "threshold: {must_be: 0, level: warn}}}]}\n",
    )
    results = check_dataset(orders_project, "wh.orders")
    assert (results["status.invalid"].outcome, results["status.invalid"].threshold) == (
        WARN,
        "= 0 (else warn)",
    )


def test_not_evaluated_is_an_error_never_a_pass(orders_project: Project) -> None:
    write_checks(
        orders_project.root,
        "wh.orders",
        "columns: []\nchecks:\n  - row_count: {threshold: {must_be_greater_than: 1, must_be_less_than: 5}}\n",
    )
    results = check_dataset(orders_project, "wh.orders")
    row_count = results["row_count"]
    assert row_count.outcome == ERROR and row_count.observed_value is None
    assert "Threshold does not specify exactly one comparison" in row_count.message


def test_a_contract_naming_a_missing_column_errors_for_that_check_only(orders_project: Project) -> None:
    write_checks(
        orders_project.root,
        "wh.orders",
        """\
columns:
  - {name: statuz, checks: [{missing: {}}]}
  - {name: status, checks: [{missing: {}}]}
""",
    )
    results = check_dataset(orders_project, "wh.orders")
    assert results["statuz.missing"].outcome == ERROR
    assert results["statuz.missing"].message == (
        "column 'statuz' named in checks/wh/orders.yml does not exist in wh.orders"
    )
    assert results["status.missing"].outcome == PASS
    assert results["id.duplicate"].outcome == FAIL  # the generated checks still ran in the same scan


def test_a_broken_expression_makes_the_shared_query_an_error_with_a_readable_message(
    orders_project: Project,
) -> None:
    write_checks(
        orders_project.root,
        "wh.orders",
        "columns: []\nchecks:\n  - metric: {expression: 'AVG(nope)', threshold: {must_be: 1}}\n",
    )
    results = check_dataset(orders_project, "wh.orders")
    assert {r.outcome for r in results.values()} == {ERROR}
    message = results["metric"].message
    assert message.startswith('not evaluated: column "nope" does not exist in wh.orders (Binder Error:')
    assert "LINE" not in message and "\n" not in message


@pytest.mark.parametrize(
    ("contract", "message"),
    [
        ("columns: []\nchecks:\n  - rowcount: {}\n", "checks/wh/orders.yml: Invalid check type 'rowcount'"),
        (
            "columns:\n  - {name: status, checks: [{missing: {}}, {missing: {}}]}\n",
            "checks/wh/orders.yml: Duplicate identity",
        ),
        ("columns:\n  - {name: id\n", "checks/wh/orders.yml line 3: invalid YAML"),
    ],
)
def test_an_invalid_contract_is_an_error_and_the_generated_checks_still_run(
    orders_project: Project, contract: str, message: str
) -> None:
    write_checks(orders_project.root, "wh.orders", contract)
    results = check_dataset(orders_project, "wh.orders")
    assert results["contract"].outcome == ERROR
    assert results["contract"].message.startswith(message), results["contract"].message
    assert {n: r.outcome for n, r in results.items() if n != "contract"} == {
        "id.duplicate": FAIL,
        "id.missing": PASS,
        "email.missing": FAIL,
    }


def test_a_rejected_contract_outranks_its_warnings(orders_project: Project) -> None:
    write_checks(orders_project.root, "wh.orders", "colums: []\ncolumns: []\nchecks:\n  - rowcount: {}\n")
    results = check_dataset(orders_project, "wh.orders")  # names are unique: one "contract" result
    assert (
        results["contract"].outcome == ERROR
        and "Invalid check type 'rowcount'" in results["contract"].message
    )
    assert results["id.duplicate"].outcome == FAIL


def test_unknown_keys_warn(orders_project: Project) -> None:
    write_checks(orders_project.root, "wh.orders", "colums:\n  - {name: status, checks: [{missing: {}}]}\n")
    results = check_dataset(orders_project, "wh.orders")
    assert results["contract"].outcome == WARN
    assert "unknown key 'colums' is ignored by Soda" in results["contract"].message


def test_without_a_contract_only_generated_checks_run(orders_project: Project) -> None:
    results = check_dataset(orders_project, "wh.orders")
    assert {n: (r.outcome, r.origin) for n, r in results.items()} == {
        "id.duplicate": (FAIL, "generated"),
        "id.missing": (PASS, "generated"),
        "email.missing": (FAIL, "generated"),
    }


def test_a_crash_inside_the_stage_is_a_stage_error_not_an_exception(
    orders_project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    import datahealth.checks.runner as checks_runner

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("history exploded\nsecond line")

    monkeypatch.setattr(checks_runner, "load_baselines", broken)
    dataset = orders_project.dataset("wh.orders")
    source = open_source("wh", orders_project.config.sources["wh"], orders_project.root)
    result = DatasetResult(Observation(dataset.name, "wh", AS_OF, AS_OF))
    checks_stage(orders_project, dataset, source, TableMeta(()), AS_OF, None, result)
    source.close()
    assert result.stage_errors == {"checks": "checks failed: RuntimeError: history exploded"}
    [error] = result.checks
    assert (error.name, error.outcome) == ("checks", ERROR)


def test_sources_without_soda_support_say_so(tmp_path: Path) -> None:
    import sqlite3

    from datahealth.config import load_project
    from tests.support.projects import write_project

    sqlite3.connect(tmp_path / "lite.db").executescript(
        "CREATE TABLE a (id INTEGER); CREATE TABLE b (id INTEGER); CREATE TABLE c (id INTEGER);"
    ).close()
    write_project(
        tmp_path,
        sources={"lite": {"kind": "sql", "url": "sqlite:///lite.db"}},
        datasets={"lite.a": {}, "lite.b": {"primary_key": ["id"]}, "lite.c": {}},
    )
    write_checks(tmp_path, "lite.a", "columns: []\nchecks:\n  - row_count: {}\n")
    project = load_project(tmp_path)
    [a] = check_dataset(project, "lite.a").values()
    assert a.outcome == ERROR and a.message.startswith(
        "checks/lite/a.yml is not run: SQLite has no Soda data source"
    )
    [b] = check_dataset(project, "lite.b").values()  # generated checks are computed by datahealth itself
    assert (b.name, b.outcome, b.details["engine"]) == ("id.duplicate", PASS, "datahealth")
    assert check_dataset(project, "lite.c") == {}
