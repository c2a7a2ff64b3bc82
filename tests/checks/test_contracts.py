"""Contract merging without a database: what is generated, what the user's file wins, and what is an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from datahealth.checks.baselines import HistoryBaselines, RowCountBounds, learn_row_count_bounds
from datahealth.checks.contracts import GENERATED, USER, EffectiveContract, build_contract
from datahealth.checks.data_sources import ChecksNotSupported, soda_target
from datahealth.config import load_project
from datahealth.config.models import Project
from datahealth.core.results import ColumnInfo, Status, StoredObservation
from tests.support.projects import write_checks, write_project

AS_OF = datetime(2026, 10, 20, 7, 30, tzinfo=UTC)
BOUNDS = RowCountBounds(900, 1100, 9, 1000, AS_OF - timedelta(days=1), 10, 30)
BASELINE = (ColumnInfo("id", "bigint"), ColumnInfo("email", "varchar"), ColumnInfo("amount", "decimal(12,2)"))


def _project(tmp_path: Path, **dataset: Any) -> Project:
    write_project(
        tmp_path,
        sources={
            "wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"},
            "pg": {"kind": "sql", "url": "postgresql+psycopg://u:pw@db.internal:6543/shop"},
            "lite": {"kind": "sql", "url": "sqlite:///x.db"},
            "lake": {"kind": "lake", "root": "lake"},
        },
        datasets={
            "wh.orders": {"table": "sales.orders", **dataset},
            "pg.orders": {},
            "lite.orders": {},
            "lake.click-stream": {"path": "c/*.parquet"},
        },
    )
    return load_project(tmp_path)


def _contract(
    project: Project, name: str = "wh.orders", baselines: HistoryBaselines | None = None
) -> EffectiveContract:
    dataset = project.dataset(name)
    return build_contract(project, dataset, soda_target(project, dataset), baselines or HistoryBaselines())


def _origins(contract: EffectiveContract) -> dict[str, str]:
    return {c.name: c.origin for c in contract.checks}


def test_qualified_names_come_from_config(tmp_path: Path) -> None:
    project = _project(tmp_path)
    assert soda_target(project, project.dataset("wh.orders")).qualified_name == "wh/sales/orders"
    assert soda_target(project, project.dataset("pg.orders")).qualified_name == "pg/shop/public/orders"
    lake = soda_target(project, project.dataset("lake.click-stream"))
    assert (lake.qualified_name, lake.view_name, lake.kind) == (
        "lake/main/click_stream",
        "click_stream",
        "lake",
    )
    with pytest.raises(ChecksNotSupported, match="checks not supported for this source: lite is sqlite"):
        soda_target(project, project.dataset("lite.orders"))


def test_generated_checks_from_config_and_history(tmp_path: Path) -> None:
    project = _project(tmp_path, primary_key=["id"], required_columns=["id", "email"])
    contract = _contract(project, baselines=HistoryBaselines(BASELINE, BOUNDS))
    assert _origins(contract) == {
        "id.duplicate": GENERATED,
        "id.missing": GENERATED,
        "email.missing": GENERATED,
        "schema": GENERATED,
        "row_count": GENERATED,
    }
    assert {c.name: c.switch for c in contract.checks}["schema"] == "schema"
    text = contract.to_yaml()
    assert "dataset: wh/sales/orders  # derived from sla_config" in text
    assert "- duplicate: {}  # generated: primary_key_duplicates (primary key)" in text
    assert "must_be_between: {greater_than_or_equal: 900, less_than_or_equal: 1100}" in text
    amount = next(c for c in contract.document["columns"] if c["name"] == "amount")
    assert dict(amount) == {
        "name": "amount",
        "data_type": "decimal",
        "numeric_precision": 12,
        "numeric_scale": 2,
    }
    assert contract.document["checks"][0]["schema"] == {"allow_other_column_order": True}


def test_a_composite_key_is_one_dataset_level_duplicate_check(tmp_path: Path) -> None:
    project = _project(tmp_path, primary_key=["order_id", "line"])
    contract = _contract(project)
    [check] = contract.checks
    assert (check.path, check.column, check.origin) == ("checks.duplicate", None, GENERATED)
    assert (
        "- duplicate:  # generated: primary_key_duplicates (primary key)\n      columns: [order_id, line]"
        in (contract.to_yaml())
    )


def test_every_generated_check_can_be_switched_off(tmp_path: Path) -> None:
    project = _project(
        tmp_path,
        primary_key=["id"],
        required_columns=["email"],
        checks={
            "primary_key_duplicates": False,
            "required_columns_missing": False,
            "schema": False,
            "row_count_bounds": False,
        },
    )
    contract = _contract(project, baselines=HistoryBaselines(BASELINE, BOUNDS))
    assert contract.checks == []
    assert contract.document["columns"] == []


def test_the_users_check_wins_over_the_generated_one_with_the_same_identity(tmp_path: Path) -> None:
    project = _project(tmp_path, primary_key=["id"], required_columns=["email"])
    write_checks(
        tmp_path,
        "wh.orders",
        """\
