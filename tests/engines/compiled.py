"""Compile what an engine emits (catalog query, sample, profile statement) to text for exact assertions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import quoted_name

from datahealth.config.models import DatasetConfig
from datahealth.config.values import SampleSpec
from datahealth.core.results import ColumnInfo, TableMeta
from datahealth.engines.base import SqlEngine
from datahealth.engines.sampling import SampledRelation
from datahealth.profiling.profiler import build_plan

TABLE = sa.table(quoted_name('My "T"', quote=True), schema="main")
META = TableMeta(
    (ColumnInfo('we"ird col', "double"), ColumnInfo("select", "varchar"), ColumnInfo("ok", "boolean"))
)
WINDOW = sa.column("ts") > sa.literal_column("1")


def one_line(text: str) -> str:
    return " ".join(text.split())


def catalog_sql(engine: SqlEngine, dialect: sa.Dialect, schema: str, tables: list[str]) -> tuple[str, Any]:
    """The catalog query as the driver receives it (placeholders, not values) and its bound values."""
    query, params = engine.catalog_query(schema, tables)
    compiled = query.bindparams(**params).compile(
        dialect=dialect, compile_kwargs={"render_postcompile": True}
    )
    return one_line(str(compiled)), compiled.params


def sample_sql(
    engine: SqlEngine, dialect: sa.Dialect, spec: SampleSpec, relation_kind: str = "table"
) -> tuple[str, SampledRelation]:
    """`SELECT count(*)` over the engine's sample of TABLE, filtered by WINDOW, with seed 42."""
    sampled = engine.sample(TABLE, spec, WINDOW, relation_kind=relation_kind, seed=42)
    statement = sa.select(sa.func.count()).select_from(sampled.from_clause)
    if sampled.where is not None:
        statement = statement.where(sampled.where)
    return one_line(str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))), sampled


def profile_sql(engine: SqlEngine, dialect: sa.Dialect, **profile: Any) -> str:
    """The profile statements of META over TABLE, with their values inlined."""
    dataset = DatasetConfig(name="s.t", table='main.My "T"', timestamp_column="select", profile=profile)
    plan = build_plan(engine, dataset, META, datetime(2026, 1, 2, tzinfo=UTC), TABLE, "table", 10)
    return "\n".join(
        str(s.compile(dialect=dialect, compile_kwargs={"literal_binds": True})) for s in plan.statements
    )
