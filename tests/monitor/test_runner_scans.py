"""A full run reads each table at most twice: the profile's scan (which also observes) and the Soda scan.

Counted from what the engine executed, not from what datahealth meant to send: DuckDB's own query log
(it sees datahealth's SQLAlchemy connections and the duplicate cursor Soda runs on alike) and
PostgreSQL's per-table scan counters (`pg_stat_user_tables`, which Soda's own psycopg connections bump
too). Catalog queries read `information_schema`/`pg_catalog`, never the table, so they are not reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from datahealth.config import load_project
from datahealth.core.run import RunOptions, RunSummary
from datahealth.monitor.runner import run_monitor
from datahealth.store import HistoryStore, read
from tests.support import scans
from tests.support.postgres import admin_dsn, sqlalchemy_url
from tests.support.projects import write_project

AS_OF = "2026-10-10T06:00:00Z"
FULL_RUN = RunOptions(publish=False)
ORDERS = (
    "CREATE TABLE orders AS SELECT range AS id, 'c' || (range % 7) AS customer, "
    "TIMESTAMP '2026-10-10 05:00:00' - to_seconds(range) AS updated_at FROM range(3000)"
)


@pytest.fixture
def duckdb_query_log(tmp_path: Path) -> Iterator[Path]:
    with scans.duckdb_query_log(tmp_path / "query-log") as log_dir:
        yield log_dir


def duckdb_project(tmp_path: Path, datasets: dict[str, Any]) -> Path:
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute(ORDERS)
    return write_project(
        tmp_path, sources={"wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"}}, datasets=datasets
    )


def orders_config(**extra: Any) -> dict[str, Any]:
    return {"timestamp_column": "updated_at", "primary_key": ["id"], "sla": {"error_after": "4h"}, **extra}


def assert_orders_observed(summary: RunSummary) -> None:
    [orders] = summary.datasets
    assert orders.rows == 3000 and orders.status == "ok", orders
    assert orders.freshness_lag_seconds == 3600.0


def test_a_full_duckdb_run_reads_the_table_twice_and_observes_from_the_profile(
    tmp_path: Path, duckdb_query_log: Path
) -> None:
    root = duckdb_project(tmp_path, {"wh.orders": orders_config()})
    project = load_project(root)
    summary = run_monitor(project, as_of=AS_OF, options=FULL_RUN)

    assert_orders_observed(summary)
    reads = scans.duckdb_table_reads(duckdb_query_log, "orders")
    assert len(reads) == 2, reads
    assert "observed_last_updated" in reads[0] and "n_rows" in reads[0]  # observe fused into the profile
    store = HistoryStore.open(project.config.history.url, project.root)
    [observation] = read.observation_history(store, ["wh.orders"])["wh.orders"]
    assert observation.details["measured_by"] == "profile" and observation.details["queries"] == 0
    columns = read.latest_profile(store, "wh.orders")
    store.close()
    assert sorted(c.column for c in columns) == ["customer", "id", "updated_at"]


def test_row_count_estimate_adds_no_statement_when_profiled(tmp_path: Path, duckdb_query_log: Path) -> None:
    root = duckdb_project(tmp_path, {"wh.orders": orders_config(row_count="estimate")})
    summary = run_monitor(load_project(root), as_of=AS_OF, options=FULL_RUN)

    assert_orders_observed(summary)
    assert len(scans.duckdb_table_reads(duckdb_query_log, "orders")) == 2


def test_without_a_profile_observing_is_one_statement_and_estimate_needs_only_the_max(
    tmp_path: Path, duckdb_query_log: Path
) -> None:
    root = duckdb_project(tmp_path, {"wh.orders": orders_config(row_count="estimate")})
    summary = run_monitor(
        load_project(root), as_of=AS_OF, options=RunOptions(profile=False, checks=False, publish=False)
    )

    assert_orders_observed(summary)
    [read_statement] = scans.duckdb_table_reads(duckdb_query_log, "orders")
    assert "max(" in read_statement and "count(" not in read_statement


def test_a_sampled_profile_does_not_stand_in_for_the_table_count(
    tmp_path: Path, duckdb_query_log: Path
) -> None:
    """A 10% sample counts a tenth of the rows: observing then reads the table itself (three reads)."""
    root = duckdb_project(tmp_path, {"wh.orders": orders_config(profile={"sample": "10%"})})
    summary = run_monitor(load_project(root), as_of=AS_OF, options=FULL_RUN)

    assert_orders_observed(summary)
    reads = scans.duckdb_table_reads(duckdb_query_log, "orders")
    assert len(reads) == 3, reads
    assert "observed_last_updated" not in " ".join(reads)


# --- PostgreSQL ------------------------------------------------------------------------------------------


def test_a_full_postgres_run_reads_each_table_twice(tmp_path: Path, pg_database: str) -> None:
    with psycopg.connect(admin_dsn(pg_database), autocommit=True) as conn:
        for table in ("orders", "customers"):
            conn.execute(
                f"CREATE TABLE {table} AS SELECT g AS id, 'c' || (g % 7) AS customer, "  # noqa: S608
                "timestamptz '2026-10-10 05:00:00+00' - g * interval '1 second' AS updated_at "
                "FROM generate_series(1, 3000) g"
            )
        conn.execute("ANALYZE")
    before = scans.postgres_table_scans(pg_database, ["orders", "customers"])
    root = write_project(
        tmp_path,
        sources={"wh": {"kind": "sql", "url": sqlalchemy_url(pg_database)}},
        datasets={"wh.orders": orders_config(), "wh.customers": orders_config(row_count="estimate")},
    )
    summary = run_monitor(load_project(root), as_of=AS_OF, options=FULL_RUN)

    assert {d.dataset: (d.rows, d.status) for d in summary.datasets} == {
        "wh.orders": (3000, "ok"),
        "wh.customers": (3000, "ok"),
    }
    after = scans.postgres_table_scans(pg_database, ["orders", "customers"])
    assert {t: after[t] - before.get(t, 0) for t in after} == {"orders": 2, "customers": 2}
