"""Databases on the machine's real PostgreSQL (127.0.0.1:5432, trust auth), one per test that asks.

Each database gets a unique name and is dropped afterwards, so tests (and parallel developers) never
see each other's tables.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

PG_HOST = os.environ.get("DATAHEALTH_TEST_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("DATAHEALTH_TEST_PG_PORT", "5432"))
PG_USER = os.environ.get("DATAHEALTH_TEST_PG_USER", "postgres")


def admin_dsn(dbname: str = "postgres", port: int = PG_PORT, host: str = PG_HOST) -> str:
    return f"host={host} port={port} user={PG_USER} dbname={dbname}"


def sqlalchemy_url(
    dbname: str, port: int = PG_PORT, host: str = PG_HOST, user: str = PG_USER, password: str | None = None
) -> str:
    auth = f"{user}:{password}" if password else user
    return f"postgresql+psycopg://{auth}@{host}:{port}/{dbname}"


def postgres_available() -> bool:
    try:
        with psycopg.connect(admin_dsn(), connect_timeout=3):
            return True
    except psycopg.Error:
        return False


@contextmanager
def temporary_database(prefix: str = "dh_test") -> Iterator[str]:
    """Create a uniquely named database, yield its name, drop it (terminating leftover sessions)."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(admin_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def execute(dbname: str, *statements: str) -> None:
    with psycopg.connect(admin_dsn(dbname), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # test fixtures' own DDL
