"""Databases on the machine's real MariaDB (127.0.0.1:3306, root without password), one per test that asks.

Each database gets a unique name and is dropped afterwards; users a test creates are dropped with it. The
administrator access is the product's (`datahealth.demo.standins.mariadb`), which the demo uses too.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from datahealth.demo.standins.mariadb import MariaDBServer

HOST = os.environ.get("DATAHEALTH_TEST_MYSQL_HOST", "127.0.0.1")
PORT = int(os.environ.get("DATAHEALTH_TEST_MYSQL_PORT", "3306"))
USER = os.environ.get("DATAHEALTH_TEST_MYSQL_USER", "root")
SERVER = MariaDBServer(HOST, PORT, USER)


def sqlalchemy_url(database: str, user: str = USER, password: str | None = None) -> str:
    return SERVER.url(database, user=user, password=password)


def mariadb_available() -> bool:
    return SERVER.available()


def execute(database: str | None, *statements: str) -> list[tuple[Any, ...]]:
    """Run administrator statements (autocommit); returns the last statement's rows."""
    return SERVER.execute(database, *statements)


@contextmanager
def temporary_database(prefix: str = "dh_test") -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    execute(None, f"CREATE DATABASE `{name}`")
    try:
        yield name
    finally:
        execute(None, f"DROP DATABASE IF EXISTS `{name}`")
