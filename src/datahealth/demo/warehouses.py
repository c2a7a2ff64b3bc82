"""The demo's warehouse tables on another engine: each day's new rows, copied from the demo's DuckDB file.

`DemoPlatform` generates its data in DuckDB (fast, deterministic); on Snowflake, BigQuery or MariaDB the
demo monitors a copy. `WarehouseMirror.load_day` brings the copy up to date after each simulated day:
append-only tables (customers, email_events, purchases) get the rows added since the last day (DuckDB's
`rowid` grows with each insert), and products, which is updated in place, is replaced (200 rows).

One `DemoWarehouse` per engine knows its column types and its fastest way to insert many rows.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import duckdb

from datahealth.demo.standins.bqemulator import BigQueryEmulator
from datahealth.demo.standins.fakesnow import FakesnowServer
from datahealth.demo.standins.mariadb import MariaDBServer

REPLACED_TABLES = ("products",)
"""Tables the demo updates in place: copied whole each day."""
_CHUNK = 2_000
_DECIMAL = re.compile(r"DECIMAL\((\d+),\s*(\d+)\)")

Column = tuple[str, str]
"""(name, DuckDB type as DESCRIBE prints it)."""


class DemoWarehouse(ABC):
    """One engine holding the demo's warehouse tables in `schema`, written as an administrator."""

    engine: ClassVar[str]
    """The `DATAHEALTH_DEMO_ENGINE` value."""
    user_contracts: ClassVar[bool] = True
    """Whether the engine runs the user contracts in checks/warehouse/ (it has a Soda plugin)."""
    types: ClassVar[dict[str, str]]
    """DuckDB base type → this engine's type (DECIMAL keeps its precision and scale unless mapped)."""
    generated_checks_off: ClassVar[dict[str, str]] = {}
    """Generated checks the stand-in cannot evaluate (switch → why); switched off in the demo project."""
    scale: ClassVar[float] = 1.0
    """The most of the demo's daily volume the engine takes in reasonable time (`DemoPlatform.scale`)."""
    schema: str

    @abstractmethod
    def source(self) -> dict[str, Any]:
        """The `sources.warehouse` entry of sla_config that reads these tables."""

    @abstractmethod
    def execute(self, *statements: str) -> None:
        """Administrator statements in the demo's schema."""

    @abstractmethod
    def insert(self, table: str, columns: Sequence[Column], rows: Sequence[tuple[Any, ...]]) -> None:
        """Append rows (at most a few thousand at a time)."""

    def qualified(self, table: str) -> str:
        return f"{self.schema}.{table}"

    def column_type(self, duckdb_type: str) -> str:
        if duckdb_type in self.types:
            return self.types[duckdb_type]
        decimal = _DECIMAL.fullmatch(duckdb_type)
        if decimal:
            return self.types.get("DECIMAL", "DECIMAL({},{})").format(*decimal.groups())
        raise ValueError(f"the demo does not copy columns of type {duckdb_type}")

    def create_table(self, table: str, columns: Sequence[Column]) -> None:
        body = ", ".join(f"{name} {self.column_type(kind)}" for name, kind in columns)
        self.execute(f"CREATE TABLE {self.qualified(table)} ({body})")

    def empty(self, table: str) -> None:
        self.execute(f"DELETE FROM {self.qualified(table)} WHERE 1 = 1")  # noqa: S608 - the demo's own tables


@dataclass
class MariaDBWarehouse(DemoWarehouse):
    """A database on the machine's MariaDB; generated checks are computed by datahealth (no Soda plugin)."""

    server: MariaDBServer
    database: str
    engine: ClassVar[str] = "mariadb"
    user_contracts: ClassVar[bool] = False
    types: ClassVar[dict[str, str]] = {
        "INTEGER": "INT",
        "BIGINT": "BIGINT",
        "VARCHAR": "VARCHAR(255)",
        "TIMESTAMP": "DATETIME(6)",
        "BOOLEAN": "BOOLEAN",
    }

    def __post_init__(self) -> None:
        self.schema = self.database

    def source(self) -> dict[str, Any]:
        return {"kind": "sql", "url": self.server.url(self.database)}

    def execute(self, *statements: str) -> None:
        self.server.execute(self.database, *statements)

    def insert(self, table: str, columns: Sequence[Column], rows: Sequence[tuple[Any, ...]]) -> None:
        marks = ", ".join(["%s"] * len(columns))
        statement = f"INSERT INTO {table} VALUES ({marks})"  # noqa: S608 - the demo's own tables, values bound
        self.server.insert(self.database, statement, rows)


