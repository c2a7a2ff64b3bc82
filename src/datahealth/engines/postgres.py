"""PostgreSQL (psycopg 3): everything datahealth knows about it.

* Sessions: `default_transaction_read_only`, a `statement_timeout` and `application_name` set as libpq
  options when the connection opens, so every statement is bounded without an extra round trip. A
  profile tightens the limit for its own transaction only (`set_config(..., is_local => true)`).
* Catalog: `pg_catalog` in one query per schema, with the planner's row estimate (`reltuples`, kept
  current by autovacuum/ANALYZE) so `row_count: estimate` needs no scan. PostgreSQL records no
  last-modified time, so freshness needs `max(timestamp_column)`.
* Profiles: exact distinct counts (no built-in sketch), byte-order text comparison (`COLLATE "C"`),
  NaN/±Infinity excluded from moments by one range test; no quantiles (each costs a sort).
* Samples: `TABLESAMPLE BERNOULLI (p) REPEATABLE (seed)` on tables and materialized views; views get a
  `random()` filter and row-count samples `ORDER BY random() LIMIT n` (PostgreSQL has no native
  row-count sampling).
* Checks: the soda-postgres data source, given the same read-only, time-limited session options; the
  password goes into Soda's model as a pydantic `SecretStr`, never into YAML, a file or the environment.
* History store: a transaction-scoped advisory lock makes concurrent first runs migrate once.
"""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.sql.elements import ColumnElement, TextClause
from sqlalchemy.sql.selectable import FromClause

from datahealth.config.models import SqlSourceConfig
from datahealth.config.values import SampleSpec
from datahealth.core.results import ErrorKind
from datahealth.engines.base import (
    PERCENT,
    ROWS,
    ConnectedSource,
    EngineCapabilities,
    EngineOptions,
    SqlEngine,
)
from datahealth.engines.cancel import Watch
from datahealth.engines.profile_sql import Expr, ProfileSql
from datahealth.engines.sampling import SAMPLE_ALIAS, SampledRelation, as_from, literal
from datahealth.engines.types import ColumnKind, base_type

if TYPE_CHECKING:
    from soda_core.common.data_source_impl import DataSourceImpl

CATALOG = sa.text(
    """
    SELECT c.relname AS table_name, a.attname AS column_name,
           format_type(a.atttypid, a.atttypmod) AS data_type, NOT a.attnotnull AS nullable,
           c.reltuples::bigint AS estimated_rows, c.relkind AS kind
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    WHERE n.nspname = :schema AND c.relname IN :tables AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
    ORDER BY c.relname, a.attnum
    """
).bindparams(sa.bindparam("tables", expanding=True))

_SAMPLEABLE_KINDS = ("table", "materialized view")
_CONNECT_TIMEOUT_SECONDS = 10
_INFINITY: Expr = sa.literal_column("'Infinity'")
_NEG_INFINITY: Expr = sa.literal_column("'-Infinity'")
_NAN: Expr = sa.literal_column("'NaN'")
_PLAIN_TEXT = frozenset({"text", "character varying", "varchar", "character", "char", "bpchar"})
_DISTINCT_OTHER = ("uuid", "bytea", "jsonb", "inet", "cidr", "macaddr", "interval", "bit", "money")


class PostgresProfileSql(ProfileSql):
    """Exact distincts (no built-in sketch); quantiles skipped since they cost a sort each."""

    special_float_kinds = frozenset({ColumnKind.FLOAT, ColumnKind.DECIMAL})

    def can_distinct(self, kind: ColumnKind, data_type: str) -> bool:
        return kind != ColumnKind.OTHER or data_type.lower().startswith(_DISTINCT_OTHER)

    def byte_order(self, col: Expr, data_type: str) -> Expr:
        # The "C" collation compares with memcmp instead of strcoll: min/max in byte order like DuckDB and
        # SQLite, and the same distinct count (a deterministic collation's equality is byte equality) from a
        # sort about twice as fast on long text.
        return col.collate("C") if base_type(data_type) in _PLAIN_TEXT else col

    def distinct(self, col: Expr, approx: bool, data_type: str) -> Expr:
        return sa.func.count(self.byte_order(col, data_type).distinct())

    def finite_condition(self, col: Expr) -> Expr | None:
        # NaN sorts above +Infinity in PostgreSQL, so one range test excludes NaN and both infinities.
        return sa.and_(col > _NEG_INFINITY, col < _INFINITY)

    def nan_condition(self, col: Expr) -> Expr | None:
        return col == _NAN

    def inf_condition(self, col: Expr) -> Expr | None:
        return sa.or_(col == _INFINITY, col == _NEG_INFINITY)


