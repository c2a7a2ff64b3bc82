"""LakeSource over real Parquet and CSV files: footers for schema and counts, mtimes for freshness."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from datahealth.config.models import DatasetConfig, LakeSourceConfig
from datahealth.core.results import ErrorKind, TableMeta
from datahealth.sources import DatasetError, LakeSource

AS_OF = datetime(2026, 10, 10, 12, tzinfo=UTC)


def write_partitions(root: Path) -> None:
    con = duckdb.connect()
    for day, rows in (("2026-10-08", 10), ("2026-10-09", 20)):
        target = root / "events" / f"event_date={day}"
        target.mkdir(parents=True)
        con.execute(
            f"COPY (SELECT range AS id, TIMESTAMP '{day} 01:00:00' + INTERVAL (range) MINUTE AS ts FROM range({rows})) "
            f"TO '{target / 'part-0.parquet'}' (FORMAT parquet)"
        )
        mtime = datetime.fromisoformat(f"{day}T05:30:00+00:00").timestamp()
        os.utime(target / "part-0.parquet", (mtime, mtime))
    con.close()


def source(root: Path, **overrides: object) -> LakeSource:
    settings: dict[str, object] = {"kind": "lake", "root": str(root), "hive_partitioning": True, **overrides}
    config = LakeSourceConfig.model_validate(settings)
    return LakeSource("lake", config, root)


def dataset(**fields: object) -> DatasetConfig:
    return DatasetConfig(name="lake.events", **fields)  # type: ignore[arg-type]


def test_parquet_schema_rows_and_mtime_come_from_metadata(tmp_path: Path) -> None:
    write_partitions(tmp_path)
    lake = source(tmp_path)
    ds = dataset(path="events/**/*.parquet")
    meta = lake.describe([ds])["lake.events"]
    assert isinstance(meta, TableMeta)
    assert [c.name for c in meta.columns] == ["id", "ts", "event_date"]
    assert meta.details["file_count"] == 2 and meta.details["schema_variants"] == 1
    measurement = lake.measure(ds, meta, AS_OF)
    assert measurement.row_count == 30 and measurement.row_count_method == "file_metadata"
    assert measurement.last_updated == datetime(2026, 10, 9, 5, 30, tzinfo=UTC)
    assert measurement.last_updated_method == "file_mtime"
    lake.close()


def test_timestamp_column_overrides_file_times(tmp_path: Path) -> None:
    write_partitions(tmp_path)
    lake = source(tmp_path)
    ds = dataset(path="events/**/*.parquet", timestamp_column="ts")
    meta = lake.describe([ds])["lake.events"]
    assert isinstance(meta, TableMeta)
    measurement = lake.measure(ds, meta, AS_OF)
    assert measurement.last_updated == datetime(2026, 10, 9, 1, 19, tzinfo=UTC)
    assert measurement.last_updated_method == "column"
    lake.close()


def test_drifted_partition_is_named(tmp_path: Path) -> None:
    write_partitions(tmp_path)
    drifted = tmp_path / "events" / "event_date=2026-10-10"
    drifted.mkdir()
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT 'x' AS id, TIMESTAMP '2026-10-10 01:00:00' AS ts, 1 AS extra) TO '{drifted / 'part-0.parquet'}' (FORMAT parquet)"
    )
    con.close()
    lake = source(tmp_path)
    meta = lake.describe([dataset(path="events/**/*.parquet")])["lake.events"]
    assert isinstance(meta, TableMeta)
    assert meta.details["schema_variants"] == 2
    assert meta.details["files_with_other_schema"] == [str(drifted / "part-0.parquet")]
    assert {c.name: c.data_type for c in meta.columns}["id"] == "varchar"
    lake.close()


def test_csv_counts_rows_with_one_scan(tmp_path: Path) -> None:
    (tmp_path / "crm").mkdir()
    (tmp_path / "crm" / "a.csv").write_text("id,email\n1,a@x\n2,b@x\n")
    (tmp_path / "crm" / "b.csv").write_text("id,email\n3,c@x\n")
    lake = source(tmp_path, format="csv", hive_partitioning=False)
    ds = dataset(path="crm/*.csv")
    meta = lake.describe([ds])["lake.events"]
    assert isinstance(meta, TableMeta) and [c.name for c in meta.columns] == ["id", "email"]
    measurement = lake.measure(ds, meta, AS_OF)
    assert measurement.row_count == 3 and measurement.row_count_method == "exact" and measurement.queries == 1
    lake.close()


def test_corrupt_parquet_is_a_corrupt_error_for_that_dataset(tmp_path: Path) -> None:
    write_partitions(tmp_path)
    bad = tmp_path / "events" / "event_date=2026-10-09" / "part-0.parquet"
    bad.write_bytes(bad.read_bytes()[:40])  # truncated file
    lake = source(tmp_path)
    error = lake.describe([dataset(path="events/**/*.parquet")])["lake.events"]
    assert isinstance(error, DatasetError)
    assert error.kind == ErrorKind.CORRUPT
    assert "lake.events" in str(error)
    lake.close()


@pytest.mark.parametrize(("root_exists", "expected"), [(True, "no files match"), (False, "does not exist")])
def test_no_files_is_a_missing_error(tmp_path: Path, root_exists: bool, expected: str) -> None:
    root = tmp_path if root_exists else tmp_path / "absent"
    lake = source(root)
    error = lake.describe([dataset(path="events/**/*.parquet")])["lake.events"]
    assert isinstance(error, DatasetError) and error.kind == ErrorKind.MISSING and expected in str(error)
