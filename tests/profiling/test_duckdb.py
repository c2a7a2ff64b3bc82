"""Profiles of a DuckDB warehouse table compared statistic by statistic with plain Python."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa

from datahealth.config.models import SqlSourceConfig
from datahealth.engines.duckdb import DuckDBEngine
from datahealth.profiling import profiler
from datahealth.sources.base import DatasetError
from datahealth.sources.sql import SqlSource
from tests.profiling import data
from tests.profiling.conftest import (
    AS_OF,
    assert_matches,
    numeric_names,
    quantile_sql,
    run_profile,
    stats_by_column,
)

TABLE = f"main.{data.TABLE}"
QUOTED = '"main"."' + data.TABLE.replace('"', '""') + '"'


def direct(source: SqlSource, sql: str) -> tuple[Any, ...]:
    with source.engine.connect() as conn:
        return tuple(conn.exec_driver_sql(sql).one())


def assert_quantiles(
    stats: dict[str, dict[str, Any]], expected_row: tuple[Any, ...], of_range: float = 0.0
) -> None:
    """Quantiles equal DuckDB's own (to `of_range` × the column's range where digests merge in any order)."""
    for name, values in zip(numeric_names(), expected_row, strict=True):
        got = stats[name]["quantiles"]
        if values is None:
            assert got is None, name
            continue
        assert list(got) == ["p25", "p50", "p75"], name
        spread = float(stats[name]["max"]) - float(stats[name]["min"])
        for key, value in zip(("p25", "p50", "p75"), values, strict=True):
            assert math.isclose(float(got[key]), float(value), rel_tol=1e-12, abs_tol=of_range * spread), (
                f"{name}.{key}"
            )


def test_every_statistic_matches_python(duckdb_source: SqlSource, rows: list[tuple[Any, ...]]) -> None:
    profile = run_profile(duckdb_source, table=TABLE)
    assert_matches(profile, rows, "duckdb")
    assert (profile.sampled, profile.sample, profile.window_start, profile.distinct_method) == (
        False,
        None,
        None,
        "exact",
    )
    assert profile.queries == 1 and profile.details["statements"] == 1
    assert_quantiles(stats_by_column(profile), direct(duckdb_source, quantile_sql(QUOTED)))


def test_zero_row_table(duckdb_source: SqlSource) -> None:
    profile = run_profile(duckdb_source, table="main.empty")
    assert_matches(profile, [], "duckdb")
    assert all(c.stats["null_ratio"] is None for c in profile.columns)


def test_window_profiles_only_the_window(duckdb_source: SqlSource, rows: list[tuple[Any, ...]]) -> None:
    profile = run_profile(duckdb_source, table=TABLE, window="1d")
    window = data.in_window(rows)
    assert 0 < len(window) < len(rows)
    assert_matches(profile, window, "duckdb")
    assert (profile.window_start, profile.window_end) == (
        data.WINDOW_START.replace(tzinfo=AS_OF.tzinfo),
        AS_OF,
    )
    where = "WHERE ts > TIMESTAMP '2026-01-02 12:00:00' AND ts <= TIMESTAMP '2026-01-03 12:00:00'"
    assert_quantiles(stats_by_column(profile), direct(duckdb_source, quantile_sql(QUOTED, where)))


def test_percent_sample_is_recorded(duckdb_source: SqlSource) -> None:
    profile = run_profile(duckdb_source, table=TABLE, sample="50%")
    assert (profile.sampled, profile.sample, profile.details["sample_method"]) == (True, "50%", "bernoulli")
    assert 100 < profile.row_count < 300  # 400 rows at 50%: 200 expected, far inside these bounds
    for column in profile.columns:
        assert column.stats["non_null_count"] + column.stats["null_count"] == profile.row_count


def test_row_sample_takes_exactly_that_many_rows(duckdb_source: SqlSource) -> None:
    profile = run_profile(duckdb_source, table=TABLE, sample=37)
    assert (profile.sampled, profile.sample, profile.row_count) == (True, "37 rows", 37)
    assert stats_by_column(profile)["n_rows"]["distinct_count"] == 37


def test_row_sample_is_drawn_inside_the_window(duckdb_source: SqlSource, rows: list[tuple[Any, ...]]) -> None:
    window = data.in_window(rows)
    profile = run_profile(duckdb_source, table=TABLE, window="1d", sample=10)
    assert profile.row_count == 10
    ts = stats_by_column(profile)["ts"]
    assert data.WINDOW_START.isoformat() < ts["min"] and ts["max"] <= data.WINDOW_END.isoformat()
    assert len(window) > 10


def test_zero_row_sample_of_a_non_empty_table_is_an_error(duckdb_source: SqlSource) -> None:
    with pytest.raises(DatasetError, match="returned zero rows although the table has rows"):
        run_profile(duckdb_source, table=TABLE, sample="0.000001%", row_hint=400)
    with pytest.raises(DatasetError, match="zero rows"):  # without a hint, a probe query decides
        run_profile(duckdb_source, table=TABLE, sample="0.000001%")


def test_zero_row_sample_of_an_empty_table_is_a_clean_profile(duckdb_source: SqlSource) -> None:
    profile = run_profile(duckdb_source, table="main.empty", sample="10%")
    assert (profile.sampled, profile.row_count, profile.queries) == (True, 0, 2)  # aggregate + probe


def test_sample_covering_the_table_is_not_a_sample(
    duckdb_source: SqlSource, rows: list[tuple[Any, ...]]
) -> None:
    profile = run_profile(duckdb_source, table=TABLE, sample=5000, row_hint=len(rows))
    assert (profile.sampled, profile.sample) == (False, None)
    assert profile.details["sample_skipped"]
    assert_matches(profile, rows, "duckdb")


def test_large_tables_use_approximate_distincts(
    duckdb_source: SqlSource, rows: list[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(profiler, "EXACT_DISTINCT_MAX_ROWS", 100)
    profile = run_profile(duckdb_source, table=TABLE, row_hint=len(rows))
    assert profile.distinct_method == "approx"
    for name in data.NAMES:
        stats = stats_by_column(profile)[name]
        exact = data.expected(rows, name, "duckdb")["distinct_count"]
        assert stats["distinct_method"] == "approx"
        assert abs(stats["distinct_count"] - exact) <= max(2, exact * 0.05), name
        assert stats["distinct_count"] <= stats["non_null_count"]
    exact_profile = run_profile(duckdb_source, table=TABLE, row_hint=len(rows), exact_distinct=True)
    assert exact_profile.distinct_method == "exact"
    assert_matches(exact_profile, rows, "duckdb")


def test_quantiles_of_large_tables_come_from_a_subsample(
    duckdb_source: SqlSource, rows: list[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(profiler, "QUANTILE_SAMPLE_ROWS", 100)
    profile = run_profile(duckdb_source, table=TABLE, row_hint=len(rows))
    assert profile.details["quantile_subsample_fraction"] == 0.25
    stats = stats_by_column(profile)
    for name in numeric_names():
        if stats[name]["non_null_count"] == 0:
            continue
        quantiles = stats[name]["quantiles"]
        assert stats[name]["quantiles_method"] == "approx_subsample"
        assert (
            stats[name]["min"]
            <= quantiles["p25"]
            <= quantiles["p50"]
            <= quantiles["p75"]
            <= stats[name]["max"]
        )
    # everything but the quantiles still covers every row
    assert profile.row_count == len(rows)
    assert stats["n_rows"]["mean"] == pytest.approx(sum(r[0] for r in rows) / len(rows))


def test_a_column_named_like_the_subsample_flag_does_not_clash() -> None:
    assert profiler._unused_name("flag", {"flag", "flag_"}) == "flag__"


def test_window_without_timestamp_column_is_a_config_error(duckdb_source: SqlSource) -> None:
    from datahealth.config.models import DatasetConfig

    dataset = DatasetConfig(name="warehouse.t", table=TABLE, profile={"window": "1d"})
    meta = duckdb_source.describe([dataset])[dataset.name]
    with pytest.raises(DatasetError, match="needs timestamp_column") as error:
        profiler.profile_dataset(duckdb_source, dataset, meta, AS_OF)  # type: ignore[arg-type]
    assert error.value.kind.value == "config"


@pytest.mark.parametrize("exact", [True, False])
def test_nested_and_exotic_types(tmp_path: Path, exact: bool) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("CREATE TYPE mood AS ENUM ('sad', 'ok')")
        con.execute("""CREATE TABLE t AS SELECT [range, range + 1] AS l, {'a': range} AS s, MAP {'k': range} AS m,
            'ok'::mood AS e, uuid() AS u, 'ab'::BLOB AS bl, INTERVAL 1 DAY * range AS iv, union_value(n := range) AS un,
            [1, 2, 3]::INTEGER[3] AS arr, TIME '12:00:00' AS tm, range::HUGEINT * 100000000000000000000 AS h,
            TIMESTAMPTZ '2024-01-01 00:00:00+00' AS tz FROM range(10)""")
    source = SqlSource("w", SqlSourceConfig(kind="sql", url=f"duckdb:///{tmp_path / 'w.duckdb'}"), tmp_path)
    try:
        profile = run_profile(source, table="main.t", row_hint=10 if exact else 5_000_000)
    finally:
        source.close()
    stats = stats_by_column(profile)
    assert {n for n, s in stats.items() if s["kind"] == "other"} == {
        "l",
        "s",
        "m",
        "e",
        "u",
        "bl",
        "iv",
        "un",
        "arr",
    }
    constant = {"e", "bl", "arr", "tm", "tz"}
    for name, column in stats.items():  # a sketch of 10 random UUIDs may say 9: allow it one off
        wanted = 1 if name in constant else 10
        assert column["non_null_count"] == 10 and abs(column["distinct_count"] - wanted) <= (
            0 if exact else 1
        ), name
    assert (stats["h"]["max"], stats["tz"]["min"]) == (9 * 10**20, "2024-01-01T00:00:00+00:00")
    assert profile.distinct_method == ("exact" if exact else "approx")


def test_columns_are_aggregated_two_at_a_time_in_one_statement(
    duckdb_source: SqlSource, rows: list[tuple[Any, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """DuckDB's measured plan (engines/duckdb.py): still one statement, and the same statistics as one
    wide aggregate."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(duckdb_source.engine, "before_cursor_execute", record)
    try:
        grouped = run_profile(duckdb_source, table=TABLE)
    finally:
        sa.event.remove(duckdb_source.engine, "before_cursor_execute", record)
    [statement] = [s for s in statements if "n_rows" in s]
    groups = (len(grouped.columns) + 1) // 2
    assert statement.count(" AS profile_group_") == groups and grouped.queries == 1
    assert_matches(grouped, rows, "duckdb")

    wide_capabilities = dataclasses.replace(DuckDBEngine.capabilities, profile_columns_per_group=None)
    monkeypatch.setattr(DuckDBEngine, "capabilities", wide_capabilities)
    wide = run_profile(duckdb_source, table=TABLE)
    assert [(c.column, c.stats) for c in wide.columns] == [(c.column, c.stats) for c in grouped.columns]
