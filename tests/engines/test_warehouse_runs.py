"""A whole monitor run (observe, profile, Soda checks, history) on each cloud warehouse's local stand-in."""

from __future__ import annotations

from pathlib import Path

from datahealth.config import load_project
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor
from tests.support.bqemulator import BigQueryEmulator
from tests.support.fakesnow import FakesnowServer
from tests.support.projects import write_project

DATASET = {"primary_key": ["id"], "timestamp_column": "updated_at", "required_columns": ["email"]}


def _run(root: Path, source: dict[str, object], table: str) -> tuple[str, int | None, int]:
    write_project(root, {"wh": source}, {"wh.orders": {"table": table, **DATASET}})
    summary = run_monitor(load_project(root), as_of="2026-01-05T00:00:00Z", options=RunOptions(publish=False))
    [result] = summary.datasets
    assert result.error is None, result.error
    return result.status, result.rows, result.checks_failed


def test_a_full_run_on_snowflake(snowflake_standin: FakesnowServer, tmp_path: Path) -> None:
    with snowflake_standin.database() as database:
        snowflake_standin.execute(
            database,
            "USE SCHEMA PUBLIC",
            "CREATE TABLE orders (id INTEGER, email VARCHAR, updated_at TIMESTAMP)",
            "INSERT INTO orders VALUES (1, 'a@x.io', '2026-01-04 10:00:00'), (1, NULL, '2026-01-04 11:00:00')",
        )
        source = {
            "kind": "sql",
            "url": snowflake_standin.url(database),
            "connect_args": snowflake_standin.connect_args(),
        }
        # the duplicate id and the missing email, found by soda-snowflake through the real 5.x connector
        assert _run(tmp_path, source, "public.orders") == ("fail", 2, 2)


def test_a_full_run_on_bigquery(bigquery_standin: BigQueryEmulator, tmp_path: Path) -> None:
    with bigquery_standin.dataset() as dataset:
        bigquery_standin.execute(
            f"CREATE TABLE `{dataset}`.orders (id INT64, email STRING, updated_at TIMESTAMP)",
            f"INSERT INTO `{dataset}`.orders VALUES (1, 'a@x.io', TIMESTAMP '2026-01-04 10:00:00'), "
            "(1, NULL, TIMESTAMP '2026-01-04 11:00:00')",
        )
        source = {
            "kind": "sql",
            "url": bigquery_standin.url(dataset),
            "connect_args": bigquery_standin.connect_args(),
        }
        assert _run(tmp_path, source, "orders") == ("fail", 2, 2)  # unqualified: the URL's dataset
