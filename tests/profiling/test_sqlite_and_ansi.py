"""SQLite profiles vs plain Python, and the ANSI fallback on a real engine (exact SQL: tests/engines)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from datahealth import engines
from datahealth.config.models import DatasetConfig, SqlSourceConfig
from datahealth.core.results import TableMeta
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
            engines.for_backend("someengine"),
            dataset,
            meta,
            datetime.now(UTC),
            source.table_clause(dataset),
            "table",
            None,
        )
        assert plan.engine.name == "ansi" and len(plan.statements) == 1
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
