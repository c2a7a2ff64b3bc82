"""`profile_dataset`: every column of one dataset in one aggregate scan, on a SQL source or a lake.

The query is built once from the catalog's columns (the engine's `profile_sql` expressions per column
kind), optionally over the engine's native sample and/or the incremental window, and split into several
statements only when the engine limits the select list. SQL sources run it through SQLAlchemy under the
engine's time limit; lake datasets compile the same expressions for DuckDB and run them on the source's
cursor with the file list bound as `$files`.
The returned `Profile` says exactly what was measured: rows profiled, sample, window, distinct method,
statements sent.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import duckdb
import duckdb_engine
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement, TextClause, quoted_name
from sqlalchemy.sql.selectable import FromClause

from datahealth.config.models import DatasetConfig
from datahealth.config.values import SampleSpec
from datahealth.core.results import ColumnInfo, ColumnProfile, ErrorKind, Profile, TableMeta
from datahealth.engines.base import SqlEngine
from datahealth.engines.cancel import Watch, watchdog
from datahealth.engines.errors import ErrorHints, classify
from datahealth.engines.profile_sql import column_ref
from datahealth.engines.sampling import STAR, SampledRelation, sample_seed
from datahealth.engines.types import ColumnKind, is_timezone_aware
from datahealth.profiling.stats import column_stats
from datahealth.profiling.timeouts import timeout_error, timeout_seconds
from datahealth.sources.base import DatasetError, Measurement, Source
from datahealth.sources.lake import LakeSource
from datahealth.sources.sql import SqlSource

EXACT_DISTINCT_MAX_ROWS = 1_000_000
"""Up to this many rows, distinct counts are exact even where a sketch exists: exact is cheap there."""

QUANTILE_SAMPLE_ROWS = 100_000
"""Quantile digests see about this many rows (a Bernoulli subsample) on larger tables; see docs/profiling.md."""

ROW_COUNT = "n_rows"
LAST_UPDATED = "observed_last_updated"
_SUBSAMPLE_FLAG = "datahealth_quantile_subsample"
Row = dict[str, Any]


@dataclass(frozen=True)
class ProfiledColumn:
    index: int
    info: ColumnInfo
    kind: ColumnKind

    def label(self, stat: str) -> str:
        """Generated result labels (`c3_min`) keep column names, which may be hostile, out of the select list."""
        return f"c{self.index}_{stat}"


@dataclass
class ProfilePlan:
    """The statements of one profile and how to read their result rows back into column stats."""

    engine: SqlEngine
    columns: list[ProfiledColumn]
    statements: list[sa.Select[Any]]
    stats_by_column: dict[int, list[str]] = field(default_factory=dict)
    approx: bool = False
    sample: SampleSpec | None = None
    sampled: SampledRelation | None = None
    window: tuple[datetime, datetime] | None = None
    relation: FromClause | TextClause | None = None
    where: ColumnElement[Any] | None = None
    quantile_fraction: float | None = None


def profile_dataset(
    source: Source, dataset: DatasetConfig, meta: TableMeta, as_of: datetime, *, row_hint: int | None = None
) -> Profile:
    """Profile every column of `dataset` in one scan; raise DatasetError (kind TIMEOUT on timeout).

    `row_hint` is the row count the observation just measured (when known): it decides whether exact
    distinct counts are cheap and whether a zero-row sample can be judged without another query.
    """
    return _run_profile(source, dataset, meta, as_of, row_hint, observe=False)[0]


def profile_and_measure(
    source: SqlSource, dataset: DatasetConfig, meta: TableMeta, as_of: datetime
) -> tuple[Profile, Measurement]:
    """Profile the whole table and take the observation's row count and `max(timestamp_column)` from the
    same statement, so observing costs no scan of its own (the caller checks `fusable` first)."""
    profile, values = _run_profile(source, dataset, meta, as_of, meta.estimated_rows, observe=True)
    measured = source.measurement(dataset, meta, profile.row_count, values.get(LAST_UPDATED), queries=0)
    measurement = dataclasses.replace(measured, details={"measured_by": "profile"})
    profile.details["table_rows"] = profile.row_count
    return profile, measurement


def fusable(source: Source, dataset: DatasetConfig, meta: TableMeta) -> bool:
    """Whether the profile reads exactly what observing reads: the whole table of a SQL source.

    Not with a sample or a window (their count is not the table's), a `loaded_at_query` (its own
    statement), or a timestamp column the catalog lacks (observing reports that error)."""
    ts = dataset.timestamp_column
    return (
        isinstance(source, SqlSource)
        and dataset.profile.sample is None
        and dataset.profile.window is None
        and not dataset.loaded_at_query
        and (ts is None or any(c.name == ts for c in meta.columns))
    )


def _run_profile(
    source: Source,
    dataset: DatasetConfig,
    meta: TableMeta,
    as_of: datetime,
    row_hint: int | None,
    *,
    observe: bool,
) -> tuple[Profile, Row]:
    started = time.perf_counter()
    if isinstance(source, LakeSource):
        # the dataset materialised once per run in the source's DuckDB (checks read the same copy)
        relation: FromClause | TextClause = sa.text(source.relation(dataset))
        timeout = timeout_seconds(dataset, source.config.statement_timeout.total_seconds())
        executor: _Executor = _LakeExecutor(source, dataset, timeout)
        relation_kind = "files"
    elif isinstance(source, SqlSource):
        relation = source.table_clause(dataset)
        timeout = timeout_seconds(dataset, source.config.statement_timeout.total_seconds())
        relation_kind = meta.kind
        executor = _SqlExecutor(source, dataset, timeout)
    else:
        raise DatasetError(
            f"cannot profile {dataset.name}: unsupported source {type(source).__name__}", ErrorKind.CONFIG
        )
    observe_ts = dataset.timestamp_column if observe else None
    plan = build_plan(
        source.backend, dataset, meta, as_of, relation, relation_kind, row_hint, observe_ts=observe_ts
    )
    rows = executor.run(plan.statements)
    values: Row = {}
    for row in rows:
        values.update(row)
    row_count = int(values.get(ROW_COUNT) or 0)
    queries = len(plan.statements)
    if plan.sample is not None and row_count == 0:
        queries += _reject_empty_sample(plan, dataset, row_hint, executor)
    profile = _profile(
        plan, dataset, values, row_count, queries, time.perf_counter() - started, timeout, row_hint
    )
    return profile, values


def build_plan(
    engine: SqlEngine,
    dataset: DatasetConfig,
    meta: TableMeta,
    as_of: datetime,
    relation: FromClause | TextClause,
    relation_kind: str,
    row_hint: int | None,
    *,
    observe_ts: str | None = None,
) -> ProfilePlan:
    """The profile's statements for `relation` (a table clause or a lake table function).

    `observe_ts`: also select `max()` of this column (the observation's freshness) beside the row count."""
    capabilities = engine.capabilities
    columns = [ProfiledColumn(i, c, engine.column_kind(c.data_type)) for i, c in enumerate(meta.columns)]
    config = dataset.profile
    sample = config.sample
    window = _window(dataset, as_of)
    where = _window_condition(engine, dataset, meta, window) if window else None
    population = row_hint if row_hint is not None else meta.estimated_rows
    if sample is not None and population is not None and _covers_everything(sample, population):
        sample = None  # a sample at least as large as the table is the table: say "not sampled"
    approx = capabilities.approx_distinct and not config.exact_distinct and _large(population, sample)
    sampled = None
    from_clause, statement_where = relation, where
    if sample is not None:
        sampled = engine.sample(
            relation,
            sample,
            where,
            relation_kind=relation_kind,
            seed=sample_seed(dataset.name, as_of),
        )
        from_clause, statement_where = sampled.from_clause, sampled.where
    # a window's size is unknown up front (the table's count would overstate it): digest all its rows
    fraction = None if window else _quantile_fraction(engine, columns, population, sample)
    subsample = None
    if fraction is not None:
        from_clause, subsample = _with_subsample_flag(engine, from_clause, statement_where, fraction, columns)
        statement_where = None
    stats_by_column, per_column = _select_list(engine, columns, approx, subsample)
    head: list[ColumnElement[Any]] = [sa.func.count().label(ROW_COUNT)]
    if observe_ts is not None:  # the observation's freshness, beside the row count
        head.append(sa.func.max(column_ref(engine.denormalize_name(observe_ts), ColumnKind.TEMPORAL)))
        head[-1] = head[-1].label(LAST_UPDATED)
    group_size = capabilities.profile_columns_per_group
    repeatable = sampled is None or sampled.repeatable
    if group_size is not None and len(per_column) > group_size and repeatable:
        statements = [_grouped_statement(head, per_column, group_size, from_clause, statement_where)]
    else:
        statements = []
        entries = head + [entry for column_entries in per_column for entry in column_entries]
        for chunk in _chunks(entries, capabilities.max_select_entries):
            statement = sa.select(*chunk).select_from(from_clause)
            statements.append(statement.where(statement_where) if statement_where is not None else statement)
    if sampled is not None and sample is not None and not sampled.repeatable and len(statements) > 1:
        raise DatasetError(
            f"{dataset.name} has too many columns for one {engine.name} statement, and its '{sample.label}' sample "
            f"({sampled.method}) cannot be repeated across statements; use a percentage sample on a table",
            ErrorKind.CONFIG,
        )
    return ProfilePlan(
        engine,
        columns,
        statements,
        stats_by_column,
        approx,
        sample,
        sampled,
        window,
        relation,
        where,
        fraction,
    )


def _select_list(
    engine: SqlEngine, columns: list[ProfiledColumn], approx: bool, subsample: ColumnElement[Any] | None
) -> tuple[dict[int, list[str]], list[list[ColumnElement[Any]]]]:
    """Every column's labelled aggregates (one list per column), and which stats each column got."""
    per_column: list[list[ColumnElement[Any]]] = []
    stats_by_column: dict[int, list[str]] = {}
    for column in columns:
        ref = column_ref(engine.denormalize_name(column.info.name), column.kind)
        expressions = engine.profile_sql.column_expressions(
            ref, column.kind, column.info.data_type, approx, subsample
        )
        stats_by_column[column.index] = [stat for stat, _ in expressions]
        per_column.append([expr.label(column.label(stat)) for stat, expr in expressions])
    return stats_by_column, per_column


def _grouped_statement(
    head: list[ColumnElement[Any]],
    per_column: list[list[ColumnElement[Any]]],
    group_size: int,
    from_clause: FromClause | TextClause,
    where: ColumnElement[Any] | None,
) -> sa.Select[Any]:
    """ONE statement whose columns are aggregated in groups: a one-row aggregate per group of
    `group_size` columns, cross-joined. A columnar engine runs each group as its own narrow pipeline
    (small hash tables, only that group's columns read), which beats one very wide aggregate there."""
    groups = [per_column[i : i + group_size] for i in range(0, len(per_column), group_size)]
    subqueries = []
    for number, group in enumerate(groups):
        entries = (head if number == 0 else []) + [entry for column in group for entry in column]
        query = sa.select(*entries).select_from(from_clause)
        if where is not None:
            query = query.where(where)
        subqueries.append(query.subquery(f"profile_group_{number}"))
    statement = sa.select(*[c for sub in subqueries for c in sub.c]).select_from(subqueries[0])
    for sub in subqueries[1:]:
        statement = statement.join(sub, sa.true())
    return statement


def _with_subsample_flag(
    engine: SqlEngine,
    from_clause: FromClause | TextClause,
    where: ColumnElement[Any] | None,
    fraction: float,
    columns: list[ProfiledColumn],
) -> tuple[FromClause, ColumnElement[Any]]:
    """Wrap the relation to add one random `draw < fraction` flag per row, shared by every quantile digest."""
    flag = _unused_name(_SUBSAMPLE_FLAG, {c.info.name for c in columns})
    draw, scale = engine.random_draw
    keep = sa.literal_column(draw) < sa.literal_column(repr(fraction * scale))
    query = sa.select(STAR, keep.label(flag)).select_from(from_clause)
    if where is not None:
        query = query.where(where)
    return query.subquery("profile_source"), sa.column(quoted_name(flag, quote=True), type_=sa.Boolean())


def _quantile_fraction(
    engine: SqlEngine, columns: list[ProfiledColumn], population: int | None, sample: SampleSpec | None
) -> float | None:
    """The share of rows the quantile digests see, or None for all rows (small or unknown tables)."""
    if not engine.capabilities.quantiles or population is None or not any(c.kind.numeric for c in columns):
        return None
    expected = float(population)
    if sample is not None:
        expected = (
            min(expected, sample.rows)
            if sample.rows is not None
            else expected * (sample.percent or 100) / 100
        )
    if expected <= QUANTILE_SAMPLE_ROWS * 2:
        return None
    return round(QUANTILE_SAMPLE_ROWS / expected, 8)


def _unused_name(name: str, taken: set[str]) -> str:
    while name in taken:
        name += "_"
    return name


def _chunks(entries: list[Any], size: int | None) -> list[list[Any]]:
    """Split the select list only when the engine limits it; the row count stays in the first statement."""
    if size is None or len(entries) <= size:
        return [entries]
    return [entries[i : i + size] for i in range(0, len(entries), size)]


def _large(population: int | None, sample: SampleSpec | None) -> bool:
    """Whether a distinct-count sketch pays off: more rows than exact counting handles cheaply."""
    if sample is not None and sample.rows is not None:
        return sample.rows > EXACT_DISTINCT_MAX_ROWS
    if population is None:
        return True
    expected = population * (sample.percent / 100 if sample is not None and sample.percent else 1)
    return expected > EXACT_DISTINCT_MAX_ROWS


def _covers_everything(sample: SampleSpec, population: int) -> bool:
    return (sample.percent is not None and sample.percent >= 100) or (
        sample.rows is not None and population > 0 and sample.rows >= population
    )


def _window(dataset: DatasetConfig, as_of: datetime) -> tuple[datetime, datetime] | None:
    window = dataset.profile.window
    if window is None:
        return None
    end = as_of.astimezone(UTC) if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    return end - window, end


def _window_condition(
    engine: SqlEngine, dataset: DatasetConfig, meta: TableMeta, window: tuple[datetime, datetime]
) -> ColumnElement[Any]:
    """`start < ts <= end`, bound as aware datetimes for instants and naive UTC for wall-clock types."""
    ts = dataset.timestamp_column
    if not ts:
        raise DatasetError(
            f"profile.window on {dataset.name} needs timestamp_column (the column that says "
            "when a row arrived)",
            ErrorKind.CONFIG,
        )
    info = next((c for c in meta.columns if c.name == ts), None)
    if info is None:
        raise DatasetError(f"timestamp_column '{ts}' is not a column of {dataset.name}", ErrorKind.CONFIG)
    aware = is_timezone_aware(info.data_type)
    start, end = (value if aware else value.replace(tzinfo=None) for value in window)
    column = column_ref(engine.denormalize_name(ts), ColumnKind.TEMPORAL)
    kind = sa.DateTime(timezone=aware)
    return sa.and_(
        column > sa.bindparam("window_start", start, type_=kind),
        column <= sa.bindparam("window_end", end, type_=kind),
    )


def _reject_empty_sample(
    plan: ProfilePlan, dataset: DatasetConfig, row_hint: int | None, executor: _Executor
) -> int:
    """A sample of zero rows from a non-empty table (or window) is an error, never a clean profile."""
    queries = 0
    if plan.window is None and row_hint is not None and row_hint > 0:
        non_empty = True
    else:
        assert plan.relation is not None
        probe: sa.Select[Any] = sa.select(sa.literal_column("1").label("present")).select_from(plan.relation)
        if plan.where is not None:
            probe = probe.where(plan.where)
        non_empty = bool(executor.run([probe.limit(1)], one=False)[0])
        queries = 1
    if non_empty:
        what = "window" if plan.window else "table"
        label = plan.sample.label if plan.sample else ""
        raise DatasetError(
            f"the {label} sample of {dataset.name} returned zero rows although the {what} has rows; "
            "raise profile.sample",
            ErrorKind.QUERY,
        )
    return queries


def _profile(
    plan: ProfilePlan,
    dataset: DatasetConfig,
    values: Row,
    row_count: int,
    queries: int,
    duration: float,
    timeout: float | None,
    row_hint: int | None,
) -> Profile:
    method = "approx" if plan.approx else "exact"
    columns = []
    for column in plan.columns:
        raw = {stat: values.get(column.label(stat)) for stat in plan.stats_by_column[column.index]}
        columns.append(
            ColumnProfile(
                column.info.name,
                column.info.data_type,
                column_stats(column.kind, raw, row_count, method, plan.quantile_fraction),
            )
        )
    details: dict[str, Any] = {
        "dialect": plan.engine.name,
        "statements": len(plan.statements),
        "timeout_seconds": timeout,
        "timeout_enforcement": plan.engine.capabilities.timeout_method,
    }
    if row_hint is not None:
        details["table_rows"] = row_hint
    if plan.sampled is not None:
        details["sample_method"] = plan.sampled.method
    if plan.quantile_fraction is not None:
        details["quantile_subsample_fraction"] = plan.quantile_fraction
    elif dataset.profile.sample is not None:
        details["sample_skipped"] = "the sample would cover every row"
    return Profile(
        dataset=dataset.name,
        columns=tuple(columns),
        row_count=row_count,
        duration_seconds=duration,
        sampled=plan.sample is not None,
        sample=plan.sample.label if plan.sample else None,
        window_start=plan.window[0] if plan.window else None,
        window_end=plan.window[1] if plan.window else None,
        distinct_method=method,
        queries=queries,
        details=details,
    )


class _Executor(Protocol):
    def run(self, statements: Sequence[sa.Select[Any]], one: bool = True) -> list[Row]:
        """One result row per statement (`one=False`: an empty dict when a statement returns no row)."""
        ...


class _SqlExecutor:
    """Runs a profile's statements on a SQLAlchemy source in one transaction under its time limit."""

    def __init__(self, source: SqlSource, dataset: DatasetConfig, timeout: float | None) -> None:
        self.source, self.dataset, self.timeout = source, dataset, timeout

    def run(self, statements: Sequence[sa.Select[Any]], one: bool = True) -> list[Row]:
        watch: Watch | None = None
        backend = self.source.backend
        snapshot = backend.capabilities.snapshot_isolation
        try:
            with self.source.engine.connect() as conn:
                if len(statements) > 1 and snapshot:
                    # several statements must see one snapshot, or the columns would describe different rows
                    conn = conn.execution_options(isolation_level=snapshot)
                with conn.begin(), backend.time_limit(conn, self.timeout) as watch:
                    results = [conn.execute(s).mappings().first() for s in statements]
        except sa.exc.DBAPIError as exc:
            raise _error(exc, self.dataset, watch, self.timeout, backend.error_hints) from None
        if one and any(r is None for r in results):
            raise DatasetError(f"profiling {self.dataset.name} failed: an aggregate query returned no row")
        return [dict(r) if r is not None else {} for r in results]


class _LakeExecutor:
    """Runs a profile's statements on the lake source's DuckDB cursor, interrupted at the time limit."""

    _dialect = duckdb_engine.Dialect(paramstyle="numeric_dollar")

    def __init__(self, source: LakeSource, dataset: DatasetConfig, timeout: float | None) -> None:
        self.source, self.dataset, self.timeout = source, dataset, timeout

    def run(self, statements: Sequence[sa.Select[Any]], one: bool = True) -> list[Row]:
        con = self.source.connection()
        watch: Watch | None = None
        try:
            rows = []
            with watchdog(self.timeout, con.interrupt) as watch:
                for statement in statements:
                    compiled = statement.compile(dialect=self._dialect)
                    params = [compiled.params[name] for name in compiled.positiontup or ()]
                    cursor = con.execute(compiled.string, params)
                    names = [d[0] for d in cursor.description or ()]
                    row = cursor.fetchone()
                    rows.append(dict(zip(names, row, strict=True)) if row is not None else {})
            return rows
        except duckdb.Error as exc:
            raise _error(exc, self.dataset, watch, self.timeout, self.source.backend.error_hints) from None
        finally:
            con.close()


def _error(
    exc: BaseException, dataset: DatasetConfig, watch: Watch | None, timeout: float | None, hints: ErrorHints
) -> DatasetError:
    error = classify(exc, f"profiling {dataset.name} failed", hints)
    if (watch is not None and watch.fired) or error.kind == ErrorKind.TIMEOUT:
        return timeout_error(dataset, timeout)
    return error
