"""Profiles of a Parquet lake dataset (two files under a directory that needs quoting) vs plain Python."""

from __future__ import annotations

from typing import Any

import pytest

from datahealth.sources.base import DatasetError
from datahealth.sources.lake import LakeSource
from tests.profiling import data
from tests.profiling.conftest import (
    AS_OF,
    assert_matches,
    numeric_names,
    quantile_sql,
    run_profile,
    stats_by_column,
)
from tests.profiling.test_duckdb import assert_quantiles


def direct(source: LakeSource, sql: str) -> tuple[Any, ...]:
    con = source.connection()
    try:
        files = [str(p) for p in sorted((source.root / "events").glob("*.parquet"))]
        row = con.execute(sql, {"files": files}).fetchone()
        assert row is not None
        return tuple(row)
    finally:
        con.close()


PARQUET = "read_parquet($files, union_by_name=true)"


def test_every_statistic_matches_python(lake_source: LakeSource, rows: list[tuple[Any, ...]]) -> None:
    profile = run_profile(lake_source, path="events/*.parquet", row_hint=len(rows))
    assert_matches(profile, rows, "duckdb")
    assert profile.distinct_method == "exact" and profile.details["dialect"] == "duckdb"
    assert_quantiles(stats_by_column(profile), direct(lake_source, quantile_sql(PARQUET)), of_range=0.02)


def test_zero_row_file(lake_source: LakeSource) -> None:
    profile = run_profile(lake_source, path="empty/*.parquet", row_hint=0)
    assert_matches(profile, [], "duckdb")


def test_window(lake_source: LakeSource, rows: list[tuple[Any, ...]]) -> None:
    profile = run_profile(lake_source, path="events/*.parquet", window="1d", row_hint=len(rows))
    assert_matches(profile, data.in_window(rows), "duckdb")
    assert profile.window_end == AS_OF
    where = "WHERE ts > TIMESTAMP '2026-01-02 12:00:00' AND ts <= TIMESTAMP '2026-01-03 12:00:00'"
    assert_quantiles(
        stats_by_column(profile), direct(lake_source, quantile_sql(PARQUET, where)), of_range=0.02
    )


def test_samples(lake_source: LakeSource) -> None:
    rows_sample = run_profile(lake_source, path="events/*.parquet", sample="25 rows")
    assert (rows_sample.sampled, rows_sample.sample, rows_sample.row_count) == (True, "25 rows", 25)
    percent = run_profile(lake_source, path="events/*.parquet", sample="50%")
    assert percent.sampled and 100 < percent.row_count < 300
    with pytest.raises(DatasetError, match="zero rows"):
        run_profile(lake_source, path="events/*.parquet", sample="0.000001%")


def test_unknown_size_uses_the_sketch(lake_source: LakeSource, rows: list[tuple[Any, ...]]) -> None:
    """Without a row count to go on, distinct counts are approximate, and the profile says so."""
    profile = run_profile(lake_source, path="events/*.parquet")
    assert profile.distinct_method == "approx"
    stats = stats_by_column(profile)
    for name in numeric_names():
        exact = data.expected(rows, name, "duckdb")["distinct_count"]
        assert abs(stats[name]["distinct_count"] - exact) <= max(2, exact * 0.05)
