"""Schema changes: the columns a run saw against the dataset's accepted baseline. Pure, no I/O.

The baseline is the latest accepted schema snapshot (the first snapshot is accepted automatically;
`datahealth schema accept DATASET` accepts the newest). Every difference is one `SchemaChange` with its
before and after, and all of a dataset's changes make ONE finding (fingerprint `<dataset>|schema_change|
schema`), so a deploy that renames three columns is one incident, not three. The finding stays open while
the schema differs from the baseline: reverting the change or accepting it resolves it.

A removed and an added column with the same type are reported as a probable rename when their names are
similar or they sit at the same position. A table that disappears is a change too (the observation fails
with a "missing" error); it replaces the generic "could not be observed" finding.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from datahealth.core.results import ColumnInfo
from datahealth.rules.findings import Finding, FindingKind

RENAME_SIMILARITY = 0.6


@dataclass(frozen=True)
class SchemaChange:
    kind: str  # table_disappeared | column_added | column_removed | type_changed | nullability_changed | probable_rename
    column: str | None
    before: str | None
    after: str | None

    def describe(self) -> str:
        if self.kind == "table_disappeared":
            return "the table disappeared"
        if self.kind == "column_added":
            return f"column {self.column} added ({self.after})"
        if self.kind == "column_removed":
            return f"column {self.column} removed (was {self.before})"
        if self.kind == "type_changed":
            return f"column {self.column} changed type {self.before} → {self.after}"
        if self.kind == "nullability_changed":
            return f"column {self.column} became {'nullable' if self.after == 'nullable' else 'NOT NULL'}"
        return f"column {self.before} probably renamed to {self.after}"

    def key(self) -> str:
        return f"{self.kind}:{self.column}:{self.before}:{self.after}"

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "column": self.column, "before": self.before, "after": self.after}


def normalize_type(data_type: str) -> str:
    """Compare types as the catalog spells them, ignoring case and spacing (`DECIMAL(10, 2)` = `decimal(10,2)`)."""
    return "".join(data_type.split()).lower()


def diff_columns(baseline: Sequence[ColumnInfo], current: Sequence[ColumnInfo]) -> list[SchemaChange]:
    """Every difference between the baseline's columns and the current ones, renames paired up."""
    before = {c.name: (i, c) for i, c in enumerate(baseline)}
    after = {c.name: (i, c) for i, c in enumerate(current)}
    changes: list[SchemaChange] = []
    for name, (_, old) in before.items():
        if name not in after:
            continue
        new = after[name][1]
        if normalize_type(old.data_type) != normalize_type(new.data_type):
            changes.append(SchemaChange("type_changed", name, old.data_type, new.data_type))
        if old.nullable is not None and new.nullable is not None and old.nullable != new.nullable:
            changes.append(
                SchemaChange(
                    "nullability_changed", name, _nullability(old.nullable), _nullability(new.nullable)
                )
            )
    removed = [before[n] for n in before if n not in after]
    added = [after[n] for n in after if n not in before]
    for old_index, old in list(removed):
        match = _rename_partner(old_index, old, added)
        if match is not None:
            removed.remove((old_index, old))
            added.remove(match)
            changes.append(SchemaChange("probable_rename", match[1].name, old.name, match[1].name))
    changes.extend(SchemaChange("column_removed", c.name, c.data_type, None) for _, c in removed)
    changes.extend(SchemaChange("column_added", c.name, None, c.data_type) for _, c in added)
    return changes


def _rename_partner(
    index: int, old: ColumnInfo, added: list[tuple[int, ColumnInfo]]
) -> tuple[int, ColumnInfo] | None:
    same_type = [(i, c) for i, c in added if normalize_type(c.data_type) == normalize_type(old.data_type)]
    scored = [
        (difflib.SequenceMatcher(None, old.name.lower(), c.name.lower()).ratio(), i == index, (i, c))
        for i, c in same_type
    ]
    good = [s for s in scored if s[0] >= RENAME_SIMILARITY or s[1]]
    if not good:
        return None
    return max(good, key=lambda s: (s[1], s[0]))[2]


def _nullability(nullable: bool) -> str:
    return "nullable" if nullable else "not null"


def schema_finding(
    dataset: str, changes: Sequence[SchemaChange], severity: str, extra: dict[str, Any] | None = None
) -> Finding:
    """One finding for all of a dataset's schema changes, each with its before and after."""
    if changes and changes[0].kind == "table_disappeared":
        title = f"{dataset}: the table disappeared"
    elif len(changes) == 1:
        title = f"{dataset}: schema changed: {changes[0].describe()}"
    else:
        title = f"{dataset}: schema changed in {len(changes)} ways"
    message = "; ".join(c.describe() for c in changes)
    details: dict[str, Any] = {
        "changes": [c.to_dict() for c in changes],
        "change_key": "|".join(sorted(c.key() for c in changes)),
    }
    if extra:
        details.update(extra)
    odd_files = [str(f) for f in details.get("files_with_other_schema") or []]
    if odd_files:  # a lake dataset: the union of all files shows the drift while any drifted file remains
        shown = ", ".join("/".join(f.replace("\\", "/").split("/")[-2:]) for f in odd_files[:3])
        message += (
            f" (in {len(odd_files)} file{'s' if len(odd_files) != 1 else ''} unlike the rest: {shown}"
            f"{', …' if len(odd_files) > 3 else ''}; rewrite them to revert)"
        )
    return Finding(
        dataset,
        FindingKind.SCHEMA_CHANGE,
        "schema",
        severity,
        title,
        message + ". Revert it, or accept it as the new baseline: datahealth schema accept " + dataset,
        observed=f"{len(changes)} change{'s' if len(changes) != 1 else ''}",
        expected="the accepted schema",
        details=details,
    )
