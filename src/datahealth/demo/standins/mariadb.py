"""The machine's MariaDB (or MySQL) as a warehouse stand-in, reached as an administrator.

Unlike fakesnow and bqemulator it is not started here: scripts/ensure-mariadb.sh starts the server when it
is down (`make demo` and `make test` run it); this module only creates databases and loads rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pymysql


@dataclass(frozen=True)
class MariaDBServer:
    host: str = "127.0.0.1"
    port: int = 3306
    user: str = "root"

    def url(self, database: str, user: str | None = None, password: str | None = None) -> str:
        """The source URL datahealth reads `database` through."""
        auth = f"{user or self.user}:{password}" if password else (user or self.user)
        return f"mysql+pymysql://{auth}@{self.host}:{self.port}/{database}"

    def available(self) -> bool:
        try:
            pymysql.connect(host=self.host, port=self.port, user=self.user, connect_timeout=3).close()
            return True
        except pymysql.Error:
            return False

    def execute(self, database: str | None, *statements: str) -> list[tuple[Any, ...]]:
        """Run administrator statements (autocommit); returns the last statement's rows."""
        connection = self._connect(database)
        rows: list[tuple[Any, ...]] = []
        try:
            with connection.cursor() as cursor:
                for statement in statements:
                    cursor.execute(statement)  # the caller's own DDL
                    rows = list(cursor.fetchall())
        finally:
            connection.close()
        return rows

    def insert(self, database: str, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        """`INSERT ... VALUES (%s, ...)` for many rows (PyMySQL sends them as multi-row INSERTs)."""
        connection = self._connect(database)
        try:
            with connection.cursor() as cursor:
                cursor.executemany(statement, [tuple(row) for row in rows])
        finally:
            connection.close()

    def _connect(self, database: str | None) -> pymysql.Connection[Any]:
        return pymysql.connect(
            host=self.host, port=self.port, user=self.user, database=database, autocommit=True
        )
