"""Delta Lake tables through delta-rs (`deltalake`): the transaction log is the catalog.

The log gives the schema, the last commit's timestamp (freshness), the rows each commit added (volume)
and the row count of the current version (the add actions' `num_records`); no data file is opened for
them. Credentials come from the same standard variables as the files (delta-rs reads `AWS_*`,
`AZURE_STORAGE_*`, `GOOGLE_*` itself); `AWS_ALLOW_HTTP=true` is needed for a plain-http endpoint.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa

from datahealth.sources.lakes.formats import TableState


def table_state(uri: str) -> TableState:
    from deltalake import DeltaTable

    table = DeltaTable(uri)
    schema = pa.schema(table.schema().to_arrow())
    history = table.history(1)
    last = history[0] if history else {}
    stamp = last.get("timestamp")
    metrics = last.get("operationMetrics") or {}
    added = metrics.get("num_added_rows", metrics.get("numOutputRows"))
    actions = pa.table(table.get_add_actions(flatten=True))
    records = actions.column("num_records").to_pylist() if "num_records" in actions.column_names else []
    row_count = int(sum(records)) if records and all(r is not None for r in records) else None
    return TableState(
        schema=schema,
        row_count=row_count,
        last_commit=datetime.fromtimestamp(stamp / 1000, UTC) if stamp is not None else None,
        rows_added_last_commit=int(added) if added is not None else None,
        version=str(table.version()),
        read=table.to_pyarrow_table,
        details={
            "delta_version": table.version(),
            "data_files": len(records),
            "last_operation": last.get("operation"),
        },
    )