@dataclass
class SnowflakeWarehouse(DemoWarehouse):
    """A database and schema on fakesnow."""

    server: FakesnowServer
    database: str
    schema: str = "public"
    engine: ClassVar[str] = "snowflake"
    generated_checks_off: ClassVar[dict[str, str]] = {
        "schema": "fakesnow's information_schema.columns has no DATETIME_PRECISION, which soda-snowflake's "
        "schema check reads (datahealth's own schema snapshots still catch every change)"
    }
    scale: ClassVar[float] = 0.05  # fakesnow parses each inserted row (~3 ms a row)
    types: ClassVar[dict[str, str]] = {
        "INTEGER": "INTEGER",
        "BIGINT": "BIGINT",
        "VARCHAR": "VARCHAR",
        "TIMESTAMP": "TIMESTAMP_NTZ",
        "BOOLEAN": "BOOLEAN",
        "DECIMAL": "NUMBER({},{})",
    }

    def source(self) -> dict[str, Any]:
        return {
            "kind": "sql",
            "url": self.server.url(self.database, self.schema.upper()),
            "connect_args": self.server.connect_args(),
        }

    def execute(self, *statements: str) -> None:
        self.server.execute(self.database, *statements)

    def insert(self, table: str, columns: Sequence[Column], rows: Sequence[tuple[Any, ...]]) -> None:
        marks = ", ".join(["%s"] * len(columns))
        statement = f"INSERT INTO {table} VALUES ({marks})"  # noqa: S608 - the demo's own tables, values bound
        self.server.insert(self.database, self.schema.upper(), statement, rows)


@dataclass
class BigQueryWarehouse(DemoWarehouse):
    """A dataset on bqemulator; rows arrive through the streaming insert API, as loaders often send them."""

    emulator: BigQueryEmulator
    dataset: str
    engine: ClassVar[str] = "bigquery"
    generated_checks_off: ClassVar[dict[str, str]] = {
        "schema": "bqemulator answers soda-bigquery's column metadata query with nothing, so its schema "
        "check is never evaluated (datahealth's own schema snapshots still catch every change)"
    }
    scale: ClassVar[float] = 0.2  # the emulator's streaming inserts and queries are slower than BigQuery's
    types: ClassVar[dict[str, str]] = {
        "INTEGER": "INT64",
        "BIGINT": "INT64",
        "VARCHAR": "STRING",
        "TIMESTAMP": "TIMESTAMP",
        "BOOLEAN": "BOOL",
        "DECIMAL": "NUMERIC",
    }

    def __post_init__(self) -> None:
        self.schema = self.dataset

    def qualified(self, table: str) -> str:
        return f"`{self.dataset}`.{table}"

    def source(self) -> dict[str, Any]:
        return {
            "kind": "sql",
            "url": self.emulator.url(self.dataset),
            "connect_args": self.emulator.connect_args(),
        }

    def execute(self, *statements: str) -> None:
        self.emulator.execute(*statements)

    def insert(self, table: str, columns: Sequence[Column], rows: Sequence[tuple[Any, ...]]) -> None:
        client = self.emulator.client()
        try:
            target = client.get_table(f"{self.dataset}.{table}")
            errors = client.insert_rows(target, [tuple(row) for row in rows])
        finally:
            client.close()
        if errors:
            raise RuntimeError(f"bqemulator refused rows of {table}: {errors[:3]}")


@dataclass
class WarehouseMirror:
    """Keeps `warehouse`'s copy of the demo's DuckDB tables up to date, one simulated day at a time."""

    source: Path
    warehouse: DemoWarehouse
    copied: dict[str, int] = field(default_factory=dict)

    def load_day(self) -> dict[str, int]:
        """Copy what the last `append_day` changed; returns the rows written per table."""
        written: dict[str, int] = {}
        with duckdb.connect(str(self.source), read_only=True) as con:
            for table, columns in _tables(con).items():
                if table not in self.copied:
                    self.warehouse.create_table(table, columns)
                    self.copied[table] = 0
                if table in REPLACED_TABLES:
                    self.warehouse.empty(table)
                    self.copied[table] = 0
                since = f"SELECT * FROM {table} WHERE rowid >= ? ORDER BY rowid"  # noqa: S608 - catalog names
                rows = con.execute(since, [self.copied[table]]).fetchall()
                for start in range(0, len(rows), _CHUNK):
                    self.warehouse.insert(table, columns, rows[start : start + _CHUNK])
                self.copied[table] += len(rows)
                written[table] = len(rows)
        return written


def _tables(con: duckdb.DuckDBPyConnection) -> dict[str, list[Column]]:
    """The warehouse's tables and columns, in creation order."""
    rows = con.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
    ).fetchall()
    tables: dict[str, list[Column]] = {}
    for table, column, kind in rows:
        tables.setdefault(str(table), []).append((str(column), str(kind)))
    return tables
