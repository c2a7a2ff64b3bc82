"""Snowflake's stand-in: fakesnow's server (in its own virtualenv), and administrator access to it.

Datahealth reaches it as it reaches Snowflake: `snowflake://user:password@account/DATABASE/SCHEMA` with
`connect_args: {host: 127.0.0.1, port: PORT, protocol: http}`. fakesnow keeps every database in one
in-memory DuckDB, so everything goes when the server stops.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from datahealth.checks.soda_env import prepare_soda
from datahealth.core.processes import free_port
from datahealth.demo.standins.process import standin_server

ACCOUNT = "datahealth-test"
USER = "tester"
PASSWORD = "fakesnow-password"


@dataclass(frozen=True)
class FakesnowServer:
    port: int

    def connect_args(self) -> dict[str, Any]:
        return {"host": "127.0.0.1", "port": self.port, "protocol": "http"}

    def url(self, database: str, schema: str = "PUBLIC", password: str = PASSWORD) -> str:
        return f"snowflake://{USER}:{password}@{ACCOUNT}/{database}/{schema}"

    def execute(self, database: str | None, *statements: str) -> list[list[tuple[Any, ...]]]:
        """Run statements with the real connector as an administrator; returns each statement's rows."""
        import snowflake.connector

        with (
            snowflake.connector.connect(
                user=USER, password=PASSWORD, account=ACCOUNT, database=database, **self.connect_args()
            ) as con,
            con.cursor() as cursor,
        ):
            results = []
            for statement in statements:
                cursor.execute(statement)
                results.append(list(cursor.fetchall()) if cursor.description else [])
            return results

    def insert(self, database: str, schema: str, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """Insert many rows with one statement (`INSERT ... VALUES (%s, ...)`; the connector binds them
        client-side into one multi-row INSERT)."""
        import snowflake.connector

        with (
            snowflake.connector.connect(
                user=USER,
                password=PASSWORD,
                account=ACCOUNT,
                database=database,
                schema=schema,
                **self.connect_args(),
            ) as con,
            con.cursor() as cursor,
        ):
            cursor.executemany(statement, [tuple(row) for row in rows])

    @contextmanager
    def database(self, prefix: str = "DH_TEST") -> Iterator[str]:
        """A new database. fakesnow cannot DROP DATABASE: its tables go when the (in-memory) server stops."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}".upper()
        self.execute(None, f"CREATE DATABASE {name}", f"CREATE SCHEMA IF NOT EXISTS {name}.PUBLIC")
        yield name


@contextmanager
def soda_without_current_warehouse() -> Iterator[None]:
    """fakesnow has no CURRENT_WAREHOUSE(), which soda-snowflake asks for before each scan: while the
    stand-in runs, soda-snowflake is told there is none (as on an account without a default warehouse)."""
    prepare_soda()  # soda_core first, then its plugins: the other order trips Soda's plugin loader
    from soda_snowflake.common.data_sources.snowflake_data_source import SnowflakeDataSourceImpl

    original = SnowflakeDataSourceImpl.get_current_warehouse
    SnowflakeDataSourceImpl.get_current_warehouse = lambda self: None  # type: ignore[method-assign,assignment,return-value]
    try:
        yield
    finally:
        SnowflakeDataSourceImpl.get_current_warehouse = original  # type: ignore[method-assign]


@contextmanager
def fakesnow_server(standins: Path, log_dir: Path) -> Iterator[FakesnowServer]:
    """fakesnow on a free loopback port, with soda-snowflake able to scan it, until the block ends."""
    port = free_port()
    with (
        standin_server(standins, "fakesnow", "fakesnow_server.py", [port], log_dir / "fakesnow.log"),
        soda_without_current_warehouse(),
    ):
        yield FakesnowServer(port)
