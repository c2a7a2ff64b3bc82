"""The aggregate expressions of a profile, built with SQLAlchemy (never pasted text): the ANSI base.

`ProfileSql` builds the expressions for one column of a given `ColumnKind` in plain ANSI SQL. Each
engine module subclasses it where its engine has a cheaper or more exact way (approximate distincts,
quantiles, NaN and infinity tests, byte-order text comparison), and declares what it can do in its
`EngineCapabilities`. The profiler puts every column's expressions into one `SELECT`; the labels
(`c3_min`) are generated, so hostile column names only ever appear quoted inside expressions.

Conventions shared by all engines, so a profile means the same thing on every engine:
- `count(col)` gives the non-null count; nulls are `count(*) - count(col)`.
- Float (and PostgreSQL numeric) columns: min/max/mean/stddev/quantiles are over finite values only;
  NaN and ±infinity are counted separately (`nan_count`, `inf_count`), since one infinity would
  otherwise make every mean and range meaningless.
- Counting a condition is `count(CASE WHEN cond THEN 1 END)`, which every engine plans well.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, quoted_name

from datahealth.engines.types import ColumnKind

ONE: ColumnElement[Any] = sa.literal_column("1")
EMPTY_STRING: ColumnElement[Any] = sa.literal_column("''")
QUANTILES = (0.25, 0.5, 0.75)
QUANTILE_KEYS = ("p25", "p50", "p75")

Expr = ColumnElement[Any]


def column_ref(name: str, kind: ColumnKind) -> sa.ColumnClause[Any]:
    """A quoted column reference; booleans are typed so `CASE WHEN col` renders right on every dialect."""
    return sa.column(
        quoted_name(name, quote=True), type_=sa.Boolean() if kind == ColumnKind.BOOLEAN else None
    )


def count_if(condition: Expr) -> Expr:
    return sa.func.count(sa.case((condition, ONE)))


class ProfileSql:
    """ANSI SQL aggregates: what any SQLAlchemy dialect runs, and the base every engine refines."""

    special_float_kinds: frozenset[ColumnKind] = frozenset()
    """Column kinds that may hold NaN or ±infinity: their moments cover finite values only."""

    def distinct(self, col: Expr, approx: bool, data_type: str) -> Expr:
        return sa.func.count(col.distinct())

    def can_distinct(self, kind: ColumnKind, data_type: str) -> bool:
        return kind != ColumnKind.OTHER

    def length(self, col: Expr) -> Expr:
        return sa.func.char_length(col)

    def byte_order(self, col: Expr, data_type: str) -> Expr:
        """Text compared by bytes (code points for UTF-8), the same on every engine and the cheapest order."""
        return col

    def finite_condition(self, col: Expr) -> Expr | None:
        """A condition true for finite values (None when the engine has no NaN/infinity to exclude)."""
        return None

    def nan_condition(self, col: Expr) -> Expr | None:
        return None

    def inf_condition(self, col: Expr) -> Expr | None:
        return None

    def quantiles_expr(self, value: Expr, subsample: Expr | None) -> Expr | None:
        """Approximate quartiles as one list value (None: the engine has no cheap quantiles)."""
        return None

    def as_double(self, value: Expr) -> Expr:
        """The value the moments are computed over (MySQL: as DOUBLE, since its DECIMAL division keeps 4 digits)."""
        return value

    def stddev(self, value: Expr) -> list[tuple[str, Expr]]:
        return [("stddev", sa.func.stddev_samp(value))]

    def column_expressions(
        self, col: Expr, kind: ColumnKind, data_type: str, approx: bool, subsample: Expr | None = None
    ) -> list[tuple[str, Expr]]:
        """(stat, expression) pairs for one column; `stats.column_stats` turns their values into the stats dict."""
        exprs: list[tuple[str, Expr]] = [("non_null_count", sa.func.count(col))]
        if self.can_distinct(kind, data_type):
            exprs.append(("distinct_count", self.distinct(col, approx, data_type)))
        if kind.numeric:
            exprs.extend(self._numeric(col, kind, subsample))
        elif kind == ColumnKind.TEXT:
            length, ordered = self.length(col), self.byte_order(col, data_type)
            exprs += [
                ("min", sa.func.min(ordered)),
                ("max", sa.func.max(ordered)),
                ("min_length", sa.func.min(length)),
                ("max_length", sa.func.max(length)),
                ("mean_length", sa.func.avg(length)),
                ("empty_count", count_if(col == EMPTY_STRING)),
            ]
        elif kind == ColumnKind.BOOLEAN:
            exprs.append(("true_count", sa.func.count(sa.case((col, ONE)))))
        elif kind == ColumnKind.TEMPORAL:
            exprs += [("min", sa.func.min(col)), ("max", sa.func.max(col))]
        return exprs

    def _numeric(self, col: Expr, kind: ColumnKind, subsample: Expr | None) -> list[tuple[str, Expr]]:
        finite = self.finite_condition(col) if kind in self.special_float_kinds else None
        value: Expr = sa.case((finite, col)) if finite is not None else col
        exprs: list[tuple[str, Expr]] = [
            ("min", sa.func.min(value)),
            ("max", sa.func.max(value)),
            ("mean", sa.func.avg(self.as_double(value))),
        ]
        exprs += self.stddev(self.as_double(value))
        quantiles = self.quantiles_expr(value, subsample)
        if quantiles is not None:
            exprs.append(("quantiles", quantiles))
        if kind in self.special_float_kinds:
            for stat, condition in (
                ("nan_count", self.nan_condition(col)),
                ("inf_count", self.inf_condition(col)),
            ):
                if condition is not None:
                    exprs.append((stat, count_if(condition)))
        return exprs
