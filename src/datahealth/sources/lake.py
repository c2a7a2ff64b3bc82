"""Lake datasets read through an in-process DuckDB: files under a directory or an object-store prefix
(S3, Azure, GCS), and Delta Lake or Iceberg tables.

Metadata first. The listing is the catalog: each object's last-modified time gives freshness, a dated
hive partition (`partition_column`) names the newest and a missing partition; Parquet footers give the
schema and row counts; Delta's log and Iceberg's snapshots give schema, row count, last commit and the
rows it added. Data is read only for a CSV count, a `timestamp_column`, profiles and checks, and then
once per run: the dataset is materialised in the source's DuckDB on first read and every later step of
the run (measure, profile, checks, reconcile) reads that copy. Files are passed to DuckDB as bound list
parameters; a per-file schema comparison shows a drifted partition by name.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from datahealth import engines
from datahealth.config.models import DatasetConfig, LakeSourceConfig
from datahealth.core.results import ColumnInfo, ErrorKind, TableMeta, as_utc, utc_now
from datahealth.engines.cancel import watchdog
from datahealth.engines.errors import classify
from datahealth.sources.base import DatasetError, Measurement
from datahealth.sources.lakes import delta, iceberg
from datahealth.sources.lakes.formats import TableState
from datahealth.sources.lakes.location import parse_root
from datahealth.sources.lakes.partitions import partition_freshness, within_window
from datahealth.sources.lakes.stores import STORE_HINTS, LakeFile, LakeStore

TABLE_FORMATS = ("delta", "iceberg")


def quote_identifier(name: str) -> str:
    """DuckDB identifier quoting: wrap in double quotes, double any inside."""
    return '"' + name.replace('"', '""') + '"'


class LakeSource:
    """A lake root read through one DuckDB connection per source (a cursor per call, as DuckDB requires per thread)."""

    backend = engines.DUCKDB
    dialect = backend.name

    def __init__(self, name: str, config: LakeSourceConfig, project_root: Path) -> None:
        self.name = name
        self.config = config
        self.location = parse_root(config.root, project_root)
        self.root = self.location.local_root or Path(self.location.display())
        self.store = LakeStore(
            self.location,
            dict(config.storage_options),
            config.list_timeout.total_seconds(),
            config.max_objects,
        )
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._snapshots: dict[str, str] = {}  # dataset → materialised table in the source's DuckDB
        self._snapshot_locks: dict[str, threading.Lock] = {}
        self._states: dict[str, TableState] = {}
        self._as_of: datetime | None = None

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the source's shared in-memory DuckDB (cursors are cheap; one per thread/call)."""
        with self._lock:
            if self._connection is None:
                connection = duckdb.connect(":memory:", config={"threads": 2})
                try:
                    # a footer read once serves DESCRIBE, the schema comparison and the row counts
                    connection.execute("SET parquet_metadata_cache = true")
                    self.store.register(connection)
                except BaseException:
                    connection.close()
                    raise
                self._connection = connection
            return self._connection.cursor()

    # -- what the dataset is made of -------------------------------------------------------------

    def format_of(self, dataset: DatasetConfig) -> str:
        return dataset.format or self.config.format

    def is_table_format(self, dataset: DatasetConfig) -> bool:
        return self.format_of(dataset) in TABLE_FORMATS

    def hive(self, dataset: DatasetConfig) -> bool:
        return (
            self.config.hive_partitioning if dataset.hive_partitioning is None else dataset.hive_partitioning
        )

    def listing(self, dataset: DatasetConfig) -> list[LakeFile]:
        """The dataset's files (listed once per run), pruned to `partition_window`, or a DatasetError."""
        pattern = dataset.path or ""
        files = self.store.list_files(pattern)
        if dataset.partition_column and dataset.partition_window:
            # describe() runs before the run's as-of time reaches the source: it prunes relative to now
            since = ((self._as_of or utc_now()) - dataset.partition_window).date()
            files = within_window(files, dataset.partition_column, since)
        if not files:
            raise DatasetError(
                f"no files match '{pattern}' under {self.location.display()}", ErrorKind.MISSING
            )
        return files

    def files(self, dataset: DatasetConfig) -> list[str]:
        """The URLs (or local paths) DuckDB reads the dataset's files by, sorted."""
        return [f.url for f in self.listing(dataset)]

    def relation_sql(self, dataset: DatasetConfig) -> str:
        """The FROM clause reading the files; `$files` is bound to the file list by the caller."""
        reader = "read_parquet" if self.format_of(dataset) == "parquet" else "read_csv"
        hive = "true" if self.hive(dataset) else "false"
        return f"{reader}($files, hive_partitioning={hive}, union_by_name=true)"

    def table_state(self, dataset: DatasetConfig) -> TableState:
        """Delta log / Iceberg snapshot metadata of the dataset, read once per run."""
        with self._lock:
            cached = self._states.get(_key(dataset))
        if cached is not None:
            return cached
        try:
            if self.format_of(dataset) == "delta":
                state = delta.table_state(self.location.url(self.location.key(dataset.path or ""))
                                          if not self.location.is_local
                                          else str(self.root / (dataset.path or "")))  # fmt: skip
            else:
                catalog = dict(self.config.iceberg_catalog)
                name = catalog.pop("name", self.name)
                state = iceberg.table_state(name, catalog, dataset.table or dataset.short_name)
        except DatasetError:
            raise
        except Exception as exc:  # noqa: BLE001 - any reader error fails this dataset only
            raise _format_error(exc, dataset) from None
        with self._lock:
            self._states[_key(dataset)] = state
        return state

    # -- describe and measure: metadata first ------------------------------------------------------

    def describe(self, datasets: Sequence[DatasetConfig]) -> dict[str, TableMeta | DatasetError]:
        results: dict[str, TableMeta | DatasetError] = {}
        for dataset in datasets:
            try:
                results[dataset.name] = self._describe_one(dataset)
            except DatasetError as exc:
                results[dataset.name] = exc
            except duckdb.Error as exc:
                results[dataset.name] = _lake_error(exc, dataset)
        return results

    def _describe_one(self, dataset: DatasetConfig) -> TableMeta:
        if self.is_table_format(dataset):
            state = self.table_state(dataset)
            return TableMeta(
                _arrow_columns(state.schema), state.row_count, self.format_of(dataset), dict(state.details)
            )
        files = self.listing(dataset)
        names = [f.url for f in files]
        con = self.connection()
        try:
            describe = f"DESCRIBE SELECT * FROM {self.relation_sql(dataset)}"  # noqa: S608 - files bound
            rows = con.execute(describe, {"files": names}).fetchall()
            columns = tuple(ColumnInfo(r[0], str(r[1]).lower(), None) for r in rows)
            details: dict[str, Any] = _file_details(files)
            if self.format_of(dataset) == "parquet":
                details.update(_footers(con, names))
        except duckdb.Error as exc:
            raise _lake_error(exc, dataset) from None
        finally:
            con.close()
        if not self.location.is_local:
            details["list_requests"] = self.store.list_requests
        return TableMeta(columns, None, "files", details)

    def measure(self, dataset: DatasetConfig, meta: TableMeta, as_of: datetime) -> Measurement:
        self._as_of = self._as_of or as_of
        ts = dataset.timestamp_column
        if ts and ts not in {c.name for c in meta.columns}:
            raise DatasetError(f"timestamp_column '{ts}' is not a column of {dataset.name}", ErrorKind.CONFIG)
        if self.is_table_format(dataset):
            return self._measure_table(dataset, as_of)
        files = self.listing(dataset)
        queries = 0
        last_updated: datetime | None = None
        if self.format_of(dataset) == "parquet" and "footer_rows" in meta.details:
            rows: int | None = int(meta.details["footer_rows"])
            method = "file_metadata"
        else:
            rows, method = None, "exact"
        if ts or rows is None:
            select = "count(*)" + (f", max({quote_identifier(ts)})" if ts else "")
            result = self._query_snapshot(dataset, f"SELECT {select} FROM {{relation}}")  # noqa: S608 - quoted
            queries += 1
            if rows is None:
                rows = int(result[0]) if result else 0
            if ts and result:
                last_updated = _as_datetime(result[1])
        if ts:
            return Measurement(rows, method, last_updated, "column" if last_updated else None, queries)
        if dataset.partition_column:
            reaches, text = partition_freshness(files, dataset.partition_column, as_of)
            return Measurement(rows, method, reaches, text, queries, {"newest_file_mtime": _newest(files)})
        newest = max(f.modified for f in files)
        return Measurement(rows, method, newest, "file_mtime", queries)

    def _measure_table(self, dataset: DatasetConfig, as_of: datetime) -> Measurement:
        state = self.table_state(dataset)
        details = {"rows_added_last_commit": state.rows_added_last_commit, "table_version": state.version}
        method = "delta_log" if self.format_of(dataset) == "delta" else "iceberg_snapshot"
        if dataset.timestamp_column:
            result = self._query_snapshot(
                dataset,
                f"SELECT max({quote_identifier(dataset.timestamp_column)}) FROM {{relation}}",  # noqa: S608 - quoted
            )
            return Measurement(
                state.row_count, method, _as_datetime(result[0] if result else None), "column", 1, details
            )
        return Measurement(
            state.row_count, method, state.last_commit, f"{method.replace('_', ' ')} commit", 0, details
        )

    # -- data: materialised once per run --------------------------------------------------------------

    def relation(self, dataset: DatasetConfig) -> str:
        """A quoted table in the source's DuckDB holding the dataset, read from the store on first use only.

        Profiles, checks, reconcile counts and measurements read it, so each file is read at most once
        per run. The read runs under the source's `statement_timeout`.
        """
        with self._lock:
            lock = self._snapshot_locks.setdefault(_key(dataset), threading.Lock())
        with lock:
            existing = self._snapshots.get(_key(dataset))
            if existing is not None:
                return existing
            table = quote_identifier(f"snapshot_{len(self._snapshots)}_{dataset.short_name}")
            con = self.connection()
            try:
                with watchdog(self.config.statement_timeout.total_seconds(), con.interrupt) as watch:
                    if self.is_table_format(dataset):
                        arrow = self.table_state(dataset).read()
                        con.register("snapshot_arrow", arrow)
                        con.execute(f"CREATE TABLE {table} AS SELECT * FROM snapshot_arrow")  # noqa: S608 - quoted
                        con.unregister("snapshot_arrow")
                    else:
                        query = f"CREATE TABLE {table} AS SELECT * FROM {self.relation_sql(dataset)}"  # noqa: S608
                        con.execute(query, {"files": self.files(dataset)})
            except duckdb.Error as exc:
                if watch.fired:
                    raise DatasetError(
                        f"reading {dataset.name} took longer than statement_timeout", ErrorKind.TIMEOUT
                    ) from None
                raise _lake_error(exc, dataset) from None
            except DatasetError:
                raise
            except Exception as exc:  # noqa: BLE001 - a table-format reader's error fails this dataset only
                raise _format_error(exc, dataset) from None
            finally:
                con.close()
            self._snapshots[_key(dataset)] = table
            return table

    def snapshot_arrow(self, dataset: DatasetConfig) -> pa.Table:
        """The materialised dataset as Arrow (for a private checks connection): no second read of the store."""
        table = self.relation(dataset)
        con = self.connection()
        try:
            return con.sql(f"SELECT * FROM {table}").to_arrow_table()  # noqa: S608 - quoted
        finally:
            con.close()

    def _query_snapshot(self, dataset: DatasetConfig, template: str) -> Any:
        table = self.relation(dataset)
        con = self.connection()
        try:
            return con.execute(template.format(relation=table)).fetchone()
        except duckdb.Error as exc:
            raise _lake_error(exc, dataset) from None
        finally:
            con.close()

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None
            self._snapshots.clear()
            self._states.clear()