class PostgresEngine(SqlEngine):
    name = "postgresql"
    title = "PostgreSQL"
    capabilities = EngineCapabilities(
        default_schema="public",
        metadata_row_counts=True,
        metadata_freshness=False,
        read_only_sessions=True,
        timeout_method="statement_timeout",
        max_select_entries=1600,  # a target list may hold at most 1664 entries
        has_nan=True,
        sample_native=frozenset({PERCENT}),
        sample_emulated=frozenset({PERCENT, ROWS}),
        snapshot_isolation="REPEATABLE READ",
        soda_plugin="soda-postgres",
        advisory_locks=True,
    )
    profile_sql = PostgresProfileSql()
    error_hints = {
        ErrorKind.TIMEOUT: ("canceling statement",),
        ErrorKind.UNREACHABLE: (
            "terminating connection",
            "could not translate host",
            "connection to server",
        ),
    }
    soda_modules = ("soda_postgres.common.data_sources.postgres_data_source",)

    def engine_options(self, url: URL, config: SqlSourceConfig) -> EngineOptions:
        connect_args: dict[str, Any] = dict(config.connect_args)
        connect_args.setdefault("options", session_options(config, "datahealth"))
        connect_args.setdefault("connect_timeout", _CONNECT_TIMEOUT_SECONDS)
        return EngineOptions(
            connect_args, {"pool_pre_ping": True, "pool_size": config.max_concurrency, "max_overflow": 2}
        )

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
        if relation_kind not in _SAMPLEABLE_KINDS:
            return None  # views cannot be TABLESAMPLEd: the random() filter applies
        method = sa.func.bernoulli(literal(spec.percent))
        sampled = sa.tablesample(
            as_from(relation), method, name=SAMPLE_ALIAS, seed=sa.literal_column(str(seed))
        )
        return SampledRelation(sampled, where, "tablesample bernoulli", True)

    @contextlib.contextmanager
    def time_limit(self, conn: sa.Connection, seconds: float | None) -> Iterator[Watch]:
        """`statement_timeout` for the current transaction only (bound value, reset at its end)."""
        if not seconds:
            yield Watch(None)
            return
        milliseconds = max(1, int(seconds * 1000))
        conn.execute(sa.select(sa.func.set_config("statement_timeout", str(milliseconds), True)))
        yield Watch(seconds)

    def soda_prefixes(self, url: URL) -> list[str]:
        return [url.database or ""]

    @contextlib.contextmanager
    def soda_data_source(self, data_source: str, source: ConnectedSource) -> Iterator[DataSourceImpl]:
        from soda_postgres.common.data_sources.postgres_data_source import PostgresDataSourceImpl
        from soda_postgres.common.data_sources.postgres_data_source_connection import PostgresDataSource

        impl = PostgresDataSourceImpl(
            data_source_model=PostgresDataSource(
                name=data_source, connection=soda_connection_properties(source.url, source.config)
            )
        )
        try:
            yield impl
        finally:
            if impl.has_open_connection():
                impl.close_connection()

    def lock_transaction(self, conn: sa.Connection, key: int) -> None:
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def session_options(config: SqlSourceConfig, application_name: str, *extra: str) -> str:
    """libpq `options`: the source's statement timeout, who is asking, read-only transactions."""
    timeout_ms = int(config.statement_timeout.total_seconds() * 1000)
    options = [f"-c statement_timeout={timeout_ms}", f"-c application_name={application_name}", *extra]
    if config.read_only:
        options.append("-c default_transaction_read_only=on")
    return " ".join(options)


def soda_connection_properties(url: URL, config: SqlSourceConfig) -> dict[str, Any]:
    """psycopg keyword arguments for Soda, equivalent to our engine's (read-only, statement timeout)."""
    # TimeZone=UTC: naive timestamps mean UTC everywhere in datahealth, Soda's freshness included
    options = session_options(config, "datahealth-checks", "-c TimeZone=UTC")
    query = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()}
    properties: dict[str, Any] = {
        "options": options,
        "connect_timeout": _CONNECT_TIMEOUT_SECONDS,
        **query,
        **config.connect_args,
    }
    properties.update(
        host=url.host or query.get("host") or "localhost",
        port=url.port or 5432,
        database=url.database,
        user=url.username or getpass.getuser(),
        password=url.password if isinstance(url.password, str) else "",  # "" = let libpq use .pgpass / trust
    )
    return properties


ENGINE = PostgresEngine()
