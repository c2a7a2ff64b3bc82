"""The ANSI fallback: what any other SQLAlchemy dialect gets (MySQL's compiler stands in for one)."""

from __future__ import annotations

import pytest
from sqlalchemy.dialects import mysql

from datahealth import engines
from datahealth.config.values import SampleSpec
from datahealth.core.errors import DatasetError
from datahealth.core.results import ErrorKind
from tests.engines.compiled import catalog_sql, profile_sql, sample_sql

ANSI = engines.ANSI
DIALECT = mysql.dialect()


def test_catalog_is_information_schema_without_estimates() -> None:
    sql, params = catalog_sql(ANSI, DIALECT, "shop", ["orders"])
    assert sql == (
        "SELECT table_name, column_name, data_type, is_nullable = 'YES' AS nullable, NULL AS estimated_rows, "
        "'r' AS kind FROM information_schema.columns WHERE table_schema = %s AND table_name IN (%s) "
        "ORDER BY table_name, ordinal_position"
    )
    assert params == {"schema": "shop", "tables_1": "orders"}


def test_percent_samples_are_tablesample_bernoulli_and_row_samples_a_config_error() -> None:
    sql, sampled = sample_sql(ANSI, DIALECT, SampleSpec(percent=10.0))
    assert sql == (
        'SELECT count(*) AS count_1 FROM main.`My "T"` AS profile_sample TABLESAMPLE bernoulli(10) WHERE ts > 1'
    )
    assert (sampled.method, sampled.repeatable) == ("tablesample bernoulli", True)
    with pytest.raises(
        DatasetError, match="row-count samples are not supported on .*use a percentage"
    ) as error:
        sample_sql(ANSI, DIALECT, SampleSpec(rows=10))
    assert error.value.kind == ErrorKind.CONFIG


def test_profile_sql() -> None:
    ansi = profile_sql(ANSI, DIALECT, window="1d")
    assert "char_length(`select`)" in ansi and "isfinite" not in ansi and 'stddev_samp(`we"ird col`)' in ansi
    assert "WHERE `select` > '2026-01-01 00:00:00' AND `select` <= '2026-01-02 00:00:00'" in ansi


def test_nothing_engine_specific_is_assumed() -> None:
    capabilities = ANSI.capabilities
    assert capabilities.default_schema is None  # asked from the database
    assert capabilities.soda_plugin is None and capabilities.timeout_method == "none"
    assert not capabilities.read_only_sessions and not capabilities.metadata_row_counts
