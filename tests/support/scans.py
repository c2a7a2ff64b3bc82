"""Counting what an engine executed against a table: DuckDB's own query log, PostgreSQL's scan counters.

Both see every session, datahealth's SQLAlchemy connections and Soda's own alike, so the statement-count
tests (tests/monitor/test_runner_scans.py) and bench/full_run.py count real reads, not intentions.
Catalog queries read `information_schema`/`pg_catalog`, never the table, so they are not counted.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import sqlalchemy as sa

from tests.support.postgres import admin_dsn


@contextlib.contextmanager
def duckdb_query_log(log_dir: Path) -> Iterator[Path]:
    """Log every statement of every DuckDB database SQLAlchemy opens meanwhile (duplicated cursors too)."""

    def enable(dbapi_connection: Any, _record: Any) -> None:
        if "duckdb" not in type(dbapi_connection).__module__:
            return  # e.g. the history store (SQLite)
        dbapi_connection.execute(
            f"CALL enable_logging('QueryLog', storage='file', storage_path='{log_dir.as_posix()}')"
        )

    sa.event.listen(sa.pool.Pool, "connect", enable)
    try:
        yield log_dir
    finally:
        sa.event.remove(sa.pool.Pool, "connect", enable)


def duckdb_table_reads(log_dir: Path, table: str) -> list[str]:
    """Logged statements that read `table` (the catalog query names it only as a bound parameter)."""
    with duckdb.connect() as con:
        messages = con.execute(
            "SELECT message FROM read_csv(?, all_varchar = true) WHERE type = 'QueryLog'",
            [str(log_dir / "duckdb_log_entries.csv")],
        ).fetchall()
    return [m for (m,) in messages if f'"{table}"' in m and "information_schema" not in m]


def postgres_table_scans(database: str, tables: list[str]) -> dict[str, int]:
    """Sequential plus index scans per table, once every other session on `database` has ended.

    A session's counters reach the statistics system at the latest when it exits, so waiting for the
    run's connections (datahealth's pool and Soda's) to close makes the figures complete."""
    with psycopg.connect(admin_dsn(database), autocommit=True) as conn:
        deadline = time.monotonic() + 30
        while conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone() != (0,):
            if time.monotonic() > deadline:
                raise TimeoutError(f"sessions on {database} did not end")
            time.sleep(0.05)
        conn.execute("SELECT pg_stat_clear_snapshot()")
        rows = conn.execute(
            "SELECT relname, coalesce(seq_scan, 0) + coalesce(idx_scan, 0) FROM pg_stat_user_tables "
            "WHERE relname = ANY(%s)",
            (tables,),
        ).fetchall()
    return {name: int(scans) for name, scans in rows}
