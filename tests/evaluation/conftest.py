"""A one-table SQLite warehouse project for the tests that run the monitor end to end."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.support.projects import write_project


@pytest.fixture
def orders_database(tmp_path: Path) -> Path:
    """`warehouse.orders` (one row, updated 2026-10-01 00:00) with a 30h/48h SLA; the project lives in tmp_path."""
    database = tmp_path / "shop.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, updated_at TIMESTAMP)")
        conn.execute("INSERT INTO orders VALUES (1, '2026-10-01 00:00:00')")
    write_project(
        tmp_path,
        {"warehouse": {"kind": "sql", "url": f"sqlite:///{database}"}},
        {
            "warehouse.orders": {
                "table": "orders",
                "timestamp_column": "updated_at",
                "sla": {"warn_after": "30h", "error_after": "48h"},
            }
        },
    )
    return database
