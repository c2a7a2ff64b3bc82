"""Schema diff: every kind of change with its before and after, one finding per dataset."""

from __future__ import annotations

from datahealth.core.results import ColumnInfo
from datahealth.rules.schema_diff import SchemaChange, diff_columns, schema_finding

BASE = (
    ColumnInfo("id", "BIGINT", False),
    ColumnInfo("email", "VARCHAR", True),
    ColumnInfo("amount", "DECIMAL(10,2)", True),
    ColumnInfo("created_at", "TIMESTAMP", True),
)


def kinds(changes: list[SchemaChange]) -> list[tuple[str, str | None, str | None, str | None]]:
    return [(c.kind, c.column, c.before, c.after) for c in changes]


def test_same_schema_has_no_changes_whatever_the_type_spelling() -> None:
    spelled = tuple(ColumnInfo(c.name, c.data_type.lower().replace(",", ", "), c.nullable) for c in BASE)
    assert diff_columns(BASE, spelled) == []


def test_added_removed_type_and_nullability() -> None:
    current = (
        ColumnInfo("id", "BIGINT", True),
        ColumnInfo("email", "TEXT", True),
        ColumnInfo("created_at", "TIMESTAMP", True),
        ColumnInfo("segment", "VARCHAR", True),
    )
    assert kinds(diff_columns(BASE, current)) == [
        ("nullability_changed", "id", "not null", "nullable"),
        ("type_changed", "email", "VARCHAR", "TEXT"),
        ("column_removed", "amount", "DECIMAL(10,2)", None),
        ("column_added", "segment", None, "VARCHAR"),
    ]


def test_unknown_nullability_is_not_a_change() -> None:
    lake = tuple(ColumnInfo(c.name, c.data_type, None) for c in BASE)
    assert diff_columns(BASE, lake) == []


def test_probable_rename_by_similar_name_or_position() -> None:
    renamed = (BASE[0], ColumnInfo("email_address", "VARCHAR", True), BASE[2], BASE[3])
    assert kinds(diff_columns(BASE, renamed)) == [
        ("probable_rename", "email_address", "email", "email_address")
    ]
    same_place = (BASE[0], BASE[1], ColumnInfo("total", "DECIMAL(10,2)", True), BASE[3])
    assert kinds(diff_columns(BASE, same_place)) == [("probable_rename", "total", "amount", "total")]
    other_type = (BASE[0], BASE[1], ColumnInfo("total", "DOUBLE", True), BASE[3])
    assert sorted(c.kind for c in diff_columns(BASE, other_type)) == ["column_added", "column_removed"]


def test_one_finding_for_all_changes_with_a_stable_fingerprint() -> None:
    current = (BASE[0], ColumnInfo("email", "TEXT", True), BASE[3], ColumnInfo("x", "INT", True))
    changes = diff_columns(BASE, current)
    finding = schema_finding("lake.clicks", changes, "error")
    assert finding.fingerprint == "lake.clicks|schema_change|schema"
    assert finding.title == "lake.clicks: schema changed in 3 ways"
    assert "datahealth schema accept lake.clicks" in finding.message
    assert [c["kind"] for c in finding.details["changes"]] == [c.kind for c in changes]
    again = schema_finding("lake.clicks", list(reversed(changes)), "error")
    assert again.details["change_key"] == finding.details["change_key"]  # order does not make it "changed"


def test_table_disappeared_title() -> None:
    finding = schema_finding(
        "warehouse.orders", [SchemaChange("table_disappeared", None, "4 columns", None)], "error"
    )
    assert finding.title == "warehouse.orders: the table disappeared"
