"""The exact SQL and connection settings the DuckDB engine emits (a real file: test_conformance.py)."""

from __future__ import annotations

from pathlib import Path

import duckdb_engine
import pytest
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from datahealth import engines
from datahealth.config.models import SqlSourceConfig
from datahealth.config.values import SampleSpec
from datahealth.core.errors import SourceUnavailable
from datahealth.core.results import ErrorKind
from datahealth.engines.profile_sql import column_ref
from datahealth.engines.types import ColumnKind
from tests.engines.compiled import catalog_sql, profile_sql, sample_sql

DUCK = engines.DUCKDB
DIALECT = duckdb_engine.Dialect()


def test_catalog_joins_duckdb_tables_for_row_estimates_in_one_query() -> None:
    sql, params = catalog_sql(DUCK, DIALECT, "main", ["orders", "customers"])
    assert sql == (
        "SELECT c.table_name, c.column_name, c.data_type, c.is_nullable = 'YES' AS nullable, "
        "t.estimated_size AS estimated_rows, CASE WHEN t.table_name IS NULL THEN 'v' ELSE 'r' END AS kind "
        "FROM information_schema.columns c LEFT JOIN duckdb_tables() t ON t.database_name = c.table_catalog "
        "AND t.schema_name = c.table_schema AND t.table_name = c.table_name WHERE c.table_catalog = "
        "current_database() AND c.table_schema = %(schema)s AND c.table_name IN (%(tables_1)s, %(tables_2)s) "
        "ORDER BY c.table_name, c.ordinal_position"
    )
    assert params == {"schema": "main", "tables_1": "orders", "tables_2": "customers"}


@pytest.mark.parametrize("relation_kind", ["table", "view"])
def test_samples_are_native_bernoulli_and_reservoir_drawn_after_the_window(relation_kind: str) -> None:
    percent, sampled = sample_sql(DUCK, DIALECT, SampleSpec(percent=12.5), relation_kind)
    assert percent == (
        'SELECT count(*) AS count_1 FROM main."My ""T""" AS profile_sample '
        "TABLESAMPLE bernoulli(12.5 PERCENT) REPEATABLE (42) WHERE ts > 1"
    )
    assert (sampled.method, sampled.repeatable) == ("bernoulli", True)
    rows, sampled = sample_sql(DUCK, DIALECT, SampleSpec(rows=25), relation_kind)
    assert rows == (
        'SELECT count(*) AS count_1 FROM (SELECT * FROM main."My ""T""" WHERE ts > 1) AS profile_sample '
        "TABLESAMPLE reservoir(25 ROWS) REPEATABLE (42)"
    )
    assert (sampled.method, sampled.repeatable, sampled.where) == ("reservoir", True, None)


def test_profile_sql() -> None:
    """One statement; columns aggregated two at a time (the measured DuckDB plan), cross-joined."""
    outer = ", ".join(
        f"profile_group_{group}.{label}"
        for group, labels in (
            (
                0,
                "n_rows c0_non_null_count c0_distinct_count c0_min c0_max c0_mean c0_stddev c0_quantiles "
                "c0_nan_count c0_inf_count c1_non_null_count c1_distinct_count c1_min c1_max c1_min_length "
                "c1_max_length c1_mean_length c1_empty_count",
            ),
            (1, "c2_non_null_count c2_distinct_count c2_true_count"),
        )
        for label in labels.split()
    )
    assert profile_sql(DUCK, postgresql.dialect()) == (
        f"SELECT {outer} \nFROM ("
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
        'avg(length("select")) AS c1_mean_length, count(CASE WHEN ("select" = \'\') THEN 1 END) AS c1_empty_count '
        '\nFROM main."My ""T""") AS profile_group_0 JOIN ('
        'SELECT count("ok") AS c2_non_null_count, count(DISTINCT "ok") AS c2_distinct_count, '
        'count(CASE WHEN "ok" THEN 1 END) AS c2_true_count \nFROM main."My ""T""") AS profile_group_1 ON true'
    )


def test_approximate_distincts_and_subsampled_quantiles() -> None:
    distinct = DUCK.profile_sql.distinct
    ref = column_ref("x", ColumnKind.INTEGER)
    assert str(distinct(ref, True, "integer").compile(dialect=DIALECT)) == 'approx_count_distinct("x")'
    assert str(distinct(ref, False, "integer").compile(dialect=DIALECT)) == 'count(DISTINCT "x")'
    quantiles = DUCK.profile_sql.quantiles_expr(ref, column_ref("flag", ColumnKind.BOOLEAN))
    assert quantiles is not None
    assert str(quantiles.compile(dialect=DIALECT)) == (
        'approx_quantile("x", [0.25, 0.5, 0.75]) FILTER (WHERE "flag")'
    )


def test_files_are_opened_read_only_relative_to_the_project(tmp_path: Path) -> None:
    url = DUCK.resolve_url(make_url("duckdb:///data/wh.duckdb"), tmp_path)
    assert url.database == str(tmp_path / "data" / "wh.duckdb")
    config = SqlSourceConfig(kind="sql", url=str(url))
    with pytest.raises(SourceUnavailable, match="DuckDB database file not found: .*wh.duckdb") as missing:
        DUCK.engine_options(url, config)
    assert missing.value.kind == ErrorKind.UNREACHABLE
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "wh.duckdb").touch()
    assert DUCK.engine_options(url, config).connect_args == {"read_only": True}
    writable = SqlSourceConfig(kind="sql", url=str(url), read_only=False)
    assert DUCK.engine_options(url, writable).connect_args == {"read_only": False}
    memory = make_url("duckdb:///:memory:")
    assert DUCK.resolve_url(memory, tmp_path) is memory
