"""The small pieces: sample parsing and config validation, the lake timeout, stats conversion."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from pydantic import ValidationError

from datahealth.config.models import DatasetConfig, LakeSourceConfig
from datahealth.config.values import SampleSpec, parse_sample
from datahealth.core.results import TableMeta
from datahealth.engines.types import ColumnKind
from datahealth.profiling.profiler import profile_dataset
from datahealth.profiling.stats import column_stats, number, plain
from datahealth.sources.base import DatasetError
from datahealth.sources.lake import LakeSource


@pytest.mark.parametrize(
    ("value", "spec"),
    [
        ("10%", SampleSpec(percent=10.0)),
        (" 0.5 % ", SampleSpec(percent=0.5)),
        ("100%", SampleSpec(percent=100.0)),
        (5000, SampleSpec(rows=5000)),
        ("5000", SampleSpec(rows=5000)),
        ("250 rows", SampleSpec(rows=250)),
        (None, None),
    ],
)
def test_parse_sample(value: str | int | None, spec: SampleSpec | None) -> None:
    assert parse_sample(value) == spec


@pytest.mark.parametrize("value", ["0%", "150%", "ten percent", "-5", 0, True, 0.5, "1e3", ""])
def test_bad_samples_are_config_errors(value: object) -> None:
    with pytest.raises(ValidationError, match="sample"):
        DatasetConfig(name="w.t", profile={"sample": value})


def test_profile_config_timeouts_and_windows_must_be_positive() -> None:
    assert DatasetConfig(name="w.t", profile={"timeout": "90s"}).profile.timeout.total_seconds() == 90  # type: ignore[union-attr]
    for key in ("timeout", "window"):
        with pytest.raises(ValidationError, match="longer than zero"):
            DatasetConfig(name="w.t", profile={key: "0s"})


def test_sample_labels() -> None:
    assert (SampleSpec(percent=12.5).label, SampleSpec(percent=10.0).label, SampleSpec(rows=3).label) == (
        "12.5%",
        "10%",
        "3 rows",
    )


def test_lake_profile_timeout(tmp_path: Path) -> None:
    with duckdb.connect() as con:
        con.execute(
            f"COPY (SELECT range AS a, range::VARCHAR AS b FROM range(3000000)) TO "  # noqa: S608
            f"'{tmp_path / 'big.parquet'}' (FORMAT parquet)"
        )
    source = LakeSource("lake", LakeSourceConfig(kind="lake", root=str(tmp_path)), tmp_path)
    dataset = DatasetConfig(
        name="lake.big", path="big.parquet", profile={"timeout": "10ms", "exact_distinct": True}
    )
    try:
        meta = source.describe([dataset])[dataset.name]
        assert isinstance(meta, TableMeta)
        with pytest.raises(DatasetError, match="timed out after 10ms") as error:
            profile_dataset(source, dataset, meta, datetime(2026, 1, 1))
        assert error.value.kind.value == "timeout"
        # the source's cursor is still usable for the next dataset
        con = source.connection()
        assert con.execute("SELECT 42").fetchone() == (42,)
        con.close()
    finally:
        source.close()


def test_stats_conversion() -> None:
    assert (
        number(Decimal("12.50")) == 12.5
        and number(Decimal("7.000")) == 7
        and isinstance(number(Decimal("7")), int)
    )
    assert number(Decimal("1e30")) == 1e30
    assert (
        plain(datetime(2026, 1, 2, 3, 4)) == "2026-01-02T03:04:00" and plain(date(2026, 1, 2)) == "2026-01-02"
    )
    assert plain(b"\x00\xff") == "00ff"
    approx = column_stats(ColumnKind.INTEGER, {"non_null_count": 10, "distinct_count": 12}, 12, "approx")
    assert approx["distinct_count"] == 10  # a sketch never reports more distinct values than non-null ones
    sqlite_like = column_stats(
        ColumnKind.FLOAT, {"non_null_count": 3, "_n": 3, "_sum": 6.0, "_sum_squares": 14.0}, 3, "exact"
    )
    assert sqlite_like["stddev"] == pytest.approx(1.0)  # values 1, 2, 3
