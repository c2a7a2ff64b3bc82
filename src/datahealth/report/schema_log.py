"""The schema change log shown per dataset, from the history store's schema snapshots.

The store keeps a snapshot only when a dataset's columns change, so consecutive snapshots differ and
their diff is the change. The first snapshot is the baseline, not a change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class SchemaChange:
    at: datetime
    change: str  # added | removed | type_changed | nullability_changed
    column: str
    before: str | None
    after: str | None
    accepted: bool


def diff_snapshots(snapshots: Sequence[tuple[datetime, list[dict[str, Any]], bool]]) -> list[SchemaChange]:
    """Changes between consecutive (as-of, columns, accepted) snapshots, oldest first."""
    changes: list[SchemaChange] = []
    previous: dict[str, dict[str, Any]] | None = None
    for at, columns, accepted in snapshots:
        current = {str(c.get("name")): c for c in columns or []}
        if previous is not None:
            changes.extend(_diff(previous, current, at, accepted))
        previous = current
    return changes


def _diff(
    before: dict[str, dict[str, Any]], after: dict[str, dict[str, Any]], at: datetime, accepted: bool
) -> list[SchemaChange]:
    found: list[SchemaChange] = []
    for name, column in after.items():
        old = before.get(name)
        if old is None:
            found.append(SchemaChange(at, "added", name, None, _type(column), accepted))
        elif _type(old) != _type(column):
            found.append(SchemaChange(at, "type_changed", name, _type(old), _type(column), accepted))
        elif old.get("nullable") != column.get("nullable"):
            found.append(
                SchemaChange(at, "nullability_changed", name, _nullable(old), _nullable(column), accepted)
            )
    found.extend(
        SchemaChange(at, "removed", name, _type(old), None, accepted)
        for name, old in before.items()
        if name not in after
    )
    return found


def _type(column: dict[str, Any]) -> str:
    return str(column.get("data_type") or "?")


def _nullable(column: dict[str, Any]) -> str:
    value = column.get("nullable")
    return "unknown" if value is None else ("nullable" if value else "not null")
