"""The demo on Snowflake (fakesnow), BigQuery (bqemulator) and MariaDB finds what it finds on DuckDB.

Each engine test builds the same small demo platform, copies it into the stand-in through the demo's own
mirror, monitors the generated engine project's warehouse on the days that matter (the first day, the
day after it, and the warehouse faults) and compares every table's status and the open incidents with a
DuckDB run of the same days. The documented differences (docs/demo.md): MariaDB runs no user contracts (no Soda plugin;
the generated checks are computed by datahealth), so its DuckDB run leaves them out too; the stand-ins'
generated Soda schema check is off.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, timedelta
from pathlib import Path

import pytest
import yaml

from datahealth.config import Project, load_project
from datahealth.core.results import Status
from datahealth.core.run import RunOptions
from datahealth.demo.engines import (
    DEMO_DATABASE,
    DemoEngineError,
    DemoTarget,
    demo_target,
    engine_from_env,
    on_warehouse,
)
from datahealth.demo.platform import DEMO_FAULTS, DemoPlatform
from datahealth.demo.warehouses import BigQueryWarehouse, DemoWarehouse, MariaDBWarehouse, SnowflakeWarehouse
from datahealth.monitor.runner import run_monitor
from datahealth.store import HistoryStore, read
from tests.support import mariadb
from tests.support.bqemulator import BigQueryEmulator
from tests.support.fakesnow import FakesnowServer

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
SCALE = 0.01
WAREHOUSE_FAULTS = [f for f in DEMO_FAULTS if f.dataset.startswith("warehouse.")]
# the first day (schema baseline), the next (the first with a baseline to check against), the nulls and the
# duplicates days, and two days after the purchases stopped (stale past the error SLA)
MONITORED = (0, 1, *sorted({f.day for f in WAREHOUSE_FAULTS})[:-1], max(f.day for f in WAREHOUSE_FAULTS) + 2)
Outcome = dict[int, dict[str, str]]
Result = tuple[Outcome, set[tuple[str, str]]]


def _demo_root(root: Path, user_contracts: bool = True) -> Path:
    shutil.copytree(REPO / "sla_config", root / "sla_config")
    shutil.copytree(REPO / "checks", root / "checks")
    if not user_contracts:
        shutil.rmtree(root / "checks" / "warehouse")
    return root


def _simulate(platform: DemoPlatform, target: DemoTarget) -> Result:
    """Statuses on the monitored days, and the incidents open at the end (dataset, kind)."""
    statuses: Outcome = {}
    for day in range(max(MONITORED) + 1):
        platform.append_day(day)
        if day not in MONITORED:
            continue
        target.load_day()  # catches up on every day since the last copy
        as_of = platform.load_time(day).replace(tzinfo=UTC) + timedelta(hours=2)
        summary = run_monitor(
            target.project, ["warehouse.*"], as_of=as_of, options=RunOptions(profile=False, publish=False)
        )
        assert [d.error for d in summary.datasets if d.error] == []
        statuses[day] = {d.dataset: d.status for d in summary.datasets}
    store = HistoryStore.open(target.project.config.history.url, target.project.root)
    try:
        incidents = {(i.dataset, i.kind) for i in read.open_incidents(store)}
    finally:
        store.close()
    return statuses, incidents


@pytest.fixture(scope="module")
def on_duckdb(tmp_path_factory: pytest.TempPathFactory) -> Callable[[DemoWarehouse], Result]:
    """The DuckDB demo with the same checks as the engine's (user contracts only where it runs them)."""
    results: dict[bool, Result] = {}

    def reference(warehouse: DemoWarehouse) -> Result:
        if warehouse.user_contracts not in results:
            root = _demo_root(tmp_path_factory.mktemp("duckdb"), warehouse.user_contracts)
            platform = DemoPlatform(root / "demo", scale=SCALE)
            platform.reset()
            results[warehouse.user_contracts] = _simulate(platform, DemoTarget(load_project(root)))
        return results[warehouse.user_contracts]

    return reference


