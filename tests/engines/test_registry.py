"""The registry finds each engine by URL, and every engine's declared capabilities match what it does."""

from __future__ import annotations

import dataclasses
import importlib.metadata
import subprocess
import sys

import pytest
import sqlalchemy as sa

from datahealth import engines
from datahealth.config.values import SampleSpec
from datahealth.core.errors import DatasetError
from datahealth.core.results import ErrorKind
from datahealth.engines.base import PERCENT, ROWS, SqlEngine
from datahealth.engines.mixins import InterruptTimeLimitMixin
from datahealth.engines.profile_sql import column_ref
from datahealth.engines.types import ColumnKind

ALL = [*engines.REGISTERED.values(), engines.ANSI]
EMULATED_METHODS = {"random filter", "random order limit"}


@pytest.mark.parametrize(
    ("url", "engine"),
    [
        ("postgresql+psycopg://monitor:pw@db:5432/shop", engines.POSTGRES),
        ("postgresql://db/shop", engines.POSTGRES),
        ("duckdb:///warehouse.duckdb", engines.DUCKDB),
        ("sqlite:///history.db", engines.SQLITE),
        ("sqlite://", engines.SQLITE),
        ("mysql+pymysql://root@127.0.0.1/shop", engines.MYSQL),
        ("mariadb+pymysql://root@127.0.0.1/shop", engines.MYSQL),
        ("snowflake://account/db", engines.SNOWFLAKE),
        ("bigquery://project/dataset", engines.BIGQUERY),
        ("redshift+psycopg2://cluster:5439/dev", engines.REDSHIFT),
        ("oracle+oracledb://db/service", engines.ANSI),
    ],
)
def test_for_url_finds_the_engine_module_and_unknown_backends_get_ansi(url: str, engine: SqlEngine) -> None:
    assert engines.for_url(url) is engine
    assert engines.for_url(sa.engine.make_url(url)) is engine


def test_engines_are_named_by_their_backend_and_capabilities_are_frozen() -> None:
    assert {name: e.name for name, e in engines.REGISTERED.items()} == {
        "postgresql": "postgresql",
        "duckdb": "duckdb",
        "sqlite": "sqlite",
        "mysql": "mysql",
        "snowflake": "snowflake",
        "bigquery": "bigquery",
        "redshift": "redshift",
    }
    assert engines.for_backend("oracle") is engines.ANSI
    with pytest.raises(dataclasses.FrozenInstanceError):
        engines.POSTGRES.capabilities.quantiles = True  # type: ignore[misc]
    assert [e.title for e in engines.with_checks()] == [
        "PostgreSQL",
        "DuckDB",
        "Snowflake",
        "BigQuery",
        "Redshift",
    ]


@pytest.mark.parametrize("engine", ALL, ids=lambda e: e.name)
def test_profile_capabilities_match_the_expressions(engine: SqlEngine) -> None:
    capabilities, expressions = engine.capabilities, engine.profile_sql
    col = column_ref("x", ColumnKind.FLOAT)
    assert (expressions.quantiles_expr(col, None) is not None) == capabilities.quantiles
    approx = str(expressions.distinct(col, True, "double"))
    assert (approx != str(expressions.distinct(col, False, "double"))) == capabilities.approx_distinct
    assert (expressions.nan_condition(col) is not None) == capabilities.has_nan


@pytest.mark.parametrize("engine", ALL, ids=lambda e: e.name)
@pytest.mark.parametrize("spec", [SampleSpec(percent=10.0), SampleSpec(rows=10)], ids=["percent", "rows"])
def test_sampling_capabilities_match_what_sample_does(engine: SqlEngine, spec: SampleSpec) -> None:
    kind = PERCENT if spec.percent is not None else ROWS
    table = sa.table("t")
    if kind not in engine.capabilities.sample_native | engine.capabilities.sample_emulated:
        with pytest.raises(DatasetError) as error:
            engine.sample(table, spec, None, relation_kind="table", seed=1)
        assert error.value.kind == ErrorKind.CONFIG
        return
    sampled = engine.sample(table, spec, None, relation_kind="table", seed=1)
    native = kind in engine.capabilities.sample_native
    assert (sampled.method not in EMULATED_METHODS) == native
    # a native sample that cannot be repeated is only declared where a profile is never split in statements
    assert sampled.repeatable == native or (native and engine.capabilities.max_select_entries is None)


@pytest.mark.parametrize("engine", ALL, ids=lambda e: e.name)
def test_time_limit_and_soda_declarations_match_the_implementation(engine: SqlEngine) -> None:
    capabilities = engine.capabilities
    assert (capabilities.timeout_method == "interrupt") == isinstance(engine, InterruptTimeLimitMixin)
    overrides_time_limit = type(engine).time_limit is not SqlEngine.time_limit
    assert overrides_time_limit == (capabilities.timeout_method != "none")
    has_soda = type(engine).soda_data_source is not SqlEngine.soda_data_source
    assert has_soda == bool(capabilities.soda_plugin) == bool(engine.soda_modules)
    if capabilities.soda_plugin:
        assert importlib.metadata.version(capabilities.soda_plugin)  # the plugin is a declared dependency
        names_schema = type(engine).url_schema is not SqlEngine.url_schema
        assert capabilities.default_schema or names_schema, "Soda's qualified names need a default schema"
    assert (type(engine).lock_transaction is not SqlEngine.lock_transaction) == capabilities.advisory_locks


def test_importing_the_engines_loads_no_driver_or_plugin() -> None:
    """Drivers and Soda plugins are imported when an engine first uses them, so the CLI starts fast."""
    code = (
        "import sys, datahealth.engines\n"
        "print([m for m in ('duckdb', 'duckdb_engine', 'psycopg', 'soda_core', 'soda_duckdb', 'soda_postgres')"
        " if m in sys.modules])"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert loaded.stdout.strip() == "[]"
