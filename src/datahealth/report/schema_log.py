"""The schema change log shown per dataset, from the history store's schema snapshots.

The store keeps a snapshot only when a dataset's columns change, so consecutive snapshots differ and
their diff is the change. The first snapshot is the baseline, not a change. What counts as a change (and
how it is named: column added or removed, type or nullability changed, probable rename) is
`rules.schema_diff.diff_columns`, the same definition the schema-change finding uses, so the log and the
incident never disagree about what happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from datahealth.core.results import ColumnInfo
from datahealth.rules.schema_diff import SchemaChange, diff_columns


@dataclass(frozen=True)
class SchemaLogEntry:
    """One change, when the snapshot that showed it was taken and whether that snapshot was accepted."""

    at: datetime
    change: SchemaChange
    accepted: bool


def diff_snapshots(
    snapshots: Sequence[tuple[datetime, list[dict[str, Any]], bool]],
) -> list[SchemaLogEntry]:
    """Changes between consecutive (as-of, columns, accepted) snapshots, oldest first."""
    entries: list[SchemaLogEntry] = []
    previous: tuple[ColumnInfo, ...] | None = None
    for at, columns, accepted in snapshots:
        current = tuple(ColumnInfo.from_dict(c) for c in columns or [])
        if previous is not None:
            entries.extend(SchemaLogEntry(at, change, accepted) for change in diff_columns(previous, current))
        previous = current
    return entries