def _demo_on(warehouse: DemoWarehouse, root: Path, duckdb: Result, scheme: str) -> Project:
    """Run the demo's days on `warehouse` and compare them with DuckDB's; returns the engine's project."""
    project = load_project(_demo_root(root))
    platform = DemoPlatform(root / "demo", scale=SCALE)
    platform.reset()
    target = on_warehouse(project, platform, warehouse)
    assert target.project.config.sources["warehouse"].url.startswith(scheme)  # type: ignore[union-attr]
    statuses, incidents = _simulate(platform, target)
    for day, expected in duckdb[0].items():
        assert (day, statuses[day]) == (day, expected)
    assert incidents == duckdb[1]
    for fault in WAREHOUSE_FAULTS:  # each fault shows on the first monitored day after it lands
        seen = min(day for day in MONITORED if day >= fault.day)
        assert statuses[seen][fault.dataset] != Status.OK, fault.kind
    return target.project


def test_the_demo_on_mariadb_finds_what_duckdb_finds(
    mariadb_database: str, on_duckdb: Callable[[DemoWarehouse], Result], tmp_path: Path
) -> None:
    warehouse = MariaDBWarehouse(mariadb.SERVER, mariadb_database)
    project = _demo_on(warehouse, tmp_path, on_duckdb(warehouse), "mysql+pymysql://")
    assert not (project.root / "checks" / "warehouse").exists()  # no Soda: user contracts left out


def test_the_demo_on_snowflake_finds_what_duckdb_finds(
    snowflake_standin: FakesnowServer, on_duckdb: Callable[[DemoWarehouse], Result], tmp_path: Path
) -> None:
    with snowflake_standin.database("DH_DEMO") as database:
        warehouse = SnowflakeWarehouse(snowflake_standin, database)
        _demo_on(warehouse, tmp_path, on_duckdb(warehouse), "snowflake://")


def test_the_demo_on_bigquery_finds_what_duckdb_finds(
    bigquery_standin: BigQueryEmulator, on_duckdb: Callable[[DemoWarehouse], Result], tmp_path: Path
) -> None:
    with bigquery_standin.dataset("dh_demo") as dataset:
        warehouse = BigQueryWarehouse(bigquery_standin, dataset)
        _demo_on(warehouse, tmp_path, on_duckdb(warehouse), "bigquery://")


def test_the_engine_project_shares_history_and_lake_and_points_the_warehouse_elsewhere(
    tmp_path: Path,
) -> None:
    project = load_project(_demo_root(tmp_path / "project"))
    platform = DemoPlatform(tmp_path / "project" / "demo", scale=SCALE)
    platform.reset()
    warehouse = MariaDBWarehouse(mariadb.SERVER, DEMO_DATABASE)
    generated = on_warehouse(project, platform, warehouse).project
    assert generated.root == platform.root / "project-mariadb"
    assert (generated.root / ".datahealth").resolve() == (project.root / ".datahealth").resolve()
    assert (generated.root / "demo").resolve() == platform.root.resolve()
    datasets = generated.config.datasets
    assert datasets["warehouse.customers"].table == f"{DEMO_DATABASE}.customers"
    assert datasets["lake.clickstream"] == project.config.datasets["lake.clickstream"]
    written = yaml.safe_load((generated.root / "sla_config" / "sources.yaml").read_text())
    assert written["sources"]["warehouse"]["statement_timeout"] == "2m"  # the project's own settings kept


def test_the_engine_comes_from_the_environment_and_an_unknown_one_is_a_clear_error() -> None:
    assert engine_from_env({}) == "duckdb"
    assert engine_from_env({"DATAHEALTH_DEMO_ENGINE": "Snowflake"}) == "snowflake"
    with pytest.raises(DemoEngineError, match="DATAHEALTH_DEMO_ENGINE=oracle: unknown engine; use one of"):
        engine_from_env({"DATAHEALTH_DEMO_ENGINE": "oracle"})


def test_a_stand_in_not_built_yet_is_a_clear_error_naming_the_script(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATAHEALTH_STANDINS", str(tmp_path / "none"))
    project = load_project(_demo_root(tmp_path / "project"))
    platform = DemoPlatform(tmp_path / "project" / "demo", scale=SCALE)
    with (
        pytest.raises(
            DemoEngineError, match=r"=bigquery: the bqemulator stand-in is not installed .*standins\.sh"
        ),
        demo_target(project, platform, {"DATAHEALTH_DEMO_ENGINE": "bigquery"}),
    ):
        pass
