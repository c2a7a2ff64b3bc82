"""Which warehouse engine the demo runs on: `DATAHEALTH_DEMO_ENGINE=duckdb|snowflake|bigquery|mariadb`.

DuckDB (the default) needs nothing: the demo monitors the file it generates. Any other engine gets its
local stand-in (fakesnow or bqemulator from their own virtualenvs on free loopback ports, or the
machine's MariaDB on 127.0.0.1:3306), a dedicated demo database, a copy of each simulated day's rows
(`warehouses.WarehouseMirror`) and the demo project pointed at it (`engine_project`).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from datahealth.config import Project, load_project
from datahealth.demo.engine_project import write_engine_project
from datahealth.demo.platform import DemoPlatform
from datahealth.demo.standins.bqemulator import bigquery_emulator
from datahealth.demo.standins.fakesnow import fakesnow_server
from datahealth.demo.standins.mariadb import MariaDBServer
from datahealth.demo.standins.process import StandinMissing, standins_dir
from datahealth.demo.warehouses import (
    BigQueryWarehouse,
    DemoWarehouse,
    MariaDBWarehouse,
    SnowflakeWarehouse,
    WarehouseMirror,
)

ENGINE_ENV = "DATAHEALTH_DEMO_ENGINE"
DEFAULT_ENGINE = "duckdb"
DEMO_DATABASE = "datahealth_demo"
"""The database (Snowflake, MariaDB) or dataset (BigQuery) the demo creates, replacing any earlier one."""


class DemoEngineError(ValueError):
    """The demo cannot run on the engine asked for; the message says what to do."""


@dataclass
class DemoTarget:
    """The project the demo monitors, and how each simulated day reaches its warehouse."""

    project: Project
    engine: str = DEFAULT_ENGINE
    mirror: WarehouseMirror | None = None

    def load_day(self) -> None:
        """After `DemoPlatform.append_day`: copy the day's rows to the engine (nothing to do on DuckDB)."""
        if self.mirror is not None:
            self.mirror.load_day()


@contextmanager
def _mariadb(root: Path, log_dir: Path) -> Iterator[DemoWarehouse]:
    server = MariaDBServer()
    if not server.available():
        raise DemoEngineError(
            f"{ENGINE_ENV}=mariadb: no MariaDB answers on {server.host}:{server.port}; "
            "run scripts/ensure-mariadb.sh (or `make demo`, which runs it)"
        )
    server.execute(None, f"DROP DATABASE IF EXISTS {DEMO_DATABASE}", f"CREATE DATABASE {DEMO_DATABASE}")
    yield MariaDBWarehouse(server, DEMO_DATABASE)  # kept afterwards, so the result can be queried


@contextmanager
def _snowflake(root: Path, log_dir: Path) -> Iterator[DemoWarehouse]:
    with fakesnow_server(standins_dir(root), log_dir) as server:
        database = DEMO_DATABASE.upper()
        server.execute(None, f"CREATE DATABASE {database}", f"CREATE SCHEMA IF NOT EXISTS {database}.PUBLIC")
        yield SnowflakeWarehouse(server, database)


@contextmanager
def _bigquery(root: Path, log_dir: Path) -> Iterator[DemoWarehouse]:
    with bigquery_emulator(standins_dir(root), log_dir) as emulator:
        client = emulator.client()
        try:
            client.create_dataset(DEMO_DATABASE)
        finally:
            client.close()
        yield BigQueryWarehouse(emulator, DEMO_DATABASE)


STARTERS: dict[str, Callable[[Path, Path], AbstractContextManager[DemoWarehouse]]] = {
    "snowflake": _snowflake,
    "bigquery": _bigquery,
    "mariadb": _mariadb,
}
"""How each engine other than DuckDB is brought up for the demo, and torn down after it."""
ENGINES = (DEFAULT_ENGINE, *STARTERS)


def engine_from_env(environ: Mapping[str, str] = os.environ) -> str:
    engine = (environ.get(ENGINE_ENV) or DEFAULT_ENGINE).strip().lower()
    if engine not in ENGINES:
        raise DemoEngineError(f"{ENGINE_ENV}={engine}: unknown engine; use one of {', '.join(ENGINES)}")
    return engine


def on_warehouse(project: Project, platform: DemoPlatform, warehouse: DemoWarehouse) -> DemoTarget:
    """The demo project pointed at `warehouse`, and the mirror that fills it day by day.

    The platform's daily volume is lowered to what the engine takes in reasonable time (before the first
    `append_day`): a stand-in that parses every inserted row would otherwise take most of an hour.
    """
    platform.scale = min(platform.scale, warehouse.scale)
    generated = write_engine_project(project.root, platform.root / f"project-{warehouse.engine}", warehouse)
    mirror = WarehouseMirror(platform.warehouse_path, warehouse)
    return DemoTarget(load_project(generated), warehouse.engine, mirror)


@contextmanager
def demo_target(
    project: Project, platform: DemoPlatform, environ: Mapping[str, str] = os.environ
) -> Iterator[DemoTarget]:
    """What the demo monitors, on the engine `DATAHEALTH_DEMO_ENGINE` names (call after `platform.reset()`)."""
    engine = engine_from_env(environ)
    starter = STARTERS.get(engine)
    if starter is None:
        yield DemoTarget(project)
        return
    with ExitStack() as stack:
        try:
            warehouse = stack.enter_context(starter(project.root, platform.root / "standin-logs"))
        except StandinMissing as exc:
            raise DemoEngineError(f"{ENGINE_ENV}={engine}: {exc}") from None
        yield on_warehouse(project, platform, warehouse)
