"""Delta Lake (local and on S3 via moto) and Iceberg (SQL catalog on SQLite) as lake datasets.

Each table gets two appends and then a schema-evolving one; freshness, row count, rows added by the last
commit and the schema must come from the table's metadata, and profiles read the current version.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest

from datahealth.config.models import DatasetConfig, LakeSourceConfig
from datahealth.core.results import ErrorKind, TableMeta
from datahealth.profiling.profiler import profile_dataset
from datahealth.rules.schema_diff import diff_columns
from datahealth.sources import DatasetError, LakeSource
from tests.support.lakes import ObjectStore

AS_OF = datetime(2026, 12, 4, 7, tzinfo=UTC)
FIRST = pa.table({"id": pa.array([1, 2], pa.int64()), "amount": pa.array([1.5, 2.5])})
SECOND = pa.table({"id": pa.array([3, 4, 5], pa.int64()), "amount": pa.array([3.0, 4.0, 5.0])})
EVOLVED = pa.table(
    {"id": pa.array([6], pa.int64()), "amount": pa.array([6.0]), "channel": pa.array(["web"], pa.string())}
)


@dataclass
class Table:
    source: LakeSource
    dataset: DatasetConfig
    evolve: object  # () -> None: append EVOLVED with a new column


def _delta(uri: str, storage_options: dict[str, str] | None = None) -> object:
    from deltalake import write_deltalake

    write_deltalake(uri, FIRST, storage_options=storage_options)
    write_deltalake(uri, SECOND, mode="append", storage_options=storage_options)
    return lambda: write_deltalake(
        uri, EVOLVED, mode="append", schema_mode="merge", storage_options=storage_options
    )


@pytest.fixture(params=["delta-local", "delta-s3", "iceberg-sql"])
def table(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Table:
    if request.param == "delta-local":
        evolve = _delta(str(tmp_path / "lake" / "orders"))
        config = {"kind": "lake", "root": str(tmp_path / "lake"), "format": "delta"}
        dataset = DatasetConfig(name="lake.orders", path="orders")
    elif request.param == "delta-s3":
        store: ObjectStore = request.getfixturevalue("s3_store")
        for key, value in store.env.items():
            monkeypatch.setenv(key, value)
        bucket = f"delta-{uuid.uuid4().hex[:10]}"
        store.make_bucket(bucket)
        evolve = _delta(f"s3://{bucket}/tables/orders")
        config = {"kind": "lake", "root": f"s3://{bucket}/tables", "format": "delta"}
        dataset = DatasetConfig(name="lake.orders", path="orders")
    else:
        from pyiceberg.catalog import load_catalog
        from pyiceberg.types import StringType

        properties = {
            "type": "sql",
            "uri": f"sqlite:///{tmp_path}/catalog.db",
            "warehouse": f"file://{tmp_path}/wh",
        }
        catalog = load_catalog("test", **properties)
        catalog.create_namespace("sales")
        iceberg = catalog.create_table("sales.orders", schema=FIRST.schema)
        iceberg.append(FIRST)
        iceberg.append(SECOND)

        def evolve() -> None:
            loaded = catalog.load_table("sales.orders")
            with loaded.update_schema() as update:
                update.add_column("channel", StringType())
            catalog.load_table("sales.orders").append(EVOLVED)

        # the SQL catalog keeps tables per catalog name: `name` says which (default: the source's name)
        catalog_config = {"name": "test", **properties}
        config = {
            "kind": "lake",
            "root": str(tmp_path),
            "format": "iceberg",
            "iceberg_catalog": catalog_config,
        }
        dataset = DatasetConfig(name="lake.orders", table="sales.orders")
    source = LakeSource("lake", LakeSourceConfig.model_validate(config), tmp_path)
    return Table(source, dataset, evolve)


def test_freshness_volume_and_schema_come_from_metadata(table: Table) -> None:
    meta = table.source.describe([table.dataset])["lake.orders"]
    assert isinstance(meta, TableMeta), meta
    assert [c.name for c in meta.columns] == ["id", "amount"]
    assert [c.data_type for c in meta.columns] == ["bigint", "double"]
    measurement = table.source.measure(table.dataset, meta, AS_OF)
    assert measurement.row_count == 5 and measurement.queries == 0
    assert measurement.details is not None and measurement.details["rows_added_last_commit"] == 3
    assert measurement.last_updated is not None
    assert abs(measurement.last_updated - datetime.now(UTC)) < timedelta(minutes=10)
    assert measurement.last_updated_method in ("delta log commit", "iceberg snapshot commit")
    table.source.close()


def test_schema_evolution_is_a_schema_change(table: Table, tmp_path: Path) -> None:
    before = table.source.describe([table.dataset])["lake.orders"]
    assert isinstance(before, TableMeta)
    table.source.close()
    table.evolve()  # type: ignore[operator]
    after = table.source.describe([table.dataset])["lake.orders"]
    assert isinstance(after, TableMeta), after
    changes = diff_columns(before.columns, after.columns)
    assert [(c.kind, c.column) for c in changes] == [("column_added", "channel")]
    measurement = table.source.measure(table.dataset, after, AS_OF)
    assert measurement.row_count == 6
    assert measurement.details is not None and measurement.details["rows_added_last_commit"] == 1
    table.source.close()


def test_profiles_read_the_current_version(table: Table) -> None:
    meta = table.source.describe([table.dataset])["lake.orders"]
    assert isinstance(meta, TableMeta)
    profile = profile_dataset(table.source, table.dataset, meta, AS_OF, row_hint=5)
    assert profile.row_count == 5
    amount = next(c for c in profile.columns if c.column == "amount")
    assert amount.stats["max"] == 5.0
    table.source.close()


def test_a_missing_table_fails_its_dataset(table: Table) -> None:
    absent = table.dataset.model_copy(update={"path": "nothing_here", "table": "sales.nothing_here"})
    if table.dataset.table is None:
        absent = absent.model_copy(update={"table": None})
    else:
        absent = absent.model_copy(update={"path": None})
    error = table.source.describe([absent])["lake.orders"]
    assert isinstance(error, DatasetError), error
    assert error.kind in (ErrorKind.MISSING, ErrorKind.QUERY) and "\n" not in str(error)
    table.source.close()
