"""What every engine's sampling shares: the result shape, the seed, and `random()` emulation.

A sample is cheaper only when the engine itself skips rows, so each engine draws it natively where it
can (`SqlEngine.native_sample`, declared in `capabilities.sample_native`) and falls back to a per-row
`random()` draw where it cannot (`capabilities.sample_emulated`). Every profile records which it was.
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

STAR: ColumnElement[Any] = sa.literal_column("*")
SAMPLE_ALIAS = "profile_sample"


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


def random_sample(
    relation: FromClause | TextClause,
    spec: SampleSpec,
    where: ColumnElement[Any] | None,
    draw: str,
    scale: int,
) -> SampledRelation:
    """Bernoulli by a per-row random draw in [0, scale), or `ORDER BY <draw> LIMIT n` (neither repeatable)."""
    if spec.percent is not None:
        threshold = spec.percent / 100 * scale
        keep = sa.literal_column(draw) < literal(threshold)
        return SampledRelation(
            as_from(relation), keep if where is None else sa.and_(where, keep), "random filter", False
        )
    query = sa.select(STAR).select_from(relation)
    if where is not None:
        query = query.where(where)
    subquery = query.order_by(sa.literal_column(draw)).limit(spec.rows).subquery(SAMPLE_ALIAS)
    return SampledRelation(subquery, None, "random order limit", False)


def filtered(relation: FromClause | TextClause, where: ColumnElement[Any]) -> FromClause:
    """`relation` with `where` applied, as a subquery (for samples that must be drawn after a filter)."""
    return sa.select(STAR).select_from(relation).where(where).subquery("profile_window")


def as_from(relation: FromClause | TextClause) -> FromClause:
    """Text relations (lake table functions) become a subquery so they can carry a sampling clause."""
    if isinstance(relation, TextClause):
        return sa.select(STAR).select_from(relation).subquery("profile_source")
    return relation


def literal(value: float | None) -> ColumnElement[Any]:
    """A number as SQL text without exponent or float noise (`10`, `0.5`)."""
    return sa.literal_column(decimal_text(value))
