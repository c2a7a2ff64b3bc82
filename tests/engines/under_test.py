"""Engines under test: one small adapter per engine that drives a REAL instance for the conformance suite.

An adapter knows how to reach its engine as an administrator (create tables, drop them, take a
permission away) and which conformance cases cannot apply to it, with the reason. The suite itself
(test_conformance.py) never mentions an engine by name.

Adding an engine (Snowflake, BigQuery, MySQL...) to the suite is one subclass here, appended to
`UNDER_TEST`, plus whatever fixture starts its instance or local stand-in.
"""

from __future__ import annotations

import re
import sqlite3
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import duckdb
import pytest
from _pytest.mark.structures import ParameterSet

from tests.support import mariadb, postgres
from tests.support.bqemulator import BigQueryEmulator
from tests.support.fakesnow import FakesnowServer

# The standard table every engine gets: one duplicated id, a NULL and an empty email, a NULL boolean.
ORDERS_DDL = (
    "CREATE TABLE orders (id INTEGER NOT NULL, amount DECIMAL(10,2), score DOUBLE PRECISION, "
    "email VARCHAR(100), active BOOLEAN, updated_at TIMESTAMP)"
)
ORDERS_ROWS: list[tuple[Any, ...]] = [
    (1, 10.00, 0.5, "a@x.io", True, "2026-01-01 10:00:00"),
    (2, 20.00, 1.5, "b@x.io", False, "2026-01-01 11:00:00"),
    (3, 30.00, 2.5, "c@x.io", True, "2026-01-02 09:00:00"),
    (3, 30.00, 2.5, "c@x.io", True, "2026-01-02 09:00:00"),
    (4, 40.00, 3.5, None, False, "2026-01-02 12:00:00"),
    (5, 50.00, 4.5, "", True, "2026-01-03 08:00:00"),
    (6, -5.00, 5.5, "f@x.io", None, "2026-01-03 09:00:00"),
    (7, 70.00, 6.5, "g@x.io", True, "2026-01-03 10:00:00"),
    (8, 80.00, 7.5, "h@x.io", False, "2026-01-04 10:00:00"),
    (9, 90.00, 8.5, "i@x.io", True, "2026-01-04 11:00:00"),
]
ORDERS_COLUMNS = ("id", "amount", "score", "email", "active", "updated_at")


