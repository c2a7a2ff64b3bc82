"""Databases on the machine's real MariaDB (127.0.0.1:3306, root without password), one per test that asks.

Each database gets a unique name and is dropped afterwards; users a test creates are dropped with it.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pymysql

HOST = os.environ.get("DATAHEALTH_TEST_MYSQL_HOST", "127.0.0.1")
PORT = int(os.environ.get("DATAHEALTH_TEST_MYSQL_PORT", "3306"))
USER = os.environ.get("DATAHEALTH_TEST_MYSQL_USER", "root")


def sqlalchemy_url(database: str, user: str = USER, password: str | None = None) -> str:
    auth = f"{user}:{password}" if password else user
    return f"mysql+pymysql://{auth}@{HOST}:{PORT}/{database}"


def mariadb_available() -> bool:
    try:
        pymysql.connect(host=HOST, port=PORT, user=USER, connect_timeout=3).close()
        return True
    except pymysql.Error:
        return False


def execute(database: str | None, *statements: str) -> list[tuple[Any, ...]]:
    """Run administrator statements (autocommit); returns the last statement's rows."""
    connection = pymysql.connect(host=HOST, port=PORT, user=USER, database=database, autocommit=True)
    rows: list[tuple[Any, ...]] = []
    try:
        with connection.cursor() as cursor:
            for statement in statements:
                cursor.execute(statement)  # test fixtures' own DDL
                rows = list(cursor.fetchall())
    finally:
        connection.close()
    return rows


@contextmanager
def temporary_database(prefix: str = "dh_test") -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    execute(None, f"CREATE DATABASE `{name}`")
    try:
        yield name
    finally:
        execute(None, f"DROP DATABASE IF EXISTS `{name}`")
