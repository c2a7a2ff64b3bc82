"""Builders for check tests: a DuckDB warehouse with known faults and a way to run one dataset's checks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from datahealth.checks import run_checks
from datahealth.config import load_project
from datahealth.config.models import Project
from datahealth.core.results import CheckResult, TableMeta
from datahealth.sources import open_source
from datahealth.store import HistoryStore
from tests.support.projects import write_project

AS_OF = datetime(2026, 1, 5, 0, 0, tzinfo=UTC)

# Ten orders: id 3 twice, one NULL email, one unknown status, one negative amount; newest 2026-01-04 11:00.
ORDERS_SQL = """
CREATE TABLE {table} (id BIGINT, email VARCHAR, status VARCHAR, amount DECIMAL(10,2), created_at TIMESTAMP);
INSERT INTO {table} VALUES
  (1, 'a@x.io', 'paid', 10.00, '2026-01-01 10:00'), (2, 'b@x.io', 'open', 20.00, '2026-01-01 11:00'),
  (3, 'c@x.io', 'paid', 30.00, '2026-01-02 09:00'), (3, 'c@x.io', 'paid', 30.00, '2026-01-02 09:00'),
  (4, NULL, 'refunded', 40.00, '2026-01-02 12:00'), (5, 'e@x.io', 'weird', 50.00, '2026-01-03 08:00'),
  (6, 'f@x.io', 'paid', -5.00, '2026-01-03 09:00'), (7, 'g@x.io', 'open', 70.00, '2026-01-03 10:00'),
  (8, 'h@x.io', 'paid', 80.00, '2026-01-04 10:00'), (9, 'i@x.io', 'paid', 90.00, '2026-01-04 11:00');
"""


def make_warehouse(path: Path, *statements: str) -> Path:
    con = duckdb.connect(str(path))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()
    return path


def duck_project(root: Path, datasets: dict[str, Any], **sections: Any) -> Project:
    write_project(
        root,
        sources={
            "wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"},
            "lake": {"kind": "lake", "root": "lake", "hive_partitioning": True},
        },
        datasets=datasets,
        **sections,
    )
    return load_project(root)


def check_dataset(
    project: Project, name: str, as_of: datetime = AS_OF, store: HistoryStore | None = None
) -> dict[str, CheckResult]:
    """Run one dataset's checks the way the runner does (catalog first), keyed by check name."""
    dataset = project.dataset(name)
    source = open_source(dataset.source, project.config.sources[dataset.source], project.root)
    try:
        meta = source.describe([dataset])[dataset.name]
        assert isinstance(meta, TableMeta), meta
        results = run_checks(project, dataset, source, as_of, store=store, meta=meta)
    finally:
        source.close()
    by_name = {r.name: r for r in results}
    assert len(by_name) == len(results), [r.name for r in results]
    return by_name


@pytest.fixture
def orders_project(tmp_path: Path) -> Iterator[Project]:
    make_warehouse(tmp_path / "wh.duckdb", ORDERS_SQL.format(table="orders"))
    yield duck_project(
        tmp_path,
        {"wh.orders": {"table": "main.orders", "primary_key": ["id"], "required_columns": ["id", "email"]}},
    )
