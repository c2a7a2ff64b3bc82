"""Small monitoring projects for the orchestration tests: a SQLite warehouse with a few tiny tables."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.support.projects import write_project

AS_OF = "2026-10-05T07:00:00+00:00"


def write_warehouse(path: Path, tables: list[str], *, rows: int = 3, updated: datetime | None = None) -> Path:
    """One SQLite file; each table has `rows` rows whose newest `updated_at` is `updated`."""
    newest = updated or datetime(2026, 10, 5, 5, 0, tzinfo=UTC)
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as conn:
        for table in tables:
            conn.execute(f'CREATE TABLE "{table}" (id INTEGER PRIMARY KEY, updated_at TIMESTAMP)')
            conn.executemany(
                f'INSERT INTO "{table}" (id, updated_at) VALUES (?, ?)',  # noqa: S608 (test DDL)
                [(i, (newest - timedelta(hours=i)).strftime("%Y-%m-%d %H:%M:%S")) for i in range(rows)],
            )
    return path


def dataset_entries(source: str, tables: list[str], **extra: Any) -> dict[str, Any]:
    return {
        f"{source}.{t}": {
            "table": t,
            "timestamp_column": "updated_at",
            "primary_key": ["id"],
            "sla": {"warn_after": "6h", "error_after": "12h"},
            **extra,
        }
        for t in tables
    }


def sqlite_project(
    root: Path,
    tables: list[str],
    *,
    source: str = "warehouse",
    max_concurrency: int = 2,
    extra_sources: dict[str, Any] | None = None,
    extra_datasets: dict[str, Any] | None = None,
    **sections: Any,
) -> Path:
    """A project with one SQLite source `source` holding `tables`; tiers `frequent` (sweep) and `daily`."""
    write_warehouse(root / "data" / "warehouse.db", tables)
    sources = {
        source: {
            "kind": "sql",
            "url": f"sqlite:///{root / 'data' / 'warehouse.db'}",
            "max_concurrency": max_concurrency,
        },
        **(extra_sources or {}),
    }
    datasets = {**dataset_entries(source, tables), **(extra_datasets or {})}
    sections.setdefault(
        "tiers",
        {
            "frequent": {"schedule": "*/15 * * * *", "profile": False, "checks": False, "datasets": ["*"]},
            "daily": {"schedule": "0 7 * * *", "timezone": "Europe/Berlin", "report": True},
        },
    )
    sections.setdefault("project", {"name": "orchestration-test", "task_retry_delay": "0.1s"})
    return write_project(root, sources, datasets, **sections)
