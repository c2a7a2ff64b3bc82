"""One conformance suite for lake stores and table formats, against real local servers.

Every store (local disk, S3 on moto, Azure Blob on Azurite, GCS on fake-gcs-server) holds the same
hive-partitioned Parquet dataset and a CSV one, reached the way a user reaches it: the root URL plus the
platform's standard environment variables. Each must give schema, rows and freshness from metadata,
name a missing partition, read each file at most once per run, and fail a broken dataset alone with a
one-line, secret-free reason. Delta Lake (local and on S3) and Iceberg (SQL catalog) give the same
answers from their logs and snapshots.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from datahealth.config.models import DatasetConfig, LakeSourceConfig
from datahealth.core.redaction import register_secret
from datahealth.core.results import ErrorKind, TableMeta
from datahealth.profiling.profiler import profile_dataset
from datahealth.sources import DatasetError, LakeSource
from tests.support.lakes import AZURITE_KEY, ObjectStore
from tests.support.ports import free_port

DAYS = ("2026-12-01", "2026-12-02")
AS_OF = datetime(2026, 12, 4, 7, tzinfo=UTC)  # 2026-12-03's partition is missing by then


@dataclass
class Lake:
    """A lake root on one store, filled with the suite's data, and the env that reaches it."""

    store: str
    root: str
    env: dict[str, str]
    target: ObjectStore | None
    bucket: str
    prefix: str

    def source(self, tmp_path: Path, **settings: object) -> LakeSource:
        config = LakeSourceConfig.model_validate(
            {"kind": "lake", "root": self.root, "hive_partitioning": True, **settings}
        )
        return LakeSource("lake", config, tmp_path)

    def remove_all(self, local: Path) -> None:
        """Delete every object of the dataset (the store's copy, or the local files)."""
        if self.target is None:
            for path in local.rglob("*.parquet"):
                path.unlink()
            return
        for path in sorted(p for p in local.rglob("*.parquet")):
            self.target.put_bytes(self.bucket, f"{self.prefix}/{path.relative_to(local).as_posix()}", b"gone")


def write_dataset(local: Path) -> None:
    con = duckdb.connect()
    for index, day in enumerate(DAYS):
        target = local / "events" / f"event_date={day}"
        target.mkdir(parents=True)
        rows = 10 * (index + 1)
        con.execute(
            f"COPY (SELECT range AS id, TIMESTAMP '{day} 01:00:00' + INTERVAL (range) MINUTE AS ts, "
            f"'user-' || (range % 3) AS user_id FROM range({rows})) TO '{target / 'part-0.parquet'}' (FORMAT parquet)"
        )
    (local / "exports").mkdir()
    (local / "exports" / "crm.csv").write_text("id,name\n1,a\n2,b\n3,c\n")
    con.close()


