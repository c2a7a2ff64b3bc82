"""The exact SQL and session settings the PostgreSQL engine emits (the real server: test_conformance.py)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import make_url

from datahealth import engines
from datahealth.config.models import SqlSourceConfig
from datahealth.config.values import SampleSpec
from datahealth.engines.postgres import soda_connection_properties
from tests.engines.compiled import catalog_sql, profile_sql, sample_sql

PG = engines.POSTGRES
DIALECT = postgresql.psycopg.dialect()  # type: ignore[attr-defined]


def test_catalog_is_one_pg_catalog_query_with_bound_names() -> None:
    sql, params = catalog_sql(PG, DIALECT, "sales", ["orders", 'we"ird'])
    assert sql == (
        "SELECT c.relname AS table_name, a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS "
        "data_type, NOT a.attnotnull AS nullable, c.reltuples::bigint AS estimated_rows, c.relkind AS kind "
        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped "
        "WHERE n.nspname = %(schema)s::VARCHAR AND c.relname IN (%(tables_1)s, %(tables_2)s) "
        "AND c.relkind IN ('r', 'v', 'm', 'p', 'f') ORDER BY c.relname, a.attnum"
    )
    assert params == {"schema": "sales", "tables_1": "orders", "tables_2": 'we"ird'}


def test_percent_samples_are_tablesample_on_tables_and_a_random_filter_on_views() -> None:
    table, sampled = sample_sql(PG, DIALECT, SampleSpec(percent=10.0))
    assert table == (
        'SELECT count(*) AS count_1 FROM main."My ""T""" AS profile_sample '
        "TABLESAMPLE bernoulli(10) REPEATABLE (42) WHERE ts > 1"
    )
    assert (sampled.method, sampled.repeatable) == ("tablesample bernoulli", True)
    matview, _ = sample_sql(PG, DIALECT, SampleSpec(percent=10.0), "materialized view")
    assert matview == table
    view, sampled = sample_sql(PG, DIALECT, SampleSpec(percent=10.0), "view")
    assert view == 'SELECT count(*) AS count_1 FROM main."My ""T""" WHERE ts > 1 AND random() < 0.1'
    assert (sampled.method, sampled.repeatable) == ("random filter", False)


def test_row_samples_order_by_random_inside_the_window() -> None:
    sql, sampled = sample_sql(PG, DIALECT, SampleSpec(rows=25))
    assert sql == (
        'SELECT count(*) AS count_1 FROM (SELECT * FROM main."My ""T""" WHERE ts > 1 ORDER BY random() '
        "LIMIT 25) AS profile_sample"
    )
    assert (sampled.method, sampled.repeatable) == ("random order limit", False)


def test_profile_sql_with_sample() -> None:
    sql = profile_sql(PG, postgresql.dialect(), sample="10%")
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


def test_sessions_are_read_only_time_limited_and_named() -> None:
    url = make_url("postgresql+psycopg://u@h/db")
    config = SqlSourceConfig(kind="sql", url=str(url), statement_timeout=timedelta(seconds=90))
    options = PG.engine_options(url, config)
    assert options.connect_args == {
        "options": "-c statement_timeout=90000 -c application_name=datahealth -c default_transaction_read_only=on",
        "connect_timeout": 10,
    }
    assert options.kwargs == {"pool_pre_ping": True, "pool_size": config.max_concurrency, "max_overflow": 2}
    writable = SqlSourceConfig(kind="sql", url=str(url), read_only=False, connect_args={"options": "-c x=1"})
    assert PG.engine_options(url, writable).connect_args["options"] == "-c x=1"  # the user's own wins


def test_soda_gets_the_same_session_settings_and_the_password_only_as_a_value() -> None:
    url = make_url("postgresql+psycopg://monitor:s3cret@db.internal:6543/shop?sslmode=require")
    config = SqlSourceConfig(kind="sql", url=str(url), statement_timeout=timedelta(minutes=2))
    assert soda_connection_properties(url, config) == {
        "options": "-c statement_timeout=120000 -c application_name=datahealth-checks -c TimeZone=UTC "
        "-c default_transaction_read_only=on",
        "connect_timeout": 10,
        "sslmode": "require",
        "host": "db.internal",
        "port": 6543,
        "database": "shop",
        "user": "monitor",
        "password": "s3cret",
    }
    assert PG.soda_prefixes(url) == ["shop"]


def test_server_urls_are_used_as_written(tmp_path: Path) -> None:
    url = make_url("postgresql+psycopg://u@h/relative")
    assert PG.resolve_url(url, tmp_path) is url
    assert PG.resolve_store_url(url, tmp_path) is url
