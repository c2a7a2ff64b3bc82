"""Warehouse tables through SQLAlchemy, whatever the engine: what differs per engine is in `engines/`.

The catalog is read with one query per schema for all of a run's datasets in it (the engine's own
catalog where it has a better one than information_schema, e.g. pg_catalog gives row estimates too).
Identifiers from config are bound as parameters in catalog queries and quoted by SQLAlchemy in data
queries; nothing from config is pasted into SQL text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.sql.elements import quoted_name

from datahealth import engines
from datahealth.config.models import DatasetConfig, SqlSourceConfig
from datahealth.core.redaction import redact, register_secret
from datahealth.core.results import ErrorKind, TableMeta, as_utc
from datahealth.engines.errors import classify, first_line
from datahealth.sources.base import DatasetError, Measurement, SourceUnavailable


def resolve_url(raw: str, project_root: Path) -> URL:
    """Parse the URL (its password registered as a secret) and resolve it the way its engine opens it."""
    url = make_url(raw)
    register_secret(url.password if isinstance(url.password, str) else None)
    return engines.for_url(url).resolve_url(url, project_root)


def safe_url(url: URL) -> str:
    """The URL as it may be shown to people: password hidden."""
    return redact(url.render_as_string(hide_password=True))


class SqlSource:
    """A SQLAlchemy-reachable warehouse."""

    def __init__(self, name: str, config: SqlSourceConfig, project_root: Path) -> None:
        self.name = name
        self.config = config
        self.url = resolve_url(config.url, project_root)
        self.dialect = self.url.get_backend_name()
        self.backend = engines.for_url(self.url)
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            try:
                self._engine = self.backend.create_engine(self.url, self.config)
            except DatasetError:
                raise
            except Exception as exc:  # bad driver name, missing driver package
                raise SourceUnavailable(
                    f"cannot create engine for {safe_url(self.url)}: {first_line(exc)}"
                ) from None
        return self._engine

    def default_schema(self) -> str:
        return self.backend.default_schema(self.engine)

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
                    catalog = self.backend.read_catalog(conn, schema, tables)
                    for dataset in members:
                        table = dataset.schema_and_table[1]
                        results[dataset.name] = catalog.get(table) or self._absent(conn, schema, table)
        except DatasetError as exc:
            error = exc if isinstance(exc, SourceUnavailable) else exc
            return {d.name: results.get(d.name, error) for d in datasets}
        except sa.exc.OperationalError as exc:
            error = SourceUnavailable(f"cannot reach {self.name} ({safe_url(self.url)}): {first_line(exc)}")
            return {d.name: error for d in datasets}
        except sa.exc.DBAPIError as exc:
            failure = classify(exc, f"catalog query on {self.name} failed", self.backend.error_hints)
            return {d.name: results.get(d.name, failure) for d in datasets}
        return results

    def _absent(self, conn: sa.Connection, schema: str, table: str) -> DatasetError:
        """Why the catalog has no columns for a table: it has none (`CREATE TABLE t ()`), or it is not there.

        Asked only when the catalog query found nothing, so the common case costs no extra query.
        """
        try:
            exists = sa.inspect(conn).has_table(table, schema=schema)
        except Exception:  # the dialect cannot tell: say what the catalog said
            exists = False
        if exists:
            return DatasetError(f"table {schema}.{table} in {self.name} has no columns", ErrorKind.MISSING)
        return DatasetError(
            f"table {schema}.{table} not found in {self.name} (or no permission to see it)", ErrorKind.MISSING
        )

    def table_clause(self, dataset: DatasetConfig) -> sa.TableClause:
        """The dataset's table as a quoted SQLAlchemy clause (for profile and check queries too)."""
        schema, table = dataset.schema_and_table
        if schema is None and self.backend.capabilities.qualified_names:
            schema = self.default_schema()  # BigQuery: an unqualified name matches nothing
        name = self.backend.denormalize_name
        return sa.table(
            quoted_name(name(table), quote=True),
            schema=quoted_name(name(schema), quote=True) if schema else None,
        )

    def measure(self, dataset: DatasetConfig, meta: TableMeta, as_of: datetime) -> Measurement:
        """`count(*)` and `max(timestamp_column)` in one statement (only the max when estimating rows)."""
        self.check_timestamp_column(dataset, meta)
        ts = dataset.timestamp_column
        use_estimate = dataset.row_count == "estimate" and meta.estimated_rows is not None
        selected: list[Any] = []
        if not use_estimate:
            selected.append(sa.func.count().label("row_count"))
        if ts and not dataset.loaded_at_query:
            selected.append(sa.func.max(self.timestamp_ref(ts)).label("last_updated"))
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
        except sa.exc.DBAPIError as exc:
            raise classify(exc, f"measuring {dataset.name} failed", self.backend.error_hints) from None
        except sa.exc.NoResultFound:  # an aggregate always returns a row; none means the engine gave up
            raise DatasetError(f"measuring {dataset.name} failed: the count query returned no row") from None
        row_count = meta.estimated_rows if use_estimate else int(row["row_count"])
        return self.measurement(dataset, meta, row_count, row.get("last_updated"), queries, use_estimate)

    def check_timestamp_column(self, dataset: DatasetConfig, meta: TableMeta) -> None:
        """A configured timestamp column the catalog does not list is a config error, said once, here."""
        column_names = {c.name for c in meta.columns}
        ts = dataset.timestamp_column
        if ts and ts not in column_names:
            raise DatasetError(
                f"timestamp_column '{ts}' is not a column of {dataset.name} "
                f"(columns: {', '.join(sorted(column_names))})",
                ErrorKind.CONFIG,
            )

    def timestamp_ref(self, ts: str) -> sa.ColumnClause[Any]:
        """The quoted timestamp column whose `max()` says when the table last received rows."""
        return sa.column(quoted_name(self.backend.denormalize_name(ts), quote=True))

    def measurement(
        self,
        dataset: DatasetConfig,
        meta: TableMeta,
        row_count: int | None,
        last_updated_value: Any,
        queries: int,
        estimated: bool = False,
    ) -> Measurement:
        """A measurement from a row count and `max(ts)`, whichever statement read them (measure or a profile).

        Without a timestamp column, a catalog that records changes gives freshness without a scan."""
        ts = dataset.timestamp_column
        modified = None if ts or dataset.loaded_at_query else self.backend.metadata_last_modified(meta)
        last_updated = modified or _to_datetime(last_updated_value)
        method = "loaded_at_query" if dataset.loaded_at_query else ("column" if ts else "metadata")
        return Measurement(
            row_count=row_count,
            row_count_method="estimate" if estimated else "exact",
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
