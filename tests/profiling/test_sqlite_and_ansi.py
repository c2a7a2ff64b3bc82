"""SQLite profiles vs plain Python, the ANSI fallback on a real engine, and the exact SQL each dialect emits."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from datahealth.config.models import DatasetConfig, SqlSourceConfig
from datahealth.core.results import ColumnInfo, TableMeta
from datahealth.profiling.profiler import build_plan
from datahealth.sources.sql import SqlSource
from tests.profiling import data
from tests.profiling.conftest import assert_matches, run_profile, stats_by_column


@pytest.fixture(scope="module")
def sqlite_rows() -> list[tuple[Any, ...]]:
    return data.generate(nan=False)  # SQLite stores NaN as NULL


@pytest.fixture(scope="module")
def sqlite_source(
    tmp_path_factory: pytest.TempPathFactory, sqlite_rows: list[tuple[Any, ...]]
) -> Iterator[SqlSource]:
    root = tmp_path_factory.mktemp("sqlite")
    data.load_sqlite(root / "w.sqlite", sqlite_rows)
    data.load_sqlite(root / "w.sqlite", [], table="empty")
    source = SqlSource("lite", SqlSourceConfig(kind="sql", url=f"sqlite:///{root / 'w.sqlite'}"), root)
    yield source
    source.close()


def test_sqlite_statistics_match_python(sqlite_source: SqlSource, sqlite_rows: list[tuple[Any, ...]]) -> None:
    profile = run_profile(sqlite_source, table=data.TABLE)
    # decimals are REALs in SQLite and its stddev comes from sums of squares: close, not bit-identical
    assert_matches(profile, sqlite_rows, "sqlite", rel=1e-6)
    assert profile.details["timeout_enforcement"] == "interrupt"


def test_sqlite_zero_rows_window_and_samples(
    sqlite_source: SqlSource, sqlite_rows: list[tuple[Any, ...]]
) -> None:
    assert_matches(run_profile(sqlite_source, table="empty"), [], "sqlite")
    window = run_profile(sqlite_source, table=data.TABLE, window="1d")
    assert window.row_count == len(data.in_window(sqlite_rows))
    rows_sample = run_profile(sqlite_source, table=data.TABLE, sample=20)
    assert (rows_sample.row_count, rows_sample.details["sample_method"]) == (20, "random order limit")
    percent = run_profile(sqlite_source, table=data.TABLE, sample="50%")
    assert percent.sampled and 100 < percent.row_count < 300


def test_ansi_fallback_runs_on_a_real_engine(tmp_path: Path, sqlite_rows: list[tuple[Any, ...]]) -> None:
    """An unknown dialect gets plain ANSI aggregates; DuckDB (which speaks them) stands in for it here."""
    data.load_duckdb(tmp_path / "w.duckdb", sqlite_rows)
    source = SqlSource("w", SqlSourceConfig(kind="sql", url=f"duckdb:///{tmp_path / 'w.duckdb'}"), tmp_path)
    try:
        dataset = DatasetConfig(name="w.t", table=f"main.{data.TABLE}")
        meta = source.describe([dataset])[dataset.name]
        assert isinstance(meta, TableMeta)
        plan = build_plan(
            "someengine", dataset, meta, datetime.now(UTC), source.table_clause(dataset), "table", None
        )
        assert plan.dialect.name == "ansi" and len(plan.statements) == 1
        with source.engine.connect() as conn:
            row = dict(conn.execute(plan.statements[0]).mappings().one())
    finally:
        source.close()
    from datahealth.profiling.profiler import _profile

    profile = _profile(plan, dataset, row, int(row["n_rows"]), 1, 0.1, None, None)
    stats = stats_by_column(profile)
    for name in data.NAMES:
        wanted = data.expected(sqlite_rows, name, "ansi")
        if name == "select":  # ANSI has no NaN/infinity tests: ±inf take part in min/max/mean
            assert (stats[name]["min"], stats[name]["max"]) == (float("-inf"), float("inf"))
            wanted = {k: v for k, v in wanted.items() if k not in ("min", "max", "mean", "stddev")}
            stats[name] = {k: v for k, v in stats[name].items() if k not in ("min", "max", "mean", "stddev")}
        data.assert_stats(stats[name], wanted, name)
    assert profile.row_count == len(sqlite_rows)


META = TableMeta(
    (ColumnInfo('we"ird col', "double"), ColumnInfo("select", "varchar"), ColumnInfo("ok", "boolean"))
)


def compiled(dialect_name: str, sa_dialect: sa.Dialect, **profile: Any) -> str:
    dataset = DatasetConfig(name="s.t", table='main.My "T"', timestamp_column="select", profile=profile)
    table = sa.table(sa.sql.elements.quoted_name('My "T"', quote=True), schema="main")
    plan = build_plan(dialect_name, dataset, META, datetime(2026, 1, 2, tzinfo=UTC), table, "table", 10)
    return "\n".join(
        str(s.compile(dialect=sa_dialect, compile_kwargs={"literal_binds": True})) for s in plan.statements
    )


def test_duckdb_sql() -> None:
    assert compiled("duckdb", postgresql.dialect()) == (
        'SELECT count(*) AS n_rows, count("we""ird col") AS c0_non_null_count, count(DISTINCT "we""ird col") '
        'AS c0_distinct_count, min(CASE WHEN isfinite("we""ird col") THEN "we""ird col" END) AS c0_min, '
        'max(CASE WHEN isfinite("we""ird col") THEN "we""ird col" END) AS c0_max, '
        'avg(CASE WHEN isfinite("we""ird col") THEN "we""ird col" END) AS c0_mean, '
        'stddev_samp(CASE WHEN isfinite("we""ird col") THEN "we""ird col" END) AS c0_stddev, '
        'approx_quantile(CASE WHEN isfinite("we""ird col") THEN "we""ird col" END, [0.25, 0.5, 0.75]) '
        'AS c0_quantiles, count(CASE WHEN isnan("we""ird col") THEN 1 END) AS c0_nan_count, '
        'count(CASE WHEN isinf("we""ird col") THEN 1 END) AS c0_inf_count, count("select") AS c1_non_null_count, '
        'count(DISTINCT "select") AS c1_distinct_count, min("select") AS c1_min, max("select") AS c1_max, '
        'min(length("select")) AS c1_min_length, max(length("select")) AS c1_max_length, '
        'avg(length("select")) AS c1_mean_length, count(CASE WHEN ("select" = \'\') THEN 1 END) AS c1_empty_count, '
        'count("ok") AS c2_non_null_count, count(DISTINCT "ok") AS c2_distinct_count, '
        'count(CASE WHEN "ok" THEN 1 END) AS c2_true_count \nFROM main."My ""T"""'
    )


