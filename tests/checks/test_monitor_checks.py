"""Checks inside whole monitor runs: stored with origin, schema baselines from history, lake files, threads."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from datahealth.config.models import Project
from datahealth.core.results import CheckOutcome
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor
from datahealth.store import HistoryStore, read
from tests.checks.conftest import ORDERS_SQL, check_dataset, duck_project, make_warehouse
from tests.support.projects import write_checks

OPTIONS = RunOptions(profile=False, publish=False)

WIDE_DUCKDB = """
CREATE TYPE mood AS ENUM ('ok', 'sad');
CREATE TABLE wide (
  id BIGINT, i INTEGER, si SMALLINT, ti TINYINT, hi HUGEINT, ub UBIGINT, d DECIMAL(18,3), dd DECIMAL(4,1),
  r REAL, f DOUBLE, s VARCHAR, b BOOLEAN, dt DATE, t TIME, ts TIMESTAMP, tz TIMESTAMPTZ, tsn TIMESTAMP_NS,
  iv INTERVAL, u UUID, bl BLOB, l INTEGER[], st STRUCT(a INTEGER, b VARCHAR), m MAP(VARCHAR, INTEGER), e mood,
  "Mixed Case" VARCHAR
);
INSERT INTO wide (id, s, e) VALUES (1, 'x', 'ok'), (2, 'y', 'sad');
"""


def _write_parquet(path: Path, select: str, **params: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.sql(select, params=params).write_parquet(str(path))
    con.close()


def _stored_checks(project: Project) -> dict[str, dict[str, tuple[str, str, float | None]]]:
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        latest = read.latest_observations(store)
        rows = read.checks_of(store, [o.id for o in latest.values()])
        return {
            o.dataset: {r.name: (r.outcome, r.origin, r.observed_value) for r in rows[o.id]}
            for o in latest.values()
        }
    finally:
        store.close()


def test_check_results_are_stored_with_origin_and_switching_the_stage_off_runs_none(tmp_path: Path) -> None:
    make_warehouse(tmp_path / "wh.duckdb", ORDERS_SQL.format(table="orders"))
    project = duck_project(tmp_path, {"wh.orders": {"primary_key": ["id"]}})
    write_checks(tmp_path, "wh.orders", "columns:\n  - {name: email, checks: [{missing: {}}]}\n")
    summary = run_monitor(project, as_of="2026-01-05T00:00:00Z", options=OPTIONS)
    assert summary.datasets[0].checks_failed == 2 and summary.datasets[0].status == "fail"
    assert _stored_checks(project)["wh.orders"] == {
        "email.missing": ("fail", "user", 1.0),
        "id.duplicate": ("fail", "generated", 1.0),
    }

    run_monitor(
        project, as_of="2026-01-05T01:00:00Z", options=RunOptions(profile=False, publish=False, checks=False)
    )
    assert _stored_checks(project)["wh.orders"] == {}


def test_duckdb_schema_baseline_accepts_every_type_then_catches_drift(tmp_path: Path) -> None:
    make_warehouse(tmp_path / "wh.duckdb", WIDE_DUCKDB)
    project = duck_project(tmp_path, {"wh.wide": {}})
    run_monitor(project, as_of="2026-01-05T00:00:00Z", options=OPTIONS)  # no baseline yet: no schema check
    assert _stored_checks(project)["wh.wide"] == {}
    run_monitor(project, as_of="2026-01-05T01:00:00Z", options=OPTIONS)
    assert _stored_checks(project)["wh.wide"] == {"schema": ("pass", "generated", 0.0)}

    make_warehouse(
        tmp_path / "wh.duckdb",
        "ALTER TABLE wide ALTER COLUMN dd TYPE DECIMAL(5,1)",
        "ALTER TABLE wide ADD COLUMN extra INTEGER",
    )
    summary = run_monitor(project, as_of="2026-01-05T02:00:00Z", options=OPTIONS)
    assert summary.datasets[0].checks_failed == 1
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        [schema] = check_dataset(
            project, "wh.wide", store=store
        ).values()  # the baseline is still the first snapshot
    finally:
        store.close()
    assert (schema.outcome, schema.observed_value) == (CheckOutcome.FAIL, 2.0)
    assert schema.message == "added: extra; type changed: dd decimal(4,1) -> decimal(5,1)"


def test_a_drifted_lake_partition_fails_the_schema_check_and_csv_checks_run(tmp_path: Path) -> None:
    clicks = tmp_path / "lake" / "clicks"
    for day in (1, 2):
        _write_parquet(
            clicks / f"event_date=2026-01-0{day}" / "part-0.parquet",
            "SELECT $prefix || range AS event_id, range AS duration_ms FROM range(100)",
            prefix=f"e{day}-",
        )
    exports = tmp_path / "lake" / "exports"
    exports.mkdir(parents=True)
    (exports / "a.csv").write_text("customer_id,email\n1,a@x.io\n2,\n")
    project = duck_project(
        tmp_path,
        {
            "lake.clicks": {"path": "clicks/**/*.parquet", "primary_key": ["event_id"]},
            "lake.exports": {"path": "exports/*.csv", "format": "csv", "required_columns": ["email"]},
        },
    )
    write_checks(
        tmp_path,
        "lake.clicks",
        "columns:\n  - {name: duration_ms, checks: [{missing: {}}]}\nchecks:\n  - row_count: {}\n",
    )
    run_monitor(project, as_of="2026-01-03T00:00:00Z", options=OPTIONS)
    assert _stored_checks(project) == {
        "lake.clicks": {
            "duration_ms.missing": ("pass", "user", 0.0),
            "row_count": ("pass", "user", 200.0),
            "event_id.duplicate": ("pass", "generated", 0.0),
        },
        "lake.exports": {"email.missing": ("fail", "generated", 1.0)},
    }

    _write_parquet(
        clicks / "event_date=2026-01-03" / "part-0.parquet",
        "SELECT 'e3-' || range AS event_id, range || 'ms' AS duration_ms, 'x' AS experiment_id "
        "FROM range(50)",
    )
    run_monitor(project, as_of="2026-01-04T00:00:00Z", options=OPTIONS)
    clicks_checks = _stored_checks(project)["lake.clicks"]
    assert clicks_checks["schema"] == ("fail", "generated", 2.0)
    assert clicks_checks["row_count"] == ("pass", "user", 250.0)
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        schema = check_dataset(project, "lake.clicks", store=store)["schema"]
    finally:
        store.close()
    assert schema.details["added"] == ["experiment_id"]
    assert schema.details["retyped"] == [{"column": "duration_ms", "expected": "bigint", "actual": "varchar"}]


@pytest.mark.slow
def test_concurrent_scans_in_threads_never_crash_soda(tmp_path: Path) -> None:
    """Soda's shared YAML parser and DuckDB cursors are the known thread hazards; 24 scans on 8 threads, twice."""
    tables = [ORDERS_SQL.format(table=f"orders_{i}") for i in range(16)]
    make_warehouse(tmp_path / "wh.duckdb", *tables)
    for i in range(8):
        _write_parquet(
            tmp_path / "lake" / f"set{i}" / "part-0.parquet",
            "SELECT range AS id, 'v' || range AS value FROM range($rows)",
            rows=100 + i,
        )
    datasets: dict[str, dict[str, object]] = {f"wh.orders_{i}": {"primary_key": ["id"]} for i in range(16)}
    datasets |= {f"lake.set{i}": {"path": f"set{i}/*.parquet", "primary_key": ["id"]} for i in range(8)}
    project = duck_project(tmp_path, datasets)
    contract = (
        "columns:\n  - name: status\n    checks:\n      - invalid: {valid_values: [paid, open, refunded]}\n"
        "checks:\n  - row_count: {threshold: {must_be_greater_than: 0}}\n"
    )
    for i in range(16):
        write_checks(tmp_path, f"wh.orders_{i}", contract)
    for as_of in ("2026-01-05T00:00:00Z", "2026-01-05T01:00:00Z"):
        run_monitor(project, as_of=as_of, options=OPTIONS, max_workers=8)
        stored = _stored_checks(project)
        outcomes = {
            (name, check): result[0] for name, checks in stored.items() for check, result in checks.items()
        }
        assert CheckOutcome.ERROR.value not in outcomes.values()
        assert all(stored[f"wh.orders_{i}"]["status.invalid"] == ("fail", "user", 1.0) for i in range(16))
        assert all(stored[f"lake.set{i}"]["id.duplicate"] == ("pass", "generated", 0.0) for i in range(8))
