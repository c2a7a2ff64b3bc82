"""Sampled profiles: the `sample` setting parsed once, and the dialect's native way to read a sample.

A sample is cheaper only when the engine itself skips rows, so each dialect uses its own table
sampling: DuckDB `TABLESAMPLE bernoulli(p PERCENT)` / `reservoir(n ROWS)`, PostgreSQL
`TABLESAMPLE BERNOULLI (p) REPEATABLE (seed)` (tables only: views get a `random()` filter, and row-count
samples an `ORDER BY random() LIMIT n`, as PostgreSQL has no native row-count sampling). SQLite has no
sampling at all, so it is emulated with `random()`. Every profile records what was sampled and how.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, TextClause
from sqlalchemy.sql.selectable import FromClause

from datahealth.config.values import SampleSpec, decimal_text
from datahealth.core.results import ErrorKind
from datahealth.sources.base import DatasetError

STAR: ColumnElement[Any] = sa.literal_column("*")
_SAMPLEABLE_PG_KINDS = ("table", "materialized view")


def sample_seed(dataset: str, as_of: datetime) -> int:
    """Same seed within a run (repeatable across a profile's statements), a new one every run."""
    return zlib.crc32(f"{dataset}|{as_of.isoformat()}".encode()) % 2**31


@dataclass(frozen=True)
class SampledRelation:
    """The FROM clause to aggregate over, the filter still to apply on it, and how rows were sampled."""

    from_clause: FromClause
    where: ColumnElement[Any] | None
    method: str
    repeatable: bool


def sampled_relation(
    dialect: str,
    relation: FromClause | TextClause,
    spec: SampleSpec,
    where: ColumnElement[Any] | None,
    *,
    relation_kind: str,
    seed: int,
) -> SampledRelation:
    """Apply `spec` to `relation` the dialect's native way; `where` (the window) stays applied exactly once."""
    if dialect == "duckdb":
        return _duckdb(relation, spec, where, seed)
    if dialect == "postgresql":
        return _postgres(relation, spec, where, relation_kind, seed)
    if dialect == "sqlite":
        return _random_emulation(relation, spec, where, "abs(random()) % 1000000", 1_000_000)
    if spec.rows is not None:
        raise DatasetError(
            f"row-count samples are not supported on {dialect}; use a percentage such as '10%'",
            ErrorKind.CONFIG,
        )
    sampled = sa.tablesample(
        _from(relation), sa.func.bernoulli(_literal(spec.percent)), name="profile_sample"
    )
    return SampledRelation(sampled, where, "tablesample bernoulli", True)


def _duckdb(
    relation: FromClause | TextClause, spec: SampleSpec, where: ColumnElement[Any] | None, seed: int
) -> SampledRelation:
    seed_clause: ColumnElement[Any] = sa.literal_column(str(seed))
    if spec.percent is not None:
        method = sa.func.bernoulli(sa.literal_column(f"{decimal_text(spec.percent)} PERCENT"))
        return SampledRelation(
            sa.tablesample(_from(relation), method, name="profile_sample", seed=seed_clause),
            where,
            "bernoulli",
            True,
        )
    # A reservoir sample must be drawn after the window filter, or it would mostly miss the window.
    base = _filtered(relation, where) if where is not None else _from(relation)
    method = sa.func.reservoir(sa.literal_column(f"{spec.rows} ROWS"))
    return SampledRelation(
        sa.tablesample(base, method, name="profile_sample", seed=seed_clause), None, "reservoir", True
    )


def _postgres(
    relation: FromClause | TextClause,
    spec: SampleSpec,
    where: ColumnElement[Any] | None,
    relation_kind: str,
    seed: int,
) -> SampledRelation:
    if spec.percent is not None and relation_kind in _SAMPLEABLE_PG_KINDS:
        method = sa.func.bernoulli(_literal(spec.percent))
        sampled = sa.tablesample(
            _from(relation), method, name="profile_sample", seed=sa.literal_column(str(seed))
        )
        return SampledRelation(sampled, where, "tablesample bernoulli", True)
    return _random_emulation(relation, spec, where, "random()", 1)


def _random_emulation(
    relation: FromClause | TextClause,
    spec: SampleSpec,
    where: ColumnElement[Any] | None,
    draw: str,
    scale: int,
) -> SampledRelation:
    """Bernoulli by a per-row random draw, or `ORDER BY random() LIMIT n` (neither repeatable)."""
    if spec.percent is not None:
        threshold = spec.percent / 100 * scale
        keep = sa.literal_column(draw) < _literal(threshold)
        return SampledRelation(
            _from(relation), keep if where is None else sa.and_(where, keep), "random filter", False
        )
    query = sa.select(STAR).select_from(relation)
    if where is not None:
        query = query.where(where)
    subquery = query.order_by(sa.func.random()).limit(spec.rows).subquery("profile_sample")
    return SampledRelation(subquery, None, "random order limit", False)


def _filtered(relation: FromClause | TextClause, where: ColumnElement[Any]) -> FromClause:
    return sa.select(STAR).select_from(relation).where(where).subquery("profile_window")


def _from(relation: FromClause | TextClause) -> FromClause:
    """Text relations (lake table functions) become a subquery so they can carry a sampling clause."""
    if isinstance(relation, TextClause):
        return sa.select(STAR).select_from(relation).subquery("profile_source")
    return relation


def _literal(value: float | None) -> ColumnElement[Any]:
    return sa.literal_column(decimal_text(value))
