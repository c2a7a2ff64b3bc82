"""The aggregate expressions of a profile, per SQL dialect, built with SQLAlchemy (never pasted text).

Each dialect says what it can do cheaply (approximate distinct counts, approximate quantiles, NaN and
infinity tests, how many select-list entries one statement may carry) and builds the expressions for one
column of a given `ColumnKind`. The profiler puts every column's expressions into one `SELECT`; the
labels (`c3_min`) are generated, so hostile column names only ever appear quoted inside expressions.

Conventions shared by all dialects, so a profile means the same thing on every engine:
- `count(col)` gives the non-null count; nulls are `count(*) - count(col)`.
- Float (and PostgreSQL numeric) columns: min/max/mean/stddev/quantiles are over finite values only;
  NaN and ±infinity are counted separately (`nan_count`, `inf_count`), since one infinity would
  otherwise make every mean and range meaningless.
- Counting a condition is `count(CASE WHEN cond THEN 1 END)`, which every engine plans well.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, quoted_name

from datahealth.profiling.kinds import ColumnKind, base_type

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


class ProfileDialect:
    """ANSI SQL aggregates: the fallback for any SQLAlchemy dialect datahealth has no tuning for."""

    name = "ansi"
    approx_distinct = False
    quantiles = False
    special_float_kinds: frozenset[ColumnKind] = frozenset()
    has_nan = False
    native_stddev = True
    max_select_entries: int | None = 1000
    timeout_method = "none"

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
        return None

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
            ("mean", sa.func.avg(value)),
        ]
        exprs += self.stddev(value)
        quantiles = self.quantiles_expr(value, subsample) if self.quantiles else None
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


class DuckDBDialect(ProfileDialect):
    """DuckDB (tables and lake files): HyperLogLog distincts and t-digest quantiles come almost free."""

    name = "duckdb"
    approx_distinct = True
    quantiles = True
    special_float_kinds = frozenset({ColumnKind.FLOAT})
    has_nan = True
    max_select_entries = None
    timeout_method = "interrupt"

    def distinct(self, col: Expr, approx: bool, data_type: str) -> Expr:
        return sa.func.approx_count_distinct(col) if approx else sa.func.count(col.distinct())

    def can_distinct(self, kind: ColumnKind, data_type: str) -> bool:
        return True

    def length(self, col: Expr) -> Expr:
        return sa.func.length(col)

    def finite_condition(self, col: Expr) -> Expr | None:
        return sa.func.isfinite(col)

    def nan_condition(self, col: Expr) -> Expr | None:
        return sa.func.isnan(col)

    def inf_condition(self, col: Expr) -> Expr | None:
        return sa.func.isinf(col)

    def quantiles_expr(self, value: Expr, subsample: Expr | None) -> Expr | None:
        """t-digest quantiles; on large tables over a Bernoulli subsample (`subsample` is its row flag),
        since feeding every row into a digest costs more than all other statistics together."""
        quantiles = sa.func.approx_quantile(
            value, sa.literal_column("[" + ", ".join(map(str, QUANTILES)) + "]")
        )
        return quantiles.filter(subsample) if subsample is not None else quantiles


_PG_INFINITY: Expr = sa.literal_column("'Infinity'")
_PG_NEG_INFINITY: Expr = sa.literal_column("'-Infinity'")
_PG_NAN: Expr = sa.literal_column("'NaN'")
_PG_PLAIN_TEXT = frozenset({"text", "character varying", "varchar", "character", "char", "bpchar"})
_PG_DISTINCT_OTHER = ("uuid", "bytea", "jsonb", "inet", "cidr", "macaddr", "interval", "bit", "money")


class PostgresDialect(ProfileDialect):
    """PostgreSQL: exact distincts (no built-in sketch); quantiles skipped since they cost a sort each."""

    name = "postgresql"
    special_float_kinds = frozenset({ColumnKind.FLOAT, ColumnKind.DECIMAL})
    has_nan = True
    max_select_entries = 1600  # a target list may hold at most 1664 entries
    timeout_method = "statement_timeout"

    def can_distinct(self, kind: ColumnKind, data_type: str) -> bool:
        return kind != ColumnKind.OTHER or data_type.lower().startswith(_PG_DISTINCT_OTHER)

    def byte_order(self, col: Expr, data_type: str) -> Expr:
        # The "C" collation compares with memcmp instead of strcoll: min/max in byte order like DuckDB and
        # SQLite, and the same distinct count (a deterministic collation's equality is byte equality) from a
        # sort about twice as fast on long text.
        return col.collate("C") if base_type(data_type) in _PG_PLAIN_TEXT else col

    def distinct(self, col: Expr, approx: bool, data_type: str) -> Expr:
        return sa.func.count(self.byte_order(col, data_type).distinct())

    def finite_condition(self, col: Expr) -> Expr | None:
        # NaN sorts above +Infinity in PostgreSQL, so one range test excludes NaN and both infinities.
        return sa.and_(col > _PG_NEG_INFINITY, col < _PG_INFINITY)

    def nan_condition(self, col: Expr) -> Expr | None:
        return col == _PG_NAN

    def inf_condition(self, col: Expr) -> Expr | None:
        return sa.or_(col == _PG_INFINITY, col == _PG_NEG_INFINITY)


_SQLITE_INFINITY: Expr = sa.literal_column("9e999")
_SQLITE_NEG_INFINITY: Expr = sa.literal_column("-9e999")


class SQLiteDialect(ProfileDialect):
    """SQLite: no stddev function (computed from sums of squares) and no NaN (stored as NULL)."""

    name = "sqlite"
    special_float_kinds = frozenset({ColumnKind.FLOAT})
    native_stddev = False
    max_select_entries = 1900  # SQLITE_MAX_COLUMN defaults to 2000
    timeout_method = "interrupt"

    def can_distinct(self, kind: ColumnKind, data_type: str) -> bool:
        return True

    def length(self, col: Expr) -> Expr:
        return sa.func.length(col)

    def finite_condition(self, col: Expr) -> Expr | None:
        return sa.and_(col > _SQLITE_NEG_INFINITY, col < _SQLITE_INFINITY)

    def inf_condition(self, col: Expr) -> Expr | None:
        return sa.or_(col == _SQLITE_INFINITY, col == _SQLITE_NEG_INFINITY)

    def stddev(self, value: Expr) -> list[tuple[str, Expr]]:
        as_real = sa.cast(value, sa.Float)
        return [
            ("_n", sa.func.count(value)),
            ("_sum", sa.func.sum(as_real)),
            ("_sum_squares", sa.func.sum(as_real * as_real)),
        ]


_DIALECTS: dict[str, Callable[[], ProfileDialect]] = {
    "duckdb": DuckDBDialect,
    "postgresql": PostgresDialect,
    "sqlite": SQLiteDialect,
}


def dialect_for(name: str) -> ProfileDialect:
    """The profile dialect for a SQLAlchemy backend name; unknown backends get ANSI aggregates."""
    return _DIALECTS.get(name, ProfileDialect)()
