"""SqlSource against real engines: DuckDB and SQLite files and the machine's PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
import sqlalchemy as sa

from datahealth.config.models import DatasetConfig, SqlSourceConfig
from datahealth.core.results import ErrorKind, TableMeta
from datahealth.sources import DatasetError, SqlSource
from tests.support import postgres

AS_OF = datetime(2026, 10, 10, 12, tzinfo=UTC)
HOSTILE_TABLE = 'Order "Lines"; DROP TABLE x'
HOSTILE_COLUMN = 'select "weird" col'


def dataset(name: str, **fields: object) -> DatasetConfig:
    return DatasetConfig(name=name, **fields)  # type: ignore[arg-type]


def capture_statements(engine: sa.Engine) -> list[str]:
    statements: list[str] = []
    sa.event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    return statements


def build_duckdb(path: Path) -> str:
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA sales")
    con.execute(
        "CREATE TABLE main.customers AS SELECT range AS id, TIMESTAMP '2026-10-10 06:00:00' - INTERVAL (range) MINUTE AS updated_at FROM range(100)"
    )
    con.execute("CREATE TABLE main.products (id INTEGER NOT NULL, name VARCHAR)")
    con.execute("INSERT INTO main.products VALUES (1, 'a'), (2, NULL)")
    con.execute("CREATE TABLE sales.orders AS SELECT range AS id FROM range(7)")
    con.execute(
        f'CREATE TABLE main."{HOSTILE_TABLE.replace(chr(34), chr(34) * 2)}" ("{HOSTILE_COLUMN.replace(chr(34), chr(34) * 2)}" TIMESTAMP)'
    )
    con.execute(
        f"INSERT INTO main.\"{HOSTILE_TABLE.replace(chr(34), chr(34) * 2)}\" VALUES (TIMESTAMP '2026-10-09 00:00:00')"
    )
    con.close()
    return f"duckdb:///{path}"


def build_sqlite(path: Path) -> str:
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE customers (id INTEGER NOT NULL, updated_at TIMESTAMP)")
        conn.exec_driver_sql(
            "INSERT INTO customers VALUES (1, '2026-10-10 06:00:00'), (2, '2026-10-09 06:00:00')"
        )
        conn.exec_driver_sql("CREATE TABLE products (id INTEGER NOT NULL, name TEXT)")
        conn.exec_driver_sql("INSERT INTO products VALUES (1, 'a'), (2, NULL)")
        quoted_table = HOSTILE_TABLE.replace('"', '""')
        quoted_column = HOSTILE_COLUMN.replace('"', '""')
        conn.exec_driver_sql(f'CREATE TABLE "{quoted_table}" ("{quoted_column}" TIMESTAMP)')
        conn.exec_driver_sql(f"INSERT INTO \"{quoted_table}\" VALUES ('2026-10-09 00:00:00')")
    engine.dispose()
    return f"sqlite:///{path}"


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    quoted_table = HOSTILE_TABLE.replace('"', '""')
    quoted_column = HOSTILE_COLUMN.replace('"', '""')
    postgres.execute(
        pg_database,
        "CREATE SCHEMA sales",
        "CREATE TABLE public.customers AS SELECT g AS id, TIMESTAMPTZ '2026-10-10 06:00:00+00' - g * INTERVAL '1 minute' AS updated_at FROM generate_series(0, 99) g",
        "CREATE TABLE public.products (id INTEGER NOT NULL, name TEXT)",
        "INSERT INTO public.products VALUES (1, 'a'), (2, NULL)",
        "CREATE TABLE sales.orders AS SELECT g AS id FROM generate_series(1, 7) g",
        f'CREATE TABLE public."{quoted_table}" ("{quoted_column}" TIMESTAMPTZ)',
        f"INSERT INTO public.\"{quoted_table}\" VALUES ('2026-10-09 00:00:00+00')",
        "ANALYZE",
    )
    yield postgres.sqlalchemy_url(pg_database)


def source_for(url: str, tmp_path: Path) -> SqlSource:
    return SqlSource("wh", SqlSourceConfig(kind="sql", url=url), tmp_path)


def test_duckdb_describe_batches_one_catalog_query_per_schema(tmp_path: Path) -> None:
    source = source_for(build_duckdb(tmp_path / "wh.duckdb"), tmp_path)
    statements = capture_statements(source.engine)
    datasets = [
        dataset("wh.customers", table="main.customers"),
        dataset("wh.products", table="main.products"),
        dataset("wh.orders", table="sales.orders"),
        dataset("wh.gone", table="main.gone"),
    ]
    catalog = source.describe(datasets)
    catalog_queries = [s for s in statements if "information_schema" in s]
    assert len(catalog_queries) == 2  # main and sales, not one per table
    products = catalog["wh.products"]
    assert isinstance(products, TableMeta)
    assert [(c.name, c.data_type, c.nullable) for c in products.columns] == [
        ("id", "integer", False),
        ("name", "varchar", True),
    ]
    missing = catalog["wh.gone"]
    assert isinstance(missing, DatasetError) and missing.kind == ErrorKind.MISSING
    source.close()


ENGINES = pytest.mark.parametrize(
    "engine_kind",
    ["duckdb", "sqlite", pytest.param("postgres", marks=[pytest.mark.integration, pytest.mark.postgres])],
)


def warehouse_url(engine_kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """The same small warehouse built in the engine under test."""
    if engine_kind == "duckdb":
        return build_duckdb(tmp_path / "wh.duckdb")
    if engine_kind == "sqlite":
        return build_sqlite(tmp_path / "wh.sqlite")
    return str(request.getfixturevalue("pg_url"))


@ENGINES
def test_measure_counts_rows_and_reads_newest_timestamp_in_one_query(
    engine_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    source = source_for(warehouse_url(engine_kind, tmp_path, request), tmp_path)
    ds = dataset("wh.customers", timestamp_column="updated_at")
    meta = source.describe([ds])["wh.customers"]
    assert isinstance(meta, TableMeta)
    statements = capture_statements(source.engine)
    measurement = source.measure(ds, meta, AS_OF)
    data_queries = [s for s in statements if "count(" in s.lower()]
    assert len(data_queries) == 1 and "max(" in data_queries[0].lower()
    expected_rows = 2 if engine_kind == "sqlite" else 100
    assert measurement.row_count == expected_rows and measurement.row_count_method == "exact"
    assert measurement.last_updated == datetime(2026, 10, 10, 6, tzinfo=UTC)
    source.close()


@ENGINES
def test_hostile_identifiers_are_quoted_not_executed(
    engine_kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    source = source_for(warehouse_url(engine_kind, tmp_path, request), tmp_path)
    ds = dataset("wh.hostile", table=HOSTILE_TABLE, timestamp_column=HOSTILE_COLUMN)
    meta = source.describe([ds])["wh.hostile"]
    assert isinstance(meta, TableMeta), meta
    measurement = source.measure(ds, meta, AS_OF)
    assert measurement.row_count == 1
    assert measurement.last_updated == datetime(2026, 10, 9, tzinfo=UTC)
    source.close()


def test_postgres_estimate_comes_from_the_catalog_without_a_count(pg_url: str, tmp_path: Path) -> None:
    source = source_for(pg_url, tmp_path)
    ds = dataset("wh.customers", row_count="estimate", timestamp_column="updated_at")
    meta = source.describe([ds])["wh.customers"]
    assert isinstance(meta, TableMeta) and meta.estimated_rows == 100
    statements = capture_statements(source.engine)
    measurement = source.measure(ds, meta, AS_OF)
    assert measurement.row_count == 100 and measurement.row_count_method == "estimate"
    assert not any("count(" in s.lower() for s in statements)
    source.close()


def test_postgres_connections_are_read_only(pg_url: str, tmp_path: Path) -> None:
    source = source_for(pg_url, tmp_path)
    with source.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="read-only"):
        conn.exec_driver_sql("CREATE TABLE should_fail (id int)")
    source.close()


def test_duckdb_connections_are_read_only(tmp_path: Path) -> None:
    source = source_for(build_duckdb(tmp_path / "wh.duckdb"), tmp_path)
    with source.engine.connect() as conn, pytest.raises(sa.exc.DBAPIError, match="read-only"):
        conn.exec_driver_sql("CREATE TABLE should_fail (id int)")
    source.close()


def test_unreachable_postgres_fails_every_dataset_with_a_secret_free_message(tmp_path: Path) -> None:
    from tests.support.ports import free_port

    url = f"postgresql+psycopg://monitor:pw-never-shown@127.0.0.1:{free_port()}/nothing"
    source = source_for(url, tmp_path)
    catalog = source.describe([dataset("wh.a"), dataset("wh.b")])
    for error in catalog.values():
        assert isinstance(error, DatasetError) and error.kind == ErrorKind.UNREACHABLE
        assert "pw-never-shown" not in str(error) and "cannot reach wh" in str(error)
    source.close()


def test_missing_duckdb_file_is_a_clear_error(tmp_path: Path) -> None:
    source = source_for(f"duckdb:///{tmp_path / 'nope.duckdb'}", tmp_path)
    [error] = source.describe([dataset("wh.a")]).values()
    assert isinstance(error, DatasetError) and "not found" in str(error)


def test_timestamp_column_that_does_not_exist_is_a_config_error(tmp_path: Path) -> None:
    source = source_for(build_duckdb(tmp_path / "wh.duckdb"), tmp_path)
    ds = dataset("wh.products", timestamp_column="loaded_at")
    meta = source.describe([ds])["wh.products"]
    assert isinstance(meta, TableMeta)
    with pytest.raises(DatasetError, match="timestamp_column 'loaded_at'") as caught:
        source.measure(ds, meta, AS_OF)
    assert caught.value.kind == ErrorKind.CONFIG
    source.close()


def test_a_table_without_columns_is_reported_as_such_not_as_missing(pg_url: str, tmp_path: Path) -> None:
    database = sa.engine.make_url(pg_url).database
    assert database is not None
    postgres.execute(database, "CREATE TABLE public.hollow ()")
    source = source_for(pg_url, tmp_path)
    described = source.describe([dataset("wh.hollow"), dataset("wh.nowhere")])
    hollow, nowhere = described["wh.hollow"], described["wh.nowhere"]
    assert isinstance(hollow, DatasetError) and "has no columns" in str(hollow)
    assert isinstance(nowhere, DatasetError) and "not found" in str(nowhere)
    source.close()
