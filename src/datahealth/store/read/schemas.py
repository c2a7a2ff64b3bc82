"""Schema snapshots as read back: the accepted baselines schema changes are judged against, and the log."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from datahealth.core.results import ColumnInfo
from datahealth.store.read.base import Reader, as_datetime, connect
from datahealth.store.tables import schema_snapshots


@dataclass(frozen=True)
class SchemaSnapshot:
    """A row of `schema_snapshots`: the columns a dataset had from `as_of` on (stored only on change)."""

    id: int
    dataset: str
    as_of: datetime
    fingerprint: str
    columns: tuple[ColumnInfo, ...]
    accepted: bool
    accepted_at: datetime | None = None


def schema_snapshot(row: Any) -> SchemaSnapshot:
    """The one mapping of a `schema_snapshots` row."""
    columns = row["columns"] if isinstance(row["columns"], list) else []
    return SchemaSnapshot(
        id=int(row["id"]),
        dataset=row["dataset"],
        as_of=as_datetime(row["as_of"]) or row["as_of"],
        fingerprint=row["fingerprint"],
        columns=tuple(ColumnInfo.from_dict(c) for c in columns if isinstance(c, dict)),
        accepted=bool(row["accepted"]),
        accepted_at=as_datetime(row["accepted_at"]),
    )


def accepted_schemas(
    db: Reader, datasets: Sequence[str], as_of: datetime | None = None
) -> dict[str, tuple[ColumnInfo, ...]]:
    """Each dataset's latest accepted schema (the baseline schema changes are judged against), in one query."""
    query = sa.select(schema_snapshots).where(
        schema_snapshots.c.dataset.in_(list(datasets)), schema_snapshots.c.accepted.is_(True)
    )
    if as_of is not None:
        query = query.where(schema_snapshots.c.as_of <= as_of)
    query = query.order_by(schema_snapshots.c.dataset, schema_snapshots.c.accepted_at, schema_snapshots.c.id)
    baselines: dict[str, tuple[ColumnInfo, ...]] = {}
    with connect(db) as conn:
        for row in conn.execute(query).mappings():
            snapshot = schema_snapshot(row)
            baselines[snapshot.dataset] = snapshot.columns  # ordered by acceptance: the last one wins
    return baselines


def schema_log(
    db: Reader, datasets: Sequence[str] | None = None, until: datetime | None = None
) -> dict[str, list[SchemaSnapshot]]:
    """Every snapshot per dataset (optionally up to `until`), oldest first: consecutive ones differ."""
    query = sa.select(schema_snapshots)
    if datasets is not None:
        query = query.where(schema_snapshots.c.dataset.in_(list(datasets)))
    if until is not None:
        query = query.where(schema_snapshots.c.as_of <= until)
    query = query.order_by(schema_snapshots.c.dataset, schema_snapshots.c.as_of, schema_snapshots.c.id)
    log: dict[str, list[SchemaSnapshot]] = {}
    with connect(db) as conn:
        for row in conn.execute(query).mappings():
            snapshot = schema_snapshot(row)
            log.setdefault(snapshot.dataset, []).append(snapshot)
    return log
