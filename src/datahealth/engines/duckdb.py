"""DuckDB (duckdb_engine), for database files and for the lake's in-memory reader.

* Sessions: the file is opened `read_only`; a source file that does not exist is "not found" (the
  driver would create an empty database). DuckDB has no statement timeout: a watchdog interrupts the
  connection at the limit.
* Catalog: `information_schema.columns` joined to `duckdb_tables()` in one query per schema; the
  table's `estimated_size` is its row count from metadata. No last-modified time is recorded.
* Profiles: one statement aggregating the columns two at a time (one-row aggregates cross-joined): DuckDB
  runs each pair as its own narrow pipeline: faster than one wide aggregate, as fast as a query per column
  (measured on 10M rows x 12 columns, docs/profiling.md). HyperLogLog distincts (`approx_count_distinct`)
  and t-digest quartiles (`approx_quantile`) come almost free; `isnan`/`isinf`/`isfinite` keep NaN and ±infinity out of the moments.
* Samples: `TABLESAMPLE bernoulli(p PERCENT) REPEATABLE (seed)` and `reservoir(n ROWS)`, the latter drawn
  after the window filter.
* Checks: Soda (soda-duckdb) runs on a duplicate of a connection from our engine's pool: DuckDB refuses a
  second, differently configured connection to the same file in one process, and a duplicate is the
  per-thread cursor DuckDB asks for, so concurrent datasets never share a cursor. The lake's private
  in-memory DuckDB is wrapped for Soda the same way (`soda_on_connection`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.sql.elements import ColumnElement, TextClause
from sqlalchemy.sql.selectable import FromClause

from datahealth.config.models import SqlSourceConfig
from datahealth.config.values import SampleSpec, decimal_text
from datahealth.core.errors import DatasetError
from datahealth.core.results import ErrorKind
from datahealth.engines.base import PERCENT, ROWS, ConnectedSource, EngineCapabilities, EngineOptions
from datahealth.engines.errors import classify
from datahealth.engines.mixins import FileDatabaseMixin, InterruptTimeLimitMixin
from datahealth.engines.profile_sql import QUANTILES, Expr, ProfileSql
from datahealth.engines.sampling import SAMPLE_ALIAS, SampledRelation, as_from, filtered
from datahealth.engines.types import ColumnKind

if TYPE_CHECKING:
    from soda_core.common.data_source_impl import DataSourceImpl

CATALOG = sa.text(
    """
    SELECT c.table_name, c.column_name, c.data_type, c.is_nullable = 'YES' AS nullable,
           t.estimated_size AS estimated_rows, CASE WHEN t.table_name IS NULL THEN 'v' ELSE 'r' END AS kind
    FROM information_schema.columns c
    LEFT JOIN duckdb_tables() t
      ON t.database_name = c.table_catalog AND t.schema_name = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_catalog = current_database() AND c.table_schema = :schema AND c.table_name IN :tables
    ORDER BY c.table_name, c.ordinal_position
    """
).bindparams(sa.bindparam("tables", expanding=True))

# Naive timestamps mean UTC everywhere in datahealth; Soda reads them in the session's zone (freshness).
UTC_SESSION = "SET SESSION TimeZone = 'UTC'"


class DuckDBProfileSql(ProfileSql):
    """HyperLogLog distincts and t-digest quantiles; NaN and ±infinity tested with DuckDB's functions."""

    special_float_kinds = frozenset({ColumnKind.FLOAT})

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


class DuckDBEngine(FileDatabaseMixin, InterruptTimeLimitMixin):
    name = "duckdb"
    title = "DuckDB"
    capabilities = EngineCapabilities(
        default_schema="main",
        metadata_row_counts=True,
        metadata_freshness=False,
        read_only_sessions=True,
        timeout_method="interrupt",
        max_select_entries=None,
        profile_columns_per_group=2,  # measured: see docs/profiling.md ("Plan per engine")
        approx_distinct=True,
        quantiles=True,
        has_nan=True,
        sample_native=frozenset({PERCENT, ROWS}),
        soda_plugin="soda-duckdb",
    )
    profile_sql = DuckDBProfileSql()
    error_hints = {
        ErrorKind.MISSING: ("no files found",),
        ErrorKind.CORRUPT: ("invalid parquet", "not a parquet", "magic bytes", "invalid input error"),
        ErrorKind.UNREACHABLE: ("could not set lock",),
    }
    soda_modules = ("soda_duckdb",)

    def engine_options(self, url: URL, config: SqlSourceConfig) -> EngineOptions:
        self.require_file(url)
        connect_args: dict[str, Any] = dict(config.connect_args)
        connect_args.setdefault("read_only", config.read_only)
        return EngineOptions(connect_args)

    def catalog_query(self, schema: str, tables: Sequence[str]) -> tuple[TextClause, dict[str, Any]]:
        return CATALOG, {"schema": schema, "tables": list(tables)}

    def native_sample(
        self,
        relation: FromClause | TextClause,
        spec: SampleSpec,
        where: ColumnElement[Any] | None,
        *,
        relation_kind: str,
        seed: int,
    ) -> SampledRelation | None:
        seed_clause: ColumnElement[Any] = sa.literal_column(str(seed))
        if spec.percent is not None:
            method = sa.func.bernoulli(sa.literal_column(f"{decimal_text(spec.percent)} PERCENT"))
            return SampledRelation(
                sa.tablesample(as_from(relation), method, name=SAMPLE_ALIAS, seed=seed_clause),
                where,
                "bernoulli",
                True,
            )
        # A reservoir sample must be drawn after the window filter, or it would mostly miss the window.
        base = filtered(relation, where) if where is not None else as_from(relation)
        method = sa.func.reservoir(sa.literal_column(f"{spec.rows} ROWS"))
        return SampledRelation(
            sa.tablesample(base, method, name=SAMPLE_ALIAS, seed=seed_clause), None, "reservoir", True
        )

    @contextlib.contextmanager
    def soda_data_source(self, data_source: str, source: ConnectedSource) -> Iterator[DataSourceImpl]:
        try:
            pooled = source.engine.raw_connection()
            try:
                connection = pooled.driver_connection.duplicate()  # type: ignore[union-attr]
            finally:
                pooled.close()
            connection.execute(UTC_SESSION)
        except DatasetError:
            raise
        except Exception as exc:
            raise classify(exc, f"connecting to {source.name} for checks failed", self.error_hints) from None
        try:
            yield self.soda_on_connection(connection, data_source)
        finally:
            connection.close()

    def soda_on_connection(self, connection: Any, data_source: str) -> DataSourceImpl:
        """Soda's DuckDB data source on an open DuckDB connection (whose session ran `UTC_SESSION`)."""
        from soda_duckdb import DuckDBDataSource

        return DuckDBDataSource.from_existing_cursor(connection, name=data_source)


ENGINE = DuckDBEngine()
