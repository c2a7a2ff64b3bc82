"""Counting one side of a reconciliation over a time window, as cheaply as the source allows.

- a stream: messages produced in the window, from offsets (Kafka: two offset lookups per partition,
  checked against the records around them) or by reading the window (Kinesis);
- a lake dataset with `partition:`: the row counts in the Parquet footers of the window's partition
  (no data read);
- a table or other lake dataset: ONE aggregate query bounded by the timestamp column
  (`count(*)` and the key column's `sum` or `count(DISTINCT)` together), which an index or partition
  pruning on that column keeps small.

Identifiers are quoted (SQLAlchemy, or DuckDB's quoting for files); window bounds are bound parameters,
passed as naive UTC (datahealth reads naive timestamps as UTC).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import sqlalchemy as sa
from sqlalchemy.sql.elements import quoted_name

from datahealth import engines
from datahealth.config.models import DatasetConfig, ReconcileConfig
from datahealth.core.errors import DatasetError
from datahealth.core.reconcile import SideCount, Window
from datahealth.core.results import ErrorKind
from datahealth.engines.errors import classify
from datahealth.sources.base import Source
from datahealth.sources.lake import LakeSource, quote_identifier
from datahealth.sources.sql import SqlSource
from datahealth.sources.stream import StreamSource


def count_side(
    source: Source, dataset: DatasetConfig, window: Window, spec: ReconcileConfig, *, other_side: bool
) -> SideCount:
    """Count `dataset` over `window` for the reconcile entry `spec` (`other_side`: it is `spec.against`)."""
    if isinstance(source, StreamSource):
        rows = source.count_window(dataset, window.start, window.end)
        return SideCount(dataset.name, rows, None, f"{source.config.kind} offsets", "messages")
    column = (spec.against_column if other_side else spec.column) or dataset.timestamp_column
    key = spec.sum or spec.distinct
    if isinstance(source, LakeSource) and spec.partition and not other_side and key is None:
        return _partition_footers(source, dataset, spec.partition, window)
    if column is None:
        raise DatasetError(
            f"reconcile: {dataset.name} needs a timestamp column to bound the window "
            f"(set timestamp_column on it, or {'against_column' if other_side else 'column'} in reconcile)",
            ErrorKind.CONFIG,
        )
    aggregate = "sum" if spec.sum else ("distinct" if spec.distinct else None)
    if isinstance(source, LakeSource):
        return _lake_query(source, dataset, column, window, key, aggregate)
    if isinstance(source, SqlSource):
        return _sql_query(source, dataset, column, window, key, aggregate)
    raise DatasetError(f"reconcile: {dataset.name}'s source cannot count a window", ErrorKind.CONFIG)


def _naive(value: datetime) -> datetime:
    return value.replace(tzinfo=None)


def _sql_query(
    source: SqlSource,
    dataset: DatasetConfig,
    column: str,
    window: Window,
    key: str | None,
    aggregate: str | None,
) -> SideCount:
    ts: sa.ColumnClause[Any] = sa.column(quoted_name(column, quote=True))
    selected: list[Any] = [sa.func.count().label("rows")]
    if key is not None:
        key_column: sa.ColumnClause[Any] = sa.column(quoted_name(key, quote=True))
        selected.append(
            (sa.func.sum(key_column) if aggregate == "sum" else sa.func.count(sa.distinct(key_column))).label(
                "measure"
            )
        )
    query = (
        sa.select(*selected)
        .select_from(source.table_clause(dataset))
        .where(ts >= _naive(window.start), ts < _naive(window.end))
    )
    try:
        with source.engine.connect() as conn:
            row = conn.execute(query).one()
    except sa.exc.DBAPIError as exc:
        raise classify(exc, f"counting {dataset.name} for reconcile", source.backend.error_hints) from None
    measure = None if key is None or row[1] is None else float(row[1])
    return SideCount(dataset.name, int(row[0]), measure, f"count over {column}")


def _lake_query(
    source: LakeSource,
    dataset: DatasetConfig,
    column: str,
    window: Window,
    key: str | None,
    aggregate: str | None,
) -> SideCount:
    select = "count(*)"
    if key is not None:
        quoted = quote_identifier(key)
        select += f", sum({quoted})" if aggregate == "sum" else f", count(DISTINCT {quoted})"
    ts = quote_identifier(column)
    query = (
        f"SELECT {select} FROM {source.relation(dataset)} "  # noqa: S608 - identifiers quoted, values bound
        f"WHERE {ts} >= $start AND {ts} < $end"
    )
    con = source.connection()
    try:
        row = con.execute(query, {"start": _naive(window.start), "end": _naive(window.end)}).fetchone()
    except duckdb.Error as exc:
        raise classify(exc, f"counting {dataset.name} for reconcile", engines.DUCKDB.error_hints) from None
    finally:
        con.close()
    assert row is not None
    measure = None if key is None or row[1] is None else float(row[1])
    return SideCount(dataset.name, int(row[0]), measure, f"count over {column}")


def _partition_footers(
    source: LakeSource, dataset: DatasetConfig, partition: str, window: Window
) -> SideCount:
    """Rows of the window's hive partition (`<partition>=<date>`) from Parquet footers: no data is read."""
    marker = f"{partition}={window.start:%Y-%m-%d}"
    files = [str(f) for f in source.files(dataset) if marker in Path(f).parts]
    if not files:
        return SideCount(dataset.name, 0, None, f"no files in partition {marker}")
    con = source.connection()
    try:
        row = con.execute(
            "SELECT sum(num_rows)::BIGINT FROM parquet_file_metadata($files)", {"files": files}
        ).fetchone()
    except duckdb.Error as exc:
        raise classify(
            exc, f"reading {dataset.name} footers for reconcile", engines.DUCKDB.error_hints
        ) from None
    finally:
        con.close()
    return SideCount(dataset.name, int(row[0] or 0) if row else 0, None, f"file footers of {marker}")
