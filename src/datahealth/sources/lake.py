"""Lake datasets (Parquet or CSV files under a root) read through an in-process DuckDB.

The files are the catalog: the schema comes from Parquet footers (no data read), the row count from
footer metadata, the last-updated time from the newest file's modification time. Only CSV counts and an
explicit `timestamp_column` cost a scan. Files are passed to DuckDB as bound list parameters, and a
per-file schema comparison shows a drifted partition by name.
"""

from __future__ import annotations

import glob
import os
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from datahealth import engines
from datahealth.config.models import DatasetConfig, LakeSourceConfig
from datahealth.core.results import ColumnInfo, ErrorKind, TableMeta, as_utc
from datahealth.engines.errors import classify
from datahealth.sources.base import DatasetError, Measurement

_LAKE_FILES = "lake_files"


def quote_identifier(name: str) -> str:
    """DuckDB identifier quoting: wrap in double quotes, double any inside."""
    return '"' + name.replace('"', '""') + '"'


class LakeSource:
    """Files read through one DuckDB connection per source (a cursor per call, as DuckDB requires per thread)."""

    backend = engines.DUCKDB
    dialect = backend.name

    def __init__(self, name: str, config: LakeSourceConfig, project_root: Path) -> None:
        self.name = name
        self.config = config
        root = Path(config.root).expanduser()
        self.root = root if root.is_absolute() else project_root / root
        self._connection: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()

    def connection(self) -> duckdb.DuckDBPyConnection:
        """A cursor on the source's shared in-memory DuckDB (cursors are cheap; one per thread/call)."""
        with self._lock:
            if self._connection is None:
                self._connection = duckdb.connect(":memory:", config={"threads": 2})
            return self._connection.cursor()

    def files(self, dataset: DatasetConfig) -> list[Path]:
        """The dataset's files, sorted, or a DatasetError saying which glob matched nothing."""
        pattern = dataset.path or ""
        if not self.root.is_dir():
            raise DatasetError(f"lake root {self.root} does not exist", ErrorKind.MISSING)
        matches = sorted(
            Path(p) for p in glob.glob(str(self.root / pattern), recursive=True) if os.path.isfile(p)
        )
        if not matches:
            raise DatasetError(f"no files match '{pattern}' under {self.root}", ErrorKind.MISSING)
        return matches

    def format_of(self, dataset: DatasetConfig) -> str:
        return dataset.format or self.config.format

    def hive(self, dataset: DatasetConfig) -> bool:
        return (
            self.config.hive_partitioning if dataset.hive_partitioning is None else dataset.hive_partitioning
        )

    def relation_sql(self, dataset: DatasetConfig) -> str:
        """The FROM clause reading the dataset; `$files` is bound to the file list by the caller."""
        reader = "read_parquet" if self.format_of(dataset) == "parquet" else "read_csv"
        hive = "true" if self.hive(dataset) else "false"
        return f"{reader}($files, hive_partitioning={hive}, union_by_name=true)"

    def describe(self, datasets: Sequence[DatasetConfig]) -> dict[str, TableMeta | DatasetError]:
        results: dict[str, TableMeta | DatasetError] = {}
        for dataset in datasets:
            try:
                results[dataset.name] = self._describe_one(dataset)
            except DatasetError as exc:
                results[dataset.name] = exc
            except duckdb.Error as exc:
                results[dataset.name] = classify(
                    exc, f"reading {dataset.name} files failed", engines.DUCKDB.error_hints
                )
        return results

    def _describe_one(self, dataset: DatasetConfig) -> TableMeta:
        files = self.files(dataset)
        names = [str(f) for f in files]
        con = self.connection()
        try:
            describe = f"DESCRIBE SELECT * FROM {self.relation_sql(dataset)}"  # noqa: S608 - files bound
            rows = con.execute(describe, {"files": names}).fetchall()
            columns = tuple(ColumnInfo(r[0], str(r[1]).lower(), None) for r in rows)
            details: dict[str, Any] = self._file_details(files)
            if self.format_of(dataset) == "parquet":
                details.update(self._schema_variants(con, names))
        except duckdb.Error as exc:
            raise _lake_error(exc, dataset) from None
        finally:
            con.close()
        return TableMeta(columns, None, "files", details)

    @staticmethod
    def _file_details(files: list[Path]) -> dict[str, Any]:
        stats = [f.stat() for f in files]
        newest = max(stats, key=lambda s: s.st_mtime)
        return {
            "file_count": len(files),
            "total_bytes": sum(s.st_size for s in stats),
            "newest_file_mtime": datetime.fromtimestamp(newest.st_mtime, UTC).isoformat(),
        }

    @staticmethod
    def _schema_variants(con: duckdb.DuckDBPyConnection, names: list[str]) -> dict[str, Any]:
        """Group files by their footer schema; more than one group means a partition drifted."""
        rows = con.execute(
            "SELECT file_name, string_agg(name || ':' || coalesce(type, '') || ':' || coalesce(logical_type, ''), ',' "
            "ORDER BY name) FROM parquet_schema($files) WHERE name <> 'duckdb_schema' GROUP BY file_name",
            {"files": names},
        ).fetchall()
        groups: dict[str, list[str]] = {}
        for file_name, signature in rows:
            groups.setdefault(signature, []).append(file_name)
        if len(groups) <= 1:
            return {"schema_variants": 1}
        majority = max(groups.values(), key=len)
        outliers = sorted(f for files in groups.values() if files is not majority for f in files)
        return {"schema_variants": len(groups), "files_with_other_schema": outliers[:20]}

    def measure(self, dataset: DatasetConfig, meta: TableMeta, as_of: datetime) -> Measurement:
        files = self.files(dataset)
        names = [str(f) for f in files]
        ts = dataset.timestamp_column
        if ts and ts not in {c.name for c in meta.columns}:
            raise DatasetError(f"timestamp_column '{ts}' is not a column of {dataset.name}", ErrorKind.CONFIG)
        con = self.connection()
        queries = 0
        last_updated: datetime | None = None
        try:
            if self.format_of(dataset) == "parquet":
                row_count = con.execute(
                    "SELECT sum(num_rows)::BIGINT FROM parquet_file_metadata($files)", {"files": names}
                ).fetchone()
                queries += 1
                rows = int(row_count[0] or 0) if row_count else 0
                method = "file_metadata"
                if ts:
                    value = con.execute(
                        f"SELECT max({quote_identifier(ts)}) FROM {self.relation_sql(dataset)}",  # noqa: S608 - identifiers quoted, files bound
                        {"files": names},
                    ).fetchone()
                    queries += 1
                    last_updated = _as_datetime(value[0] if value else None)
            else:
                select = "count(*)" + (f", max({quote_identifier(ts)})" if ts else "")
                query = f"SELECT {select} FROM {self.relation_sql(dataset)}"  # noqa: S608 - quoted, files bound
                result = con.execute(query, {"files": names}).fetchone()
                queries += 1
                rows = int(result[0]) if result else 0
                method = "exact"
                if ts and result:
                    last_updated = _as_datetime(result[1])
        except duckdb.Error as exc:
            raise _lake_error(exc, dataset) from None
        finally:
            con.close()
        if last_updated is None and not ts:
            newest = max(f.stat().st_mtime for f in files)
            return Measurement(rows, method, datetime.fromtimestamp(newest, UTC), "file_mtime", queries)
        return Measurement(rows, method, last_updated, "column" if last_updated else None, queries)

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None


def _lake_error(exc: duckdb.Error, dataset: DatasetConfig) -> DatasetError:
    error = classify(exc, f"reading {dataset.name} files failed", engines.DUCKDB.error_hints)
    if isinstance(exc, duckdb.InvalidInputException | duckdb.IOException) and error.kind == ErrorKind.QUERY:
        error.kind = ErrorKind.CORRUPT
    return error


def _as_datetime(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return as_utc(value)
    return None
