"""A small project for publisher tests in real monitoring runs: SQLite orders, a daily tier with a report."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from datahealth.config import Project, load_project
from datahealth.store import HistoryStore, deliveries
from tests.support.projects import write_project

AS_OF = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)


def orders_project(root: Path, smtp_port: int | None = None, **report: Any) -> Project:
    """`warehouse.orders` (daily tier, `report: true`) and a frequent-tier sweep; SMTP when a port is given."""
    database = root / "warehouse.db"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS orders (id INTEGER PRIMARY KEY, updated_at TIMESTAMP)")
        conn.execute(
            "INSERT INTO orders (updated_at) VALUES ('2026-10-05 05:00:00'), ('2026-10-05 06:00:00')"
        )
    email: dict[str, Any] = {"recipients": ["data@example.com"], "security": "none", "timeout_seconds": 60}
    if smtp_port is not None:
        email.update(smtp_host="127.0.0.1", smtp_port=smtp_port)
    write_project(
        root,
        {"warehouse": {"kind": "sql", "url": f"sqlite:///{database}"}},
        {
            "warehouse.orders": {
                "table": "orders",
                "timestamp_column": "updated_at",
                "sla": {"error_after": "1d"},
            },
            "warehouse.orders_sweep": {"table": "orders", "tier": "frequent"},
        },
        tiers={"daily": {"report": True}, "frequent": {"profile": False, "checks": False}},
        publish={"email": email, "report": report, "prometheus": {"textfile": None}},
    )
    return load_project(root)


def warnings_of(name: str, warnings: list[str]) -> list[str]:
    """The run warnings one publisher added (`<name>: <error type>: <message>`)."""
    return [w for w in warnings if w.startswith(f"{name}:")]


def pending_emails(project: Project) -> list[deliveries.Delivery]:
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        return deliveries.pending(store, "email")
    finally:
        store.close()
