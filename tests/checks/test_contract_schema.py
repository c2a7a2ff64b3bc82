"""A user's contract against soda-core's own contract schema: the error names the key, the line and the fix."""

from __future__ import annotations

from pathlib import Path

from datahealth.checks.contract_schema import check_types, contract_schema_issues
from datahealth.checks.contracts import load_user_contract

CONTRACT = """\
columns:
  - name: country
    checks:
      - invalid: {valid_vals: [NL, DE]}
      - missing:
          threshold: {must_be_less: 3}
  - name: id
    checks:
      - missin: {}
checks:
  - rowcount: {}
colums: []
"""


def _issues(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "orders.yml"
    path.write_text(text)
    return [
        str(i) for i in contract_schema_issues(load_user_contract(path, "x"), Path("checks/wh/orders.yml"))
    ]


def test_each_typo_is_named_with_its_line_key_and_nearest_valid_name(tmp_path: Path) -> None:
    issues = _issues(tmp_path, CONTRACT)
    assert (
        "checks/wh/orders.yml:4 [columns.country.checks[0].invalid.valid_vals]: unknown key 'valid_vals'. "
        "Fix: did you mean 'valid_values'?" in "\n".join(issues)
    )
    assert any(
        i.startswith("checks/wh/orders.yml:6 [columns.country.checks[1].missing.threshold.must_be_less]")
        and "'must_be_less_than'" in i
        for i in issues
    )
    assert any(
        ":9 [columns.id.checks[0].missin]: unknown check type 'missin'" in i and "'missing'" in i
        for i in issues
    )
    assert any(
        ":11 [checks[0].rowcount]: unknown check type 'rowcount'" in i and "'row_count'" in i for i in issues
    )
    assert any(":12 [colums]: unknown key 'colums'" in i and "'columns'" in i for i in issues)
    assert len(issues) == 5  # one error per mistake, not one per schema branch


def test_a_valid_contract_has_no_issues_and_dataset_is_not_required(tmp_path: Path) -> None:
    valid = """\
columns:
  - name: email
    data_type: varchar
    checks:
      - duplicate: {}
      - invalid:
          valid_format: {name: email, regex: '^[^@]+@[^@]+$'}
      - missing:
  - name: amount
    checks:
      - invalid: {valid_min: 0, valid_max: 1000, threshold: {metric: percent, must_be_less_than: 5}}
checks:
  - row_count: {threshold: {must_be_between: {greater_than_or_equal: 1, less_than_or_equal: 10}}}
  - failed_rows: {qualifier: late, expression: updated_at < created_at}
  - schema: {allow_other_column_order: true}
"""
    assert _issues(tmp_path, valid) == []


def test_wrong_types_say_what_to_write(tmp_path: Path) -> None:
    issues = _issues(tmp_path, "columns:\n  - name: a\n    data_type: 3\n")
    assert issues == [
        "checks/wh/orders.yml:3 [columns.a.data_type]: must be a text value. "
        "Fix: write a text value here (see https://docs.soda.io data contract language reference)"
    ]


def test_check_types_come_from_the_schema() -> None:
    assert {"missing", "invalid", "duplicate"} <= set(check_types("columns"))
    assert {"row_count", "schema", "freshness", "failed_rows"} <= set(check_types("checks"))
    assert "row_count" not in check_types("columns")