def _lake(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    local = tmp_path / "data"
    local.mkdir()
    write_dataset(local)
    if request.param == "local":
        return Lake("local", str(local), {}, None, "", "")
    store: ObjectStore = request.getfixturevalue(f"{request.param}_store")
    for key, value in store.env.items():
        monkeypatch.setenv(key, value)
    bucket, prefix = f"lake-{uuid.uuid4().hex[:10]}", "raw"
    store.upload_tree(local, bucket, prefix)
    return Lake(request.param, store.root(bucket, prefix), store.env, store, bucket, prefix)


@pytest.fixture(params=["local", "s3", "azure", "gcs"])
def lake(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    return _lake(request, tmp_path, monkeypatch)


@pytest.fixture(params=["s3", "azure", "gcs"])
def remote_lake(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Lake:
    """The object stores only: listing budgets apply to listings through a client."""
    return _lake(request, tmp_path, monkeypatch)


def events(**fields: object) -> DatasetConfig:
    return DatasetConfig(name="lake.events", path="events/**/*.parquet", **fields)  # type: ignore[arg-type]


def test_schema_rows_and_freshness_come_from_metadata(lake: Lake, tmp_path: Path) -> None:
    source = lake.source(tmp_path)
    dataset = events()
    meta = source.describe([dataset])["lake.events"]
    assert isinstance(meta, TableMeta), meta
    assert [c.name for c in meta.columns] == ["id", "ts", "user_id", "event_date"]
    assert meta.details["file_count"] == 2 and meta.details["schema_variants"] == 1
    measurement = source.measure(dataset, meta, AS_OF)
    assert (measurement.row_count, measurement.row_count_method, measurement.queries) == (
        30,
        "file_metadata",
        0,
    )
    # the newest object's last-modified time from the listing: written moments ago
    assert measurement.last_updated is not None
    assert abs(measurement.last_updated - datetime.now(UTC)) < timedelta(minutes=10)
    assert measurement.last_updated_method == "file_mtime"
    source.close()


def test_a_missing_partition_is_named(lake: Lake, tmp_path: Path) -> None:
    source = lake.source(tmp_path)
    dataset = events(partition_column="event_date")
    meta = source.describe([dataset])["lake.events"]
    assert isinstance(meta, TableMeta), meta
    measurement = source.measure(dataset, meta, AS_OF)
    assert measurement.last_updated == datetime(2026, 12, 3, tzinfo=UTC)
    assert measurement.last_updated_method == "partition event_date=2026-12-02; event_date=2026-12-03 absent"
    source.close()


def test_partitions_outside_the_window_are_not_read(lake: Lake, tmp_path: Path) -> None:
    source = lake.source(tmp_path)
    dataset = events(partition_column="event_date", partition_window="1d")
    source._as_of = datetime(2026, 12, 3, 7, tzinfo=UTC)  # the run's as-of time, as measure() records it
    meta = source.describe([dataset])["lake.events"]
    assert isinstance(meta, TableMeta), meta
    assert meta.details["file_count"] == 1 and meta.details["footer_rows"] == 20
    source.close()


def test_each_file_is_read_once_per_run(lake: Lake, tmp_path: Path) -> None:
    """After the first read (measure's max(ts)), the objects are destroyed; profile and checks still work."""
    source = lake.source(tmp_path)
    dataset = events(timestamp_column="ts")
    meta = source.describe([dataset])["lake.events"]
    assert isinstance(meta, TableMeta), meta
    measurement = source.measure(dataset, meta, AS_OF)
    assert measurement.last_updated == datetime(2026, 12, 2, 1, 19, tzinfo=UTC)
    lake.remove_all(tmp_path / "data")
    profile = profile_dataset(source, dataset, meta, AS_OF, row_hint=30)
    assert profile.row_count == 30
    assert source.snapshot_arrow(dataset).num_rows == 30
    source.close()


def test_csv_is_counted_exactly(lake: Lake, tmp_path: Path) -> None:
    source = lake.source(tmp_path, format="csv", hive_partitioning=False)
    dataset = DatasetConfig(name="lake.crm", path="exports/*.csv")
    meta = source.describe([dataset])["lake.crm"]
    assert isinstance(meta, TableMeta), meta
    assert [c.name for c in meta.columns] == ["id", "name"]
    measurement = source.measure(dataset, meta, AS_OF)
    assert (measurement.row_count, measurement.row_count_method) == (3, "exact")
    source.close()


def test_a_corrupt_object_fails_its_dataset_only(lake: Lake, tmp_path: Path) -> None:
    local = tmp_path / "data" / "broken"
    local.mkdir()
    (local / "part-0.parquet").write_bytes(b"this is not parquet")
    if lake.target is not None:
        lake.target.put_bytes(lake.bucket, f"{lake.prefix}/broken/part-0.parquet", b"this is not parquet")
    source = lake.source(tmp_path)
    broken = DatasetConfig(name="lake.broken", path="broken/*.parquet")
    results = source.describe([broken, events()])
    error = results["lake.broken"]
    assert isinstance(error, DatasetError) and error.kind == ErrorKind.CORRUPT, error
    assert "\n" not in str(error)
    assert isinstance(results["lake.events"], TableMeta)
    source.close()


def test_missing_bucket_or_prefix_is_missing(lake: Lake, tmp_path: Path) -> None:
    if lake.target is None:
        root = str(tmp_path / "nowhere")
    else:
        root = lake.target.root(f"absent-{uuid.uuid4().hex[:8]}", "raw")
    config = LakeSourceConfig.model_validate({"kind": "lake", "root": root})
    source = LakeSource("lake", config, tmp_path)
    error = source.describe([events()])["lake.events"]
    assert isinstance(error, DatasetError) and error.kind == ErrorKind.MISSING, error
    source.close()


def test_a_hung_listing_is_a_timeout(
    remote_lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, hung_endpoint: str
) -> None:
    assert remote_lake.target is not None
    for key, value in remote_lake.target.env_at(hung_endpoint).items():
        monkeypatch.setenv(key, value)
    source = remote_lake.source(tmp_path, list_timeout="1s")
    error = source.describe([events()])["lake.events"]
    assert isinstance(error, DatasetError) and error.kind == ErrorKind.TIMEOUT, error
    assert "list_timeout" in str(error)
    source.close()


def test_an_unreachable_endpoint_fails_the_dataset(
    remote_lake: Lake, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert remote_lake.target is not None
    for key, value in remote_lake.target.env_at(f"http://127.0.0.1:{free_port()}").items():
        monkeypatch.setenv(key, value)
    # S3 gives up at once; adlfs and gcsfs retry with back-off, so the listing budget ends their wait
    source = remote_lake.source(tmp_path, list_timeout="5s")
    error = source.describe([events()])["lake.events"]
    assert isinstance(error, DatasetError), error
    assert error.kind in (ErrorKind.UNREACHABLE, ErrorKind.TIMEOUT), error
    assert "\n" not in str(error) and AZURITE_KEY not in str(error)
    source.close()


def test_a_wrong_key_is_a_permission_error(
    azure_store: ObjectStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Azurite checks shared-key signatures (moto and fake-gcs-server accept any credentials)."""
    bucket = f"lake-{uuid.uuid4().hex[:10]}"
    azure_store.make_bucket(bucket)
    azure_store.put_bytes(bucket, "raw/events/part-0.parquet", b"x")
    wrong = "d3Jvbmcta2V5LW5vdC10aGUtYXp1cml0ZS1vbmUtYXQtYWxsLXJlYWxseS0xMjM0NTY3ODkwMTIzNDU2Nzg5MA=="
    connection = azure_store.env["AZURE_STORAGE_CONNECTION_STRING"].replace(AZURITE_KEY, wrong)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", connection)
    register_secret(wrong)
    config = LakeSourceConfig.model_validate({"kind": "lake", "root": azure_store.root(bucket, "raw")})
    source = LakeSource("lake", config, tmp_path)
    error = source.describe([DatasetConfig(name="lake.events", path="events/*.parquet")])["lake.events"]
    assert isinstance(error, DatasetError) and error.kind == ErrorKind.PERMISSION, error
    assert wrong not in str(error) and "\n" not in str(error)
    source.close()


def test_too_many_objects_is_a_config_error(remote_lake: Lake, tmp_path: Path) -> None:
    source = remote_lake.source(tmp_path, max_objects=1)
    error = source.describe([events()])["lake.events"]
    assert isinstance(error, DatasetError) and error.kind == ErrorKind.CONFIG, error
    assert "max_objects" in str(error)
    source.close()
