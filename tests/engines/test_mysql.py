"""The exact SQL the MySQL/MariaDB engine emits (the real server: test_conformance.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.dialects import mysql

from datahealth import engines
from datahealth.config.values import SampleSpec
from datahealth.core.results import ColumnInfo, ErrorKind, TableMeta
from datahealth.engines.errors import error_kind
from datahealth.engines.mysql import limit_statement
from datahealth.engines.types import ColumnKind
from tests.engines.compiled import catalog_sql, profile_sql, sample_sql

MY = engines.MYSQL
DIALECT = mysql.pymysql.dialect()  # type: ignore[attr-defined]


def test_mariadb_urls_use_the_mysql_module() -> None:
    assert engines.for_url("mariadb+pymysql://root@127.0.0.1/db") is MY
    assert engines.for_url("mysql+pymysql://root@127.0.0.1/db") is MY


def test_catalog_is_one_information_schema_query_with_bound_names_and_update_time() -> None:
    sql, params = catalog_sql(MY, DIALECT, "shop", ["orders", "we`ird"])
    assert "FROM information_schema.COLUMNS c JOIN information_schema.TABLES t" in sql
    assert "t.TABLE_ROWS AS estimated_rows" in sql and "t.UPDATE_TIME AS last_modified" in sql
    assert "WHERE c.TABLE_SCHEMA = %s AND c.TABLE_NAME IN (%s, %s)" in sql
    assert params == {"schema": "shop", "tables_1": "orders", "tables_2": "we`ird"}


def test_update_time_is_read_as_utc_freshness() -> None:
    meta = TableMeta(
        (ColumnInfo("id", "int(11)"),), 3, details={"last_modified": "2026-01-04T11:00:00+00:00"}
    )
    assert MY.metadata_last_modified(meta) == datetime(2026, 1, 4, 11, tzinfo=UTC)
    assert MY.metadata_last_modified(TableMeta((), None)) is None  # MEMORY tables and views: no UPDATE_TIME


def test_column_types_as_mysql_spells_them() -> None:
    kinds = {t: MY.column_kind(t) for t in ("tinyint(1)", "int(11) unsigned", "decimal(10,2)", "enum('a')")}
    assert kinds == {
        "tinyint(1)": ColumnKind.BOOLEAN,
        "int(11) unsigned": ColumnKind.INTEGER,
        "decimal(10,2)": ColumnKind.DECIMAL,
        "enum('a')": ColumnKind.TEXT,
    }


def test_samples_are_rand_draws() -> None:
    sql, sampled = sample_sql(MY, DIALECT, SampleSpec(percent=10.0))
    assert sql.endswith("WHERE ts > 1 AND rand() < 0.1") and sampled.method == "random filter"
    sql, _ = sample_sql(MY, DIALECT, SampleSpec(rows=25))
    assert "ORDER BY rand() LIMIT %(param_1)s" in sql or "ORDER BY rand() LIMIT 25" in sql


def test_profile_compares_text_by_code_point_and_moments_in_double() -> None:
    sql = profile_sql(MY, DIALECT)
    assert "count(DISTINCT (CAST(`select` AS CHAR CHARACTER SET utf8mb4) COLLATE utf8mb4_bin))" in sql
    assert 'avg(`we"ird col` * 1.0E0)' in sql


def test_statement_limits_in_each_servers_terms_and_errors() -> None:
    assert limit_statement(True, 2.5) == "SET SESSION max_statement_time = 2.500"
    assert limit_statement(False, 2.5) == "SET SESSION max_execution_time = 2500"
    hints = MY.error_hints
    assert (
        error_kind("Query execution was interrupted (max_statement_time exceeded)", hints)
        == ErrorKind.TIMEOUT
    )
    assert (
        error_kind("SELECT command denied to user 'r'@'%' for table `db`.`orders`", hints)
        == ErrorKind.PERMISSION
    )
    assert error_kind("Table 'db.doomed' doesn't exist", hints) == ErrorKind.MISSING
