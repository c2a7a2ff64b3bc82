"""Iceberg tables through pyiceberg and the catalog people use (SQL, REST, Glue: docs/lakes.md).

The current snapshot's summary gives the total rows and the rows it added, its timestamp the freshness;
the table metadata the schema. Only profiles and checks scan the snapshot, through Arrow.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from datahealth.sources.lakes.formats import TableState


def table_state(catalog_name: str, properties: dict[str, str], identifier: str) -> TableState:
    from pyiceberg.catalog import load_catalog

    catalog = load_catalog(catalog_name, **properties)
    table = catalog.load_table(identifier)
    schema = pa.schema(table.schema().as_arrow())
    snapshot = table.current_snapshot()
    summary = snapshot.summary if snapshot is not None else None

    def count(key: str) -> int | None:
        value = summary.additional_properties.get(key) if summary is not None else None
        return int(value) if value is not None else None

    return TableState(
        schema=schema,
        row_count=count("total-records") if snapshot is not None else 0,
        last_commit=datetime.fromtimestamp(snapshot.timestamp_ms / 1000, UTC) if snapshot else None,
        rows_added_last_commit=count("added-records"),
        version=str(snapshot.snapshot_id) if snapshot else "none",
        read=lambda: table.scan().to_arrow(),
        details={
            "snapshot_id": snapshot.snapshot_id if snapshot else None,
            "snapshots": len(table.snapshots()),
            "data_files": count("total-data-files"),
        },
    )
