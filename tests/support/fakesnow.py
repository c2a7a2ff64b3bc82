"""Snowflake's stand-in: fakesnow's server (in its own virtualenv), and admin access to it for tests.

Datahealth reaches it as it reaches Snowflake: `snowflake://user:password@account/DATABASE/SCHEMA` with
`connect_args: {host: 127.0.0.1, port: PORT, protocol: http}`. Each test gets its own database (fakesnow
keeps all of them in one in-memory DuckDB) and drops it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.ports import free_port
from tests.support.standin_process import standin_server

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

    @contextmanager
    def database(self, prefix: str = "DH_TEST") -> Iterator[str]:
        """A new database for one test. fakesnow cannot DROP DATABASE: its tables go when the (in-memory)
        server stops at the end of the session."""
        name = f"{prefix}_{uuid.uuid4().hex[:10]}".upper()
        self.execute(None, f"CREATE DATABASE {name}", f"CREATE SCHEMA IF NOT EXISTS {name}.PUBLIC")
        yield name


@contextmanager
def fakesnow_server(log_dir: Path) -> Iterator[FakesnowServer]:
    port = free_port()
    with standin_server("fakesnow", "fakesnow_server.py", [port], log_dir / "fakesnow.log"):
        yield FakesnowServer(port)