def test_postgres_sql_with_sample() -> None:
    sql = compiled("postgresql", postgresql.dialect(), sample="10%")
    assert 'count(DISTINCT ("select" COLLATE "C")) AS c1_distinct_count' in sql
    assert 'min("select" COLLATE "C") AS c1_min, max("select" COLLATE "C") AS c1_max' in sql
    assert (
        'min(CASE WHEN ("we""ird col" > \'-Infinity\' AND "we""ird col" < \'Infinity\') '
        'THEN "we""ird col" END) AS c0_min'
    ) in sql
    assert 'count(CASE WHEN ("we""ird col" = \'NaN\') THEN 1 END) AS c0_nan_count' in sql
    assert "quantile" not in sql
    assert sql.endswith(
        'FROM main."My ""T""" AS profile_sample TABLESAMPLE bernoulli(10) REPEATABLE (1733438073)'
    )


def test_sqlite_and_ansi_sql() -> None:
    lite = compiled("sqlite", sqlite.dialect())
    assert 'sum(CAST(CASE WHEN ("we""ird col" > -9e999 AND "we""ird col" < 9e999)' in lite
    assert "stddev_samp" not in lite and "nan_count" not in lite and "c0_inf_count" in lite
    ansi = compiled("mysql", mysql.dialect(), window="1d")
    assert "char_length(`select`)" in ansi and "isfinite" not in ansi and 'stddev_samp(`we"ird col`)' in ansi
    assert "WHERE `select` > '2026-01-01 00:00:00' AND `select` <= '2026-01-02 00:00:00'" in ansi
