"""Warehouse tables through SQLAlchemy: PostgreSQL, DuckDB and SQLite tuned, any other dialect via ANSI.

The catalog is read with one query per schema for all of a run's datasets in it (dialect-specific where
the engine has a better catalog than information_schema, e.g. pg_catalog gives row estimates too).
Identifiers from config are bound as parameters in catalog queries and quoted by SQLAlchemy in data
queries; nothing from config is pasted into SQL text.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.sql.elements import quoted_name

from datahealth.config.models import DatasetConfig, SqlSourceConfig
from datahealth.core.redaction import redact, register_secret
from datahealth.core.results import ColumnInfo, ErrorKind, TableMeta, as_utc
from datahealth.sources.base import DatasetError, Measurement, SourceUnavailable
from datahealth.sources.errors import classify, first_line

_DEFAULT_SCHEMA = {"postgresql": "public", "duckdb": "main", "sqlite": "main"}

_PG_CATALOG = sa.text(
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

_DUCKDB_CATALOG = sa.text(
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

_SQLITE_CATALOG = sa.text(
    """
    SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, p."notnull" = 0 AS nullable,
           NULL AS estimated_rows, substr(m.type, 1, 1) AS kind
    FROM sqlite_master m JOIN pragma_table_info(m.name) p
    WHERE m.type IN ('table', 'view') AND m.name IN :tables
    ORDER BY m.name, p.cid
    """
).bindparams(sa.bindparam("tables", expanding=True))

_ANSI_CATALOG = sa.text(
    """
    SELECT table_name, column_name, data_type, is_nullable = 'YES' AS nullable,
           NULL AS estimated_rows, 'r' AS kind
    FROM information_schema.columns
    WHERE table_schema = :schema AND table_name IN :tables
    ORDER BY table_name, ordinal_position
    """
).bindparams(sa.bindparam("tables", expanding=True))


def resolve_url(raw: str, project_root: Path) -> URL:
    """Parse the URL and make file databases (DuckDB, SQLite) relative to the project root."""
    url = make_url(raw)
    register_secret(url.password if isinstance(url.password, str) else None)
    backend = url.get_backend_name()
    if backend in ("duckdb", "sqlite") and url.database and url.database != ":memory:":
        path = Path(url.database).expanduser()
        if not path.is_absolute():
            url = url.set(database=str(project_root / path))
    return url


def safe_url(url: URL) -> str:
    """The URL as it may be shown to people: password hidden."""
    return redact(url.render_as_string(hide_password=True))


def build_engine(config: SqlSourceConfig, project_root: Path) -> Engine:
    """An engine whose connections are read-only and time-limited where the driver supports it."""
    url = resolve_url(config.url, project_root)
    backend = url.get_backend_name()
    timeout_ms = int(config.statement_timeout.total_seconds() * 1000)
    connect_args: dict[str, Any] = dict(config.connect_args)
    kwargs: dict[str, Any] = {"pool_pre_ping": backend == "postgresql"}
    if backend == "postgresql":
        options = [f"-c statement_timeout={timeout_ms}", "-c application_name=datahealth"]
        if config.read_only:
            options.append("-c default_transaction_read_only=on")
        connect_args.setdefault("options", " ".join(options))
        connect_args.setdefault("connect_timeout", 10)
        kwargs.update(pool_size=config.max_concurrency, max_overflow=2)
    elif backend == "duckdb":
        if url.database and url.database != ":memory:" and not Path(url.database).exists():
            raise SourceUnavailable(f"DuckDB database file not found: {url.database}")
        connect_args.setdefault("read_only", config.read_only)
    elif backend == "sqlite" and config.read_only and url.database and url.database != ":memory:":
        path = url.database
        if not Path(path).exists():
            raise SourceUnavailable(f"SQLite database file not found: {path}")
        kwargs["creator"] = lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    return sa.create_engine(url, connect_args=connect_args, **kwargs)


class SqlSource:
    """A SQLAlchemy-reachable warehouse."""

    def __init__(self, name: str, config: SqlSourceConfig, project_root: Path) -> None:
        self.name = name
        self.config = config
        self.url = resolve_url(config.url, project_root)
        self.dialect = self.url.get_backend_name()
        self._project_root = project_root
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            try:
                self._engine = build_engine(self.config, self._project_root)
            except DatasetError:
                raise
            except Exception as exc:  # bad driver name, missing driver package
                raise SourceUnavailable(
                    f"cannot create engine for {safe_url(self.url)}: {first_line(exc)}"
                ) from None
        return self._engine

    def default_schema(self) -> str:
        known = _DEFAULT_SCHEMA.get(self.dialect)
        if known:
            return known
        with self.engine.connect() as conn:
            return str(sa.inspect(conn).default_schema_name or "")

    def describe(self, datasets: Sequence[DatasetConfig]) -> dict[str, TableMeta | DatasetError]:
        """One catalog query per schema covering all `datasets` in it."""
        results: dict[str, TableMeta | DatasetError] = {}
        try:
            default_schema = self.default_schema()
            by_schema: dict[str, list[DatasetConfig]] = defaultdict(list)
            for dataset in datasets:
                schema, _ = dataset.schema_and_table
                by_schema[schema or default_schema].append(dataset)
            with self.engine.connect() as conn:
                for schema, members in by_schema.items():
                    tables = sorted({d.schema_and_table[1] for d in members})
                    catalog = self._read_catalog(conn, schema, tables)
                    for dataset in members:
                        table = dataset.schema_and_table[1]
                        results[dataset.name] = catalog.get(table) or DatasetError(
                            f"table {schema}.{table} not found in {self.name} (or no permission to see it)",
                            ErrorKind.MISSING,
                        )
        except DatasetError as exc:
            error = exc if isinstance(exc, SourceUnavailable) else exc
            return {d.name: results.get(d.name, error) for d in datasets}
        except sa.exc.OperationalError as exc:
            error = SourceUnavailable(f"cannot reach {self.name} ({safe_url(self.url)}): {first_line(exc)}")
            return {d.name: error for d in datasets}
        except sa.exc.DBAPIError as exc:
            failure = classify(exc, f"catalog query on {self.name} failed")
            return {d.name: results.get(d.name, failure) for d in datasets}
        return results

    def _read_catalog(self, conn: sa.Connection, schema: str, tables: list[str]) -> dict[str, TableMeta]:
        if self.dialect == "postgresql":
            query, params = _PG_CATALOG, {"schema": schema, "tables": tables}
        elif self.dialect == "duckdb":
            query, params = _DUCKDB_CATALOG, {"schema": schema, "tables": tables}
        elif self.dialect == "sqlite":
            query, params = _SQLITE_CATALOG, {"tables": tables}
        else:
            query, params = _ANSI_CATALOG, {"schema": schema, "tables": tables}
        columns: dict[str, list[ColumnInfo]] = defaultdict(list)
        estimates: dict[str, int | None] = {}
        kinds: dict[str, str] = {}
        for row in conn.execute(query, params).mappings():
            table = row["table_name"]
            nullable = row["nullable"]
            columns[table].append(
                ColumnInfo(
                    row["column_name"],
                    str(row["data_type"]).lower(),
                    None if nullable is None else bool(nullable),
                )
            )
            estimate = row["estimated_rows"]
            estimates[table] = int(estimate) if estimate is not None and int(estimate) >= 0 else None
            kinds[table] = {
                "r": "table",
                "p": "table",
                "t": "table",
                "v": "view",
                "m": "materialized view",
                "f": "foreign table",
            }.get(str(row["kind"]), "table")
        return {
            t: TableMeta(tuple(cols), estimates.get(t), kinds.get(t, "table")) for t, cols in columns.items()
        }

    def table_clause(self, dataset: DatasetConfig) -> sa.TableClause:
        """The dataset's table as a quoted SQLAlchemy clause (for profile and check queries too)."""
        schema, table = dataset.schema_and_table
        return sa.table(
            quoted_name(table, quote=True), schema=quoted_name(schema, quote=True) if schema else None
        )

    def measure(self, dataset: DatasetConfig, meta: TableMeta, as_of: datetime) -> Measurement:
        """`count(*)` and `max(timestamp_column)` in one statement (only the max when estimating rows)."""
        column_names = {c.name for c in meta.columns}
        ts = dataset.timestamp_column
        if ts and ts not in column_names:
            raise DatasetError(
                f"timestamp_column '{ts}' is not a column of {dataset.name} "
                f"(columns: {', '.join(sorted(column_names))})",
                ErrorKind.CONFIG,
            )
        use_estimate = dataset.row_count == "estimate" and meta.estimated_rows is not None
        selected: list[Any] = []
        if not use_estimate:
            selected.append(sa.func.count().label("row_count"))
        if ts and not dataset.loaded_at_query:
            selected.append(sa.func.max(sa.column(quoted_name(ts, quote=True))).label("last_updated"))
        row: dict[str, Any] = {}
        queries = 0
        try:
            with self.engine.connect() as conn:
                if selected:
                    row = dict(
                        conn.execute(sa.select(*selected).select_from(self.table_clause(dataset)))
                        .mappings()
                        .one()
                    )
                    queries += 1
                if dataset.loaded_at_query:
                    row["last_updated"] = conn.execute(sa.text(dataset.loaded_at_query)).scalar()
                    queries += 1
        except sa.exc.OperationalError as exc:
            raise classify(exc, f"measuring {dataset.name} failed") from None
        except sa.exc.DBAPIError as exc:
            raise classify(exc, f"measuring {dataset.name} failed") from None
        last_updated = _to_datetime(row.get("last_updated"))
        method = "loaded_at_query" if dataset.loaded_at_query else ("column" if ts else None)
        return Measurement(
            row_count=meta.estimated_rows if use_estimate else int(row["row_count"]),
            row_count_method="estimate" if use_estimate else "exact",
            last_updated=last_updated,
            last_updated_method=method if last_updated else None,
            queries=queries,
        )

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def _to_datetime(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return as_utc(value)
    if isinstance(value, str):
        try:
            return as_utc(datetime.fromisoformat(value))
        except ValueError:
            return None
    from datetime import date

    if isinstance(value, date):
        return as_utc(datetime(value.year, value.month, value.day))
    return None
