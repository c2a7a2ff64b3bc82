"""Reconcile counts on a lake dataset: over the timestamp column (the run's one copy), or a partition's footers."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from datahealth.config.models import DatasetConfig, LakeSourceConfig, ReconcileConfig
from datahealth.core.reconcile import Window
from datahealth.sources import LakeSource
from datahealth.sources.window import count_side
from tests.sources.test_lake_source import write_partitions

WINDOW = Window(datetime(2026, 10, 9, tzinfo=UTC), datetime(2026, 10, 10, tzinfo=UTC), "2026-10-09")


def lake(root: Path) -> LakeSource:
    config = LakeSourceConfig.model_validate({"kind": "lake", "root": str(root), "hive_partitioning": True})
    return LakeSource("lake", config, root)


def test_timestamp_window_counts_the_materialised_copy(tmp_path: Path) -> None:
    write_partitions(tmp_path)
    source = lake(tmp_path)
    dataset = DatasetConfig(name="lake.events", path="events/**/*.parquet", timestamp_column="ts")
    spec = ReconcileConfig(against="other.side", sum="id")
    side = count_side(source, dataset, WINDOW, spec, other_side=False)
    assert (side.rows, side.measure) == (20, float(sum(range(20))))
    for path in (tmp_path / "events").rglob("*.parquet"):
        path.unlink()  # the copy serves a second count: the files are not read again
    assert count_side(source, dataset, WINDOW, spec, other_side=False).rows == 20
    source.close()


def test_partition_window_counts_footers(tmp_path: Path) -> None:
    write_partitions(tmp_path)
    source = lake(tmp_path)
    dataset = DatasetConfig(name="lake.events", path="events/**/*.parquet")
    spec = ReconcileConfig(against="other.side", partition="event_date")
    side = count_side(source, dataset, WINDOW, spec, other_side=False)
    assert side.rows == 20 and "event_date=2026-10-09" in side.method
    source.close()
