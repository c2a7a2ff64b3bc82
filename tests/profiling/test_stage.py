"""The profile stage through `run_monitor`: profiles land in the history store, `datahealth profile` prints
them, `every: daily` is honoured, and a profile that times out is an error for that dataset only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from datahealth.cli import app
from datahealth.config import load_project
from datahealth.core.run import RunOptions
from datahealth.monitor.runner import run_monitor
from datahealth.store import HistoryStore, read
from datahealth.store.tables import profiles
from tests.profiling import data
from tests.support.projects import write_project

AS_OF = "2026-01-03T12:00:00+00:00"
runner = CliRunner()
OPTIONS = RunOptions(publish=False, checks=False)  # this module is about profiles only


@pytest.fixture(scope="module")
def project_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    rows = data.generate()
    data.load_duckdb(root / "warehouse.duckdb", rows)
    data.load_duckdb(root / "warehouse.duckdb", [], table="empty")
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute("CREATE TABLE big AS SELECT range AS a, range::VARCHAR || 'x' AS b FROM range(3000000)")
    data.write_parquet(root / "lake" / "events" / "day=1" / "part.parquet", rows)
    datasets: dict[str, Any] = {
        "warehouse.hostile": {"table": f"main.{data.TABLE}", "timestamp_column": "ts"},
        "warehouse.empty": {"table": "main.empty"},
        "warehouse.daily": {"table": f"main.{data.TABLE}", "profile": {"every": "daily"}},
        "warehouse.off": {"table": "main.empty", "profile": {"enabled": False}},
        "warehouse.slow": {"table": "main.big", "profile": {"timeout": "10ms", "exact_distinct": True}},
        "lake.events": {"path": "events/**/*.parquet", "timestamp_column": "ts", "profile": {"window": "1d"}},
    }
    return write_project(
        root,
        {
            "warehouse": {"kind": "sql", "url": "duckdb:///warehouse.duckdb"},
            "lake": {"kind": "lake", "root": "lake", "hive_partitioning": True},
        },
        datasets,
    )


@pytest.fixture(scope="module")
def first_run(project_root: Path) -> Iterator[dict[str, Any]]:
    summary = run_monitor(load_project(project_root), as_of=AS_OF, options=OPTIONS)
    yield {d.dataset: d for d in summary.datasets}


def store_for(root: Path) -> HistoryStore:
    project = load_project(root)
    return HistoryStore.open(project.config.history.url, project.root)


def test_profiles_land_in_the_history_store(project_root: Path, first_run: dict[str, Any]) -> None:
    rows = data.generate()
    store = store_for(project_root)
    try:
        stored = read.latest_profile(store, "warehouse.hostile")
        assert [r.column for r in stored] == list(data.NAMES)
        for row in stored:
            wanted = data.expected(rows, row.column, "duckdb")
            assert (row.row_count, row.null_count, row.distinct_count) == (
                len(rows),
                wanted["null_count"],
                wanted["distinct_count"],
            )
            assert row.stats["non_null_count"] == wanted["non_null_count"]
            assert row.sampled is False and row.distinct_method == "exact"
        lake = read.latest_profile(store, "lake.events")
        assert {r.row_count for r in lake} == {len(data.in_window(rows))}
        assert lake[0].window_end == datetime.fromisoformat(AS_OF)
        assert "day" in {r.column for r in lake}  # hive partition column is profiled too
        assert (
            read.latest_profile(store, "warehouse.empty") == []
        )  # an empty table is a finding, not a profile
        assert read.latest_profile(store, "warehouse.off") == []
    finally:
        store.close()
    assert first_run["warehouse.hostile"].status == "ok"


def test_a_timed_out_profile_is_an_error_for_that_dataset_only(
    project_root: Path, first_run: dict[str, Any]
) -> None:
    slow = first_run["warehouse.slow"]
    assert (slow.status, slow.error_kind) == ("unknown", "timeout")
    assert "timed out after 10ms" in slow.error
    assert all(first_run[d].status == "ok" for d in first_run if d != "warehouse.slow")
    store = store_for(project_root)
    try:
        observation = read.latest_observations(store, ["warehouse.slow"])["warehouse.slow"]
        assert "timed out" in observation.details["stage_errors"]["profile"]
        assert observation.row_count == 3_000_000  # the observation itself succeeded
        assert read.latest_profile(store, "warehouse.slow") == []
    finally:
        store.close()


def test_daily_profiles_run_once_per_utc_day(project_root: Path, first_run: dict[str, Any]) -> None:
    def profile_runs() -> int:
        store = store_for(project_root)
        try:
            with store.engine.connect() as conn:
                query = sa.select(sa.func.count(sa.distinct(profiles.c.run_id))).where(
                    profiles.c.dataset == "warehouse.daily"
                )
                return int(conn.execute(query).scalar_one())
        finally:
            store.close()

    project = load_project(project_root)
    assert profile_runs() == 1
    run_monitor(project, ["warehouse.daily"], as_of="2026-01-03T20:00:00+00:00", options=OPTIONS)
    assert profile_runs() == 1  # same UTC day: not due
    run_monitor(project, ["warehouse.daily"], as_of="2026-01-04T01:00:00+00:00", options=OPTIONS)
    assert profile_runs() == 2
    run_monitor(
        project,
        ["warehouse.daily"],
        as_of="2026-01-05T01:00:00+00:00",
        options=RunOptions(publish=False, checks=False, profile=False),
    )
    assert profile_runs() == 2  # the run (tier) switched profiling off


def test_cli_prints_the_latest_profile(project_root: Path, first_run: dict[str, Any]) -> None:
    result = runner.invoke(app, ["profile", "warehouse.hostile", "-p", str(project_root)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "400 rows profiled" in result.output
    for name in ("Mixed Case", "naïve ü", "all_null", "n_rows"):
        assert name in result.output
    shown = runner.invoke(app, ["profile", "warehouse.hostile", "-p", str(project_root), "--format", "json"])
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.output)
    rows = data.generate()
    assert (document["dataset"], document["row_count"], document["sampled"]) == (
        "warehouse.hostile",
        400,
        False,
    )
    for column in document["columns"]:
        wanted = data.expected(rows, column["column"], "duckdb")
        for key in ("null_count", "distinct_count", "non_null_count"):
            assert column["stats"][key] == wanted[key], (column["column"], key)
    window = runner.invoke(app, ["profile", "lake.events", "-p", str(project_root)], terminal_width=200)
    assert window.exit_code == 0 and "window 2026-01-02T12:00 → 2026-01-03T12:00" in window.output


def test_cli_errors_are_one_clear_line(project_root: Path, first_run: dict[str, Any]) -> None:
    unknown = runner.invoke(app, ["profile", "warehouse.nope", "-p", str(project_root)])
    assert unknown.exit_code == 2 and "unknown dataset 'warehouse.nope'" in unknown.output
    never = runner.invoke(app, ["profile", "warehouse.off", "-p", str(project_root)])
    assert never.exit_code == 1 and "no profile stored for warehouse.off" in never.output
    bad = runner.invoke(app, ["profile", "warehouse.hostile", "-p", str(project_root), "--format", "xml"])
    assert bad.exit_code == 2 and "--format 'xml' is not one of: json, table" in bad.output


def test_a_failed_fused_profile_still_leaves_an_observation(tmp_path: Path) -> None:
    """The profile reads a column whose values cannot be computed; observing alone does not read it."""
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute(
            "CREATE VIEW fragile AS SELECT range AS id, TIMESTAMP '2026-01-03 11:00:00' AS updated_at, "
            "CAST('not a number ' || range AS INTEGER) AS broken FROM range(10)"
        )
    root = write_project(
        tmp_path,
        sources={"wh": {"kind": "sql", "url": "duckdb:///wh.duckdb"}},
        datasets={"wh.fragile": {"timestamp_column": "updated_at", "sla": {"error_after": "1d"}}},
    )
    project = load_project(root)
    summary = run_monitor(project, as_of=AS_OF, options=OPTIONS)

    [fragile] = summary.datasets
    assert (fragile.rows, fragile.freshness_lag_seconds, fragile.error) == (10, 3600.0, None)
    store = HistoryStore.open(project.config.history.url, project.root)
    [observation] = read.observation_history(store, ["wh.fragile"])["wh.fragile"]
    assert "measured_by" not in observation.details and observation.details["queries"] == 1
    assert read.latest_profile(store, "wh.fragile") == []
    store.close()
