"""Fixtures for the profiling tests: sources over the generated data on each engine."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from datahealth.config.models import DatasetConfig, LakeSourceConfig, SqlSourceConfig
from datahealth.core.results import Profile, TableMeta
from datahealth.profiling.profiler import profile_dataset
from datahealth.sources.lake import LakeSource
from datahealth.sources.sql import SqlSource
from tests.profiling import data
from tests.support import postgres

AS_OF = data.WINDOW_END.replace(tzinfo=UTC)


def run_profile(
    source: SqlSource | LakeSource,
    *,
    table: str | None = None,
    path: str | None = None,
    as_of: datetime = AS_OF,
    row_hint: int | None = None,
    **profile: Any,
) -> Profile:
    """Describe the dataset through the source (as a run does), then profile it."""
    dataset = DatasetConfig(
        name=f"{source.name}.t", table=table, path=path, timestamp_column="ts", profile=profile
    )
    meta = source.describe([dataset])[dataset.name]
    assert isinstance(meta, TableMeta), meta
    return profile_dataset(source, dataset, meta, as_of, row_hint=row_hint)


def quantile_sql(relation: str, where: str = "") -> str:
    """Hand-written DuckDB quantiles of every numeric column (finite values only for the double column)."""
    parts = []
    for column in data.COLUMNS:
        if column.kind in ("integer", "decimal", "float"):
            ref = data.quote(column.name)
            value = f"CASE WHEN isfinite({ref}) THEN {ref} END" if column.kind == "float" else ref
            parts.append(f"approx_quantile({value}, [0.25, 0.5, 0.75])")
    return f"SELECT {', '.join(parts)} FROM {relation} {where}"  # noqa: S608


def numeric_names() -> list[str]:
    return [c.name for c in data.COLUMNS if c.kind in ("integer", "decimal", "float")]


def stats_by_column(profile: Profile) -> dict[str, dict[str, Any]]:
    return {c.column: c.stats for c in profile.columns}


@pytest.fixture(scope="module")
def rows() -> list[tuple[Any, ...]]:
    return data.generate()


@pytest.fixture(scope="module")
def duckdb_source(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[Any, ...]]
) -> Iterator[SqlSource]:
    root = tmp_path_factory.mktemp("duckdb")
    path = root / "warehouse.duckdb"
    data.load_duckdb(path, rows)
    data.load_duckdb(path, [], table="empty")
    source = SqlSource("warehouse", SqlSourceConfig(kind="sql", url=f"duckdb:///{path}"), root)
    yield source
    source.close()


@pytest.fixture(scope="module")
def lake_source(
    tmp_path_factory: pytest.TempPathFactory, rows: list[tuple[Any, ...]]
) -> Iterator[LakeSource]:
    """Two Parquet files (the rows split in half) under a directory whose name needs quoting."""
    root = tmp_path_factory.mktemp("lake") / 'it\'s "odd" dir'
    data.write_parquet(root / "events" / "part 1.parquet", rows[:150])
    data.write_parquet(root / "events" / "part 2.parquet", rows[150:])
    data.write_parquet(root / "empty" / "none.parquet", [])
    source = LakeSource("lake", LakeSourceConfig(kind="lake", root=str(root)), Path(root))
    yield source
    source.close()


@pytest.fixture
def postgres_source(pg_database: str, rows: list[tuple[Any, ...]]) -> Iterator[SqlSource]:
    dsn = postgres.admin_dsn(pg_database)
    data.load_postgres(dsn, rows)
    data.load_postgres(dsn, [], table="empty")
    source = SqlSource("pg", SqlSourceConfig(kind="sql", url=postgres.sqlalchemy_url(pg_database)), Path("."))
    yield source
    source.close()


def assert_matches(profile: Profile, rows: list[tuple[Any, ...]], engine: str, rel: float = 1e-9) -> None:
    """Row count and every statistic of every column equal the independently computed values."""
    assert profile.row_count == len(rows)
    assert profile.queries >= 1 and profile.duration_seconds > 0
    assert [c.column for c in profile.columns] == list(data.NAMES)
    stats = stats_by_column(profile)
    for name in data.NAMES:
        data.assert_stats(stats[name], data.expected(rows, name, engine), name, rel)