# orders contract
dataset: somewhere/else/orders
columns:
  - {name: email, checks: [{missing: {threshold: {must_be_less_than: 5}}}]}
  - name: id
    checks:
      - duplicate: {qualifier: recent, filter: "id > 100"}
checks:
  - row_count: {threshold: {must_be_greater_than: 0}}
  - schema: {allow_extra_columns: true}
""",
    )
    contract = _contract(project, baselines=HistoryBaselines(BASELINE, BOUNDS))
    assert _origins(contract) == {
        "email.missing": USER,
        "id.duplicate.recent": USER,
        "row_count": USER,
        "schema": USER,
        "id.duplicate": GENERATED,
    }
    assert any("dataset 'somewhere/else/orders' replaced by 'wh/sales/orders'" in n for n in contract.notes)
    assert any("email.missing: the user's check replaces the generated one" in n for n in contract.notes)
    assert any("schema: the user's schema check replaces the generated one" in n for n in contract.notes)
    text = contract.to_yaml()
    assert text.startswith("# orders contract\ndataset: wh/sales/orders")
    assert "amount" not in text  # no baseline columns merged into the user's own schema check
    id_entry = next(c for c in contract.document["columns"] if c["name"] == "id")
    assert [next(iter(item)) for item in id_entry["checks"]] == ["duplicate", "duplicate"]


def test_invalid_yaml_is_an_error_naming_file_and_line_and_generated_checks_remain(tmp_path: Path) -> None:
    project = _project(tmp_path, primary_key=["id"])
    write_checks(tmp_path, "wh.orders", "columns:\n  - {name: id\nchecks: []\n")
    contract = _contract(project)
    assert contract.user_error is not None
    assert contract.user_error.startswith("checks/wh/orders.yml line 3: invalid YAML")
    assert _origins(contract) == {"id.duplicate": GENERATED}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "- a\n- b\n",
            "checks/wh/orders.yml: a contract must be a mapping with 'columns:' and/or 'checks:' (found a list)",
        ),
        ("columns: {name: id}\n", "checks/wh/orders.yml line 1: 'columns' must be a list"),
        ("columns:\n  - id\n", "checks/wh/orders.yml line 2: each column needs a 'name'"),
        (
            "columns:\n  - name: id\n    checks: {missing: {}}\n",
            "line 3: 'checks' of column 'id' must be a list",
        ),
        ("checks:\n  row_count: {}\n", "checks/wh/orders.yml line 1: 'checks' must be a list"),
    ],
)
def test_contract_shape_errors(tmp_path: Path, text: str, message: str) -> None:
    project = _project(tmp_path)
    write_checks(tmp_path, "wh.orders", text)
    contract = _contract(project)
    assert contract.user_error is not None and message in contract.user_error


def test_unknown_top_level_keys_are_warnings(tmp_path: Path) -> None:
    project = _project(tmp_path)
    write_checks(tmp_path, "wh.orders", "column:\n  - name: id\nchecks:\n  - row_count: {}\n")
    contract = _contract(project)
    assert contract.user_error is None
    assert contract.warnings == [
        "checks/wh/orders.yml line 1: unknown key 'column' is ignored by Soda "
        "(known: dataset, description, filter, variables, soda_runner, soda_agent, scopes, "
        "columns, checks)"
    ]


def test_a_dataset_filter_turns_row_count_bounds_off(tmp_path: Path) -> None:
    project = _project(tmp_path)
    write_checks(tmp_path, "wh.orders", "filter: \"created_at > '2026-01-01'\"\ncolumns: []\n")
    contract = _contract(project, baselines=HistoryBaselines(None, BOUNDS))
    assert contract.checks == []
    assert any("row_count bounds skipped" in n for n in contract.notes)


def test_checks_on_missing_columns_are_dropped_but_the_column_stays_for_the_schema_check(
    tmp_path: Path,
) -> None:
    project = _project(tmp_path, required_columns=["id", "gone"])
    write_checks(
        tmp_path, "wh.orders", "columns:\n  - {name: nope, data_type: varchar, checks: [{missing: {}}]}\n"
    )
    contract = _contract(project)
    dropped = contract.without_columns({"nope", "gone"})
    assert sorted(c.name for c in dropped) == ["gone.missing", "nope.missing"]
    assert [c.name for c in contract.checks] == ["id.missing"]
    nope = next(c for c in contract.document["columns"] if c["name"] == "nope")
    assert dict(nope) == {"name": "nope", "data_type": "varchar"}


def _obs(day: int, rows: int | None, hour: int = 7, status: Status = Status.OK) -> StoredObservation:
    as_of = datetime(2026, 10, 1, hour, 30, tzinfo=UTC) + timedelta(days=day)
    return StoredObservation(
        0, "r", "wh.orders", "wh", as_of, status, rows, None, None, (), 0, None, None, {}
    )


def test_row_count_bounds_wait_for_enough_days_and_then_follow_the_daily_change() -> None:
    as_of = datetime(2026, 10, 11, 7, 30, tzinfo=UTC)
    few = [_obs(d, 1000 + 100 * d) for d in range(5)]
    assert learn_row_count_bounds(few, as_of, 7) == (
        None,
        "row_count bounds need 7 days of history, 5 so far",
    )
    # ten days of +100/day, plus many same-day metadata runs that must not teach "nothing changes"
    history = [_obs(d, 1000 + 100 * d) for d in range(10)] + [_obs(9, 1900, hour=h) for h in (8, 9, 10)]
    history.sort(key=lambda o: o.as_of)
    bounds, note = learn_row_count_bounds(history, as_of, 7)
    assert bounds is not None and (bounds.days, bounds.last_count) == (10, 1900)
    assert (bounds.daily_change_min, bounds.daily_change_max) == (100, 100)
    assert bounds.lower <= 1900 <= 2000 <= bounds.upper  # no change yet, or one day's growth: both pass
    assert bounds.lower > 1500 and bounds.upper < 2300  # a truncate or a double load does not
    assert note.startswith("learned from 10 days of history: 1,900 rows")


def test_row_count_bounds_ignore_errors_and_missing_counts_and_scale_with_the_gap() -> None:
    history = [_obs(d, 500 + 50 * d) for d in range(8)] + [_obs(8, None), _obs(9, 0, status=Status.UNKNOWN)]
    bounds, _ = learn_row_count_bounds(history, datetime(2026, 10, 14, 7, 30, tzinfo=UTC), 7)
    assert bounds is not None and bounds.last_count == 850 and bounds.days == 8
    assert bounds.upper >= 850 + 7 * 50  # seven days since the last good count