def _literal(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


ORDERS_INSERT = "INSERT INTO orders VALUES " + ", ".join(
    "(" + ", ".join(_literal(v) for v in row) + ")" for row in ORDERS_ROWS
)


class EngineUnderTest(ABC):
    """A real instance of one engine, driven as an administrator; the source under test reads it."""

    backend: ClassVar[str]
    """The engine's registry name (`datahealth.engines.for_backend`)."""
    marks: ClassVar[tuple[pytest.MarkDecorator, ...]] = ()
    not_applicable: ClassVar[dict[str, str]] = {}
    """Conformance cases this engine cannot show, with the reason (docs/engines.md lists them)."""
    schema: ClassVar[str]
    """The schema the tables are created in (the engine's default schema)."""

    @classmethod
    @abstractmethod
    def start(cls, request: pytest.FixtureRequest, tmp_path: Path) -> EngineUnderTest:
        """A fresh, empty instance for one test."""

    @property
    @abstractmethod
    def url(self) -> str:
        """The source URL the monitor reads through."""

    @abstractmethod
    def execute(self, *statements: str) -> None:
        """Run administrator statements (DDL, inserts) and commit; no connection stays open."""

    @abstractmethod
    def numbers_table(self, name: str, rows: int) -> str:
        """DDL creating `name` with one integer column `n` holding 1..rows."""

    @abstractmethod
    def slow_view(self, name: str) -> str:
        """DDL creating a view whose full scan takes far longer than a second."""

    def refresh_statistics(self) -> None:
        """Bring catalog statistics (row estimates) up to date, where the engine keeps them lazily."""
        return None

    def restricted_url(self, table: str) -> str:
        """A URL of a user who can see the database but may not read `table`."""
        raise NotImplementedError(self.not_applicable.get("permission", "no permissions"))

    def close(self) -> None:
        """Remove what `start` created outside the test's own directory or database."""
        return None

    def table(self, name: str) -> str:
        """The dataset `table:` reference for `name`."""
        return f"{self.schema}.{name}"

    @property
    def connect_args(self) -> dict[str, Any]:
        """The source's `connect_args` (how a stand-in is reached: host, port, endpoint)."""
        return {}

    def source(self, url: str | None = None) -> dict[str, Any]:
        """The source entry of `sla_config` for this engine (`url` overrides the administrator's)."""
        entry: dict[str, Any] = {"kind": "sql", "url": url or self.url}
        if self.connect_args:
            entry["connect_args"] = self.connect_args
        return entry

    def record_write(self, table: str) -> None:
        """Whatever the engine's catalog needs to learn of a write just made (nothing: it learns itself)."""
        return None


class PostgresUnderTest(EngineUnderTest):
    backend = "postgresql"
    marks = (pytest.mark.integration, pytest.mark.postgres)
    schema = "public"

    def __init__(self, database: str) -> None:
        self.database = database
        self.roles: list[str] = []

    @classmethod
    def start(cls, request: pytest.FixtureRequest, tmp_path: Path) -> EngineUnderTest:
        return cls(str(request.getfixturevalue("pg_database")))

    @property
    def url(self) -> str:
        return postgres.sqlalchemy_url(self.database)

    def execute(self, *statements: str) -> None:
        postgres.execute(self.database, *statements)

    def numbers_table(self, name: str, rows: int) -> str:
        return f"CREATE TABLE {name} AS SELECT g AS n FROM generate_series(1, {rows}) g"

    def slow_view(self, name: str) -> str:
        return f"CREATE VIEW {name} AS SELECT g AS x FROM generate_series(1, 40) g, LATERAL (SELECT pg_sleep(0.5)) s"

    def refresh_statistics(self) -> None:
        self.execute("ANALYZE")

    def restricted_url(self, table: str) -> str:
        role = f"dh_reader_{uuid.uuid4().hex[:8]}"
        self.roles.append(role)
        self.execute(f"CREATE ROLE {role} LOGIN", f"REVOKE ALL ON {table} FROM PUBLIC")
        return postgres.sqlalchemy_url(self.database, user=role)

    def close(self) -> None:
        for role in self.roles:
            self.execute(f"DROP OWNED BY {role}", f"DROP ROLE IF EXISTS {role}")


class DuckDBUnderTest(EngineUnderTest):
    backend = "duckdb"
    schema = "main"
    not_applicable = {
        "permission": "DuckDB has no users or grants: a database file is readable by whoever may open it",
    }

    def __init__(self, path: Path) -> None:
        self.path = path
        duckdb.connect(str(path)).close()

    @classmethod
    def start(cls, request: pytest.FixtureRequest, tmp_path: Path) -> EngineUnderTest:
        return cls(tmp_path / "warehouse.duckdb")

    @property
    def url(self) -> str:
        return f"duckdb:///{self.path}"

    def execute(self, *statements: str) -> None:
        # closed at once: DuckDB allows no second, differently configured connection in the same process
        with duckdb.connect(str(self.path)) as con:
            for statement in statements:
                con.execute(statement)

    def numbers_table(self, name: str, rows: int) -> str:
        return f"CREATE TABLE {name} AS SELECT range AS n FROM range(1, {rows + 1})"

    def slow_view(self, name: str) -> str:
        return f"CREATE VIEW {name} AS SELECT a.range * b.range AS x FROM range(100000) a, range(100000) b"


class SQLiteUnderTest(EngineUnderTest):
    backend = "sqlite"
    schema = "main"
    not_applicable = {
        "permission": "SQLite has no users or grants: a database file is readable by whoever may open it",
    }

    def __init__(self, path: Path) -> None:
        self.path = path
        sqlite3.connect(path).close()

    @classmethod
    def start(cls, request: pytest.FixtureRequest, tmp_path: Path) -> EngineUnderTest:
        return cls(tmp_path / "warehouse.sqlite")

    @property
    def url(self) -> str:
        return f"sqlite:///{self.path}"

    def execute(self, *statements: str) -> None:
        con = sqlite3.connect(self.path)
        try:
            for statement in statements:
                con.execute(statement)
            con.commit()
        finally:
            con.close()

    def numbers_table(self, name: str, rows: int) -> str:
        return (
            f"CREATE TABLE {name} AS WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r "
            f"WHERE n < {rows}) SELECT n FROM r"
        )

    def slow_view(self, name: str) -> str:
        return (
            f"CREATE VIEW {name} AS WITH RECURSIVE r(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM r "
            "WHERE x < 1000000000) SELECT x FROM r"
        )


class MySQLUnderTest(EngineUnderTest):
    """The machine's MariaDB, one database per test."""

    backend = "mysql"
    marks = (pytest.mark.integration, pytest.mark.mariadb)

    def __init__(self, database: str) -> None:
        self.database = database
        self.schema = database
        self.users: list[str] = []

    @classmethod
    def start(cls, request: pytest.FixtureRequest, tmp_path: Path) -> EngineUnderTest:
        return cls(str(request.getfixturevalue("mariadb_database")))

    @property
    def url(self) -> str:
        return mariadb.sqlalchemy_url(self.database)

    def execute(self, *statements: str) -> None:
        mariadb.execute(self.database, *statements)

    def numbers_table(self, name: str, rows: int) -> str:
        return f"CREATE TABLE {name} AS SELECT seq AS n FROM seq_1_to_{rows}"

    def slow_view(self, name: str) -> str:
        return f"CREATE VIEW {name} AS SELECT SLEEP(0.5) AS x FROM seq_1_to_40"

    def refresh_statistics(self) -> None:
        self.execute("ANALYZE TABLE orders")

    def restricted_url(self, table: str) -> str:
        user = f"dh_reader_{uuid.uuid4().hex[:8]}"
        self.users.append(user)
        # may write the table (so the catalog shows it) but not read it
        self.execute(
            f"CREATE USER '{user}'@'%' IDENTIFIED BY 'reader-pw'",
            f"GRANT INSERT ON `{self.database}`.orders TO '{user}'@'%'",
        )
        return mariadb.sqlalchemy_url(self.database, user=user, password="reader-pw")

    def close(self) -> None:
        for user in self.users:
            mariadb.execute(None, f"DROP USER IF EXISTS '{user}'@'%'")


class SnowflakeUnderTest(EngineUnderTest):
    """fakesnow's server (tests/support/fakesnow.py), one database per test."""

    backend = "snowflake"
    marks = (pytest.mark.integration, pytest.mark.snowflake)
    schema = "public"
    not_applicable = {
        "permission": "fakesnow has no roles or grants: every session may read every table",
        "timeout": "fakesnow implements neither STATEMENT_TIMEOUT_IN_SECONDS nor query cancellation "
        "(the statement datahealth sends is pinned in test_snowflake.py)",
        "freshness_metadata": "fakesnow reports LAST_ALTERED as 1970-01-01 for every table (its "
        "parsing is tested with known rows in test_snowflake.py)",
    }

    def __init__(self, server: FakesnowServer, database: str) -> None:
        self.server, self.database = server, database

    @classmethod
    def start(cls, request: pytest.FixtureRequest, tmp_path: Path) -> EngineUnderTest:
        server: FakesnowServer = request.getfixturevalue("snowflake_standin")
        context = server.database()
        instance = cls(server, context.__enter__())
        request.addfinalizer(lambda: context.__exit__(None, None, None))
        return instance

    @property
    def url(self) -> str:
        return self.server.url(self.database)

    @property
    def connect_args(self) -> dict[str, Any]:
        return self.server.connect_args()

    def execute(self, *statements: str) -> None:
        self.server.execute(self.database, "USE SCHEMA PUBLIC", *statements)

    def numbers_table(self, name: str, rows: int) -> str:
        return f"CREATE TABLE {name} AS SELECT seq4() + 1 AS n FROM TABLE(GENERATOR(ROWCOUNT => {rows}))"

    def slow_view(self, name: str) -> str:
        return f"CREATE VIEW {name} AS SELECT seq4() AS x FROM TABLE(GENERATOR(ROWCOUNT => 1000000000))"


class BigQueryUnderTest(EngineUnderTest):
    """bqemulator (tests/support/bqemulator.py), one dataset per test; DDL in BigQuery's type names."""

    backend = "bigquery"
    marks = (pytest.mark.integration, pytest.mark.bigquery)
    not_applicable = {
        "permission": "bqemulator has no IAM: every client may read every table",
        "timeout": "bqemulator does not enforce job_timeout_ms (the job configuration datahealth sends "
        "is pinned in test_bigquery.py)",
        "freshness_metadata": "bqemulator never updates last_modified_time after a table is created "
        "(parsing is tested with known rows in test_bigquery.py)",
        "schema_change": "bqemulator's INFORMATION_SCHEMA.COLUMNS does not follow ALTER TABLE ADD/DROP COLUMN",
        "missing_table": "bqemulator answers a query on a dropped table with no rows instead of 'Not found: "
        "Table' (the catalog half is shown by describe; the error text is classified in test_bigquery.py)",
    }
    _TYPES = (("DOUBLE PRECISION", "FLOAT64"), ("VARCHAR(100)", "STRING"), ("VARCHAR(20)", "STRING"))

    def __init__(self, emulator: BigQueryEmulator, dataset: str) -> None:
        self.emulator, self.dataset = emulator, dataset
        self.schema = dataset

    @classmethod
    def start(cls, request: pytest.FixtureRequest, tmp_path: Path) -> EngineUnderTest:
        emulator: BigQueryEmulator = request.getfixturevalue("bigquery_standin")
        context = emulator.dataset()
        instance = cls(emulator, context.__enter__())
        request.addfinalizer(lambda: context.__exit__(None, None, None))
        return instance

    @property
    def url(self) -> str:
        return self.emulator.url(self.dataset)

    @property
    def connect_args(self) -> dict[str, Any]:
        return self.emulator.connect_args()

    def execute(self, *statements: str) -> None:
        self.emulator.execute(*(self._bigquery(s) for s in statements))

    def _bigquery(self, statement: str) -> str:
        """Standard type names as BigQuery's, and every table of the test qualified with its dataset."""
        for standard, bigquery in self._TYPES:
            statement = statement.replace(standard, bigquery)
        return re.sub(
            r"\b(TABLE|VIEW|INTO|FROM)\s+(?!`)([a-z_]+)\b",
            lambda m: f"{m.group(1)} `{self.dataset}`.{m.group(2)}",
            statement,
        )

    def numbers_table(self, name: str, rows: int) -> str:
        return f"CREATE TABLE {name} AS SELECT n FROM UNNEST(GENERATE_ARRAY(1, {rows})) AS n"

    def slow_view(self, name: str) -> str:
        return f"CREATE VIEW {name} AS SELECT a * b AS x FROM UNNEST(GENERATE_ARRAY(1, 100000)) a, UNNEST(GENERATE_ARRAY(1, 100000)) b"


class RedshiftUnderTest(PostgresUnderTest):
    """Redshift's shared SQL on the machine's PostgreSQL (it speaks Redshift's wire protocol).

    Redshift's own system views do not exist there, so each test database gets small stand-ins with the
    columns datahealth reads: `svv_table_info` (over the planner's row estimate) and `stl_insert` /
    `stl_delete`, to which `record_write` adds a row the way Redshift logs a write. The exact catalog SQL
    (and its parsing of real-shaped rows) is pinned in test_redshift.py.
    """

    backend = "redshift"
    not_applicable = {
        "checks": "soda-redshift opens its connection with Redshift-only settings "
        "(enable_case_sensitive_identifier) that PostgreSQL refuses",
        "timeout": "a view's size is unknown, so its profile counts distincts with Redshift's APPROXIMATE "
        "COUNT(DISTINCT), which PostgreSQL cannot parse; the limit itself is PostgreSQL's statement_timeout "
        "(the postgresql run proves it)",
    }
    STAND_IN_VIEWS = (
        "CREATE VIEW svv_table_info AS SELECT c.oid AS table_id, n.nspname AS schema, c.relname AS table, "
        "c.reltuples::bigint AS estimated_visible_rows FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'r'",
        "CREATE TABLE stl_insert (tbl oid, endtime timestamp, rows bigint)",
        "CREATE TABLE stl_delete (tbl oid, endtime timestamp, rows bigint)",
    )

    @classmethod
    def start(cls, request: pytest.FixtureRequest, tmp_path: Path) -> EngineUnderTest:
        instance = cls(str(request.getfixturevalue("pg_database")))
        instance.execute(*cls.STAND_IN_VIEWS)
        return instance

    @property
    def url(self) -> str:
        return self._redshift(postgres.sqlalchemy_url(self.database))

    def restricted_url(self, table: str) -> str:
        return self._redshift(super().restricted_url(table))

    @staticmethod
    def _redshift(url: str) -> str:
        return url.replace("postgresql+psycopg://", "redshift+psycopg2://", 1) + "?sslmode=disable"

    def record_write(self, table: str) -> None:
        self.execute(f"INSERT INTO stl_insert VALUES ('{table}'::regclass::oid, now() AT TIME ZONE 'UTC', 1)")


UNDER_TEST: list[type[EngineUnderTest]] = [
    PostgresUnderTest,
    DuckDBUnderTest,
    SQLiteUnderTest,
    MySQLUnderTest,
    SnowflakeUnderTest,
    BigQueryUnderTest,
    RedshiftUnderTest,
]
CASES = (
    "describe",
    "observe_metadata",
    "observe_scan",
    "profile",
    "sampling",
    "checks",
    "schema_change",
    "missing_table",
    "permission",
    "timeout",
    "freshness_metadata",
)


def engines_for(case: str) -> list[ParameterSet]:
    """One parameter per engine under test that can show `case`.

    A case an engine cannot show is not generated at all (a skip would read as a test that ran); its
    reason stays in the engine's `not_applicable`, which docs/engines.md explains.
    """
    assert case in CASES, case
    return [
        pytest.param(under_test, id=under_test.backend, marks=list(under_test.marks))
        for under_test in UNDER_TEST
        if case not in under_test.not_applicable
    ]