def _key(dataset: DatasetConfig) -> str:
    """What a run's cached listing, metadata and copy belong to (a dataset's name and where it is read)."""
    return "\x00".join((dataset.name, dataset.path or "", dataset.table or "", dataset.format or ""))


def _file_details(files: list[LakeFile]) -> dict[str, Any]:
    return {
        "file_count": len(files),
        "total_bytes": sum(f.size for f in files),
        "newest_file_mtime": _newest(files),
    }


def _newest(files: list[LakeFile]) -> str:
    return max(f.modified for f in files).isoformat()


def _footers(con: duckdb.DuckDBPyConnection, names: list[str]) -> dict[str, Any]:
    """Row counts and schema groups from the Parquet footers (one footer read per file, no data)."""
    rows = con.execute(
        "SELECT file_name, string_agg(name || ':' || coalesce(type, '') || ':' || coalesce(logical_type, ''), ',' "
        "ORDER BY name) FROM parquet_schema($files) WHERE name <> 'duckdb_schema' GROUP BY file_name",
        {"files": names},
    ).fetchall()
    count = con.execute(
        "SELECT sum(num_rows)::BIGINT FROM parquet_file_metadata($files)", {"files": names}
    ).fetchone()
    details: dict[str, Any] = {"footer_rows": int(count[0] or 0) if count else 0}
    groups: dict[str, list[str]] = {}
    for file_name, signature in rows:
        groups.setdefault(signature, []).append(file_name)
    if len(groups) <= 1:
        details["schema_variants"] = 1
        return details
    majority = max(groups.values(), key=len)
    outliers = sorted(f for files in groups.values() if files is not majority for f in files)
    details.update({"schema_variants": len(groups), "files_with_other_schema": outliers[:20]})
    return details


def _arrow_columns(schema: pa.Schema) -> tuple[ColumnInfo, ...]:
    """Column names and DuckDB type names of an Arrow schema, from a zero-row relation (nothing read)."""
    con = duckdb.connect(":memory:")
    try:
        con.register("empty_snapshot", pa.Table.from_batches([], schema=schema))
        rows = con.execute("DESCRIBE SELECT * FROM empty_snapshot").fetchall()
    finally:
        con.close()
    return tuple(ColumnInfo(r[0], str(r[1]).lower(), None) for r in rows)


def _lake_error(exc: duckdb.Error, dataset: DatasetConfig) -> DatasetError:
    error = classify(
        exc, f"reading {dataset.name} files failed", {**engines.DUCKDB.error_hints, **STORE_HINTS}
    )
    if isinstance(exc, duckdb.InvalidInputException | duckdb.IOException) and error.kind == ErrorKind.QUERY:
        error.kind = ErrorKind.CORRUPT
    return error


def _format_error(exc: BaseException, dataset: DatasetConfig) -> DatasetError:
    return classify(exc, f"reading {dataset.name} table metadata failed", STORE_HINTS)


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return as_utc(value)
    return None


__all__ = ["LakeSource", "quote_identifier"]
