"""The one place that maps a datahealth source to a Soda data source and a dataset to Soda's qualified name.

Users never write connection details into contracts: the data source and the dataset's qualified name
(`<data source>/<prefixes…>/<table>`) are derived here from `sla_config/`.

* PostgreSQL: a Soda PostgreSQL data source built from the source's SQLAlchemy URL. The password goes
  into Soda's model as a pydantic `SecretStr` (never into YAML, a file or the environment), and the
  session gets the same read-only transaction and statement timeout as our own engine.
* DuckDB file: Soda runs on a duplicate of a connection from our engine's pool. DuckDB refuses a second,
  differently configured connection to the same file in one process, and a duplicate is the per-thread
  cursor DuckDB asks for, so concurrent datasets never share a cursor.
* Lake: a private in-memory DuckDB per scan with a VIEW over the dataset's files, built from the same
  reader as `LakeSource` (file list bound as a parameter, never pasted into SQL).

Anything else (SQLite, MySQL, …) has no Soda data source here: `ChecksNotSupported`.
"""

from __future__ import annotations

import getpass
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from datahealth.checks.soda_env import prepare_soda
from datahealth.config.models import DatasetConfig, LakeSourceConfig, Project, SourceConfig, SqlSourceConfig
from datahealth.core.results import ErrorKind
from datahealth.sources import LakeSource, SqlSource
from datahealth.sources.base import DatasetError, Source
from datahealth.sources.errors import classify
from datahealth.sources.sql import resolve_url

if TYPE_CHECKING:
    from soda_core.common.data_source_impl import DataSourceImpl

SUPPORTED_DIALECTS = ("postgresql", "duckdb")
_DEFAULT_SCHEMA = {"postgresql": "public", "duckdb": "main"}
_SAFE_NAME = re.compile(r"[^A-Za-z0-9_]")
# Naive timestamps mean UTC everywhere in datahealth; Soda reads them in the session's zone (freshness).
_UTC_SESSION = "SET SESSION TimeZone = 'UTC'"


class ChecksNotSupported(Exception):
    """The dataset's source has no Soda data source (e.g. SQLite, MySQL): its checks cannot run."""


@dataclass(frozen=True)
class SodaTarget:
    """Where Soda finds a dataset: the data source name and the qualified name a contract's `dataset:` holds."""

    data_source: str
    qualified_name: str
    kind: str  # "postgres" | "duckdb" | "lake"
    view_name: str | None = None  # lake only: the VIEW created over the files


def soda_target(project: Project, dataset: DatasetConfig) -> SodaTarget:
    """Derive the Soda data source and qualified dataset name from config alone (no connection)."""
    config = project.config.sources.get(dataset.source)
    if config is None:
        raise ChecksNotSupported(f"source '{dataset.source}' of {dataset.name} is not configured")
    return target_for(dataset.source, config, dataset, project)


def target_for(
    source_name: str, config: SourceConfig, dataset: DatasetConfig, project: Project
) -> SodaTarget:
    data_source = _SAFE_NAME.sub("_", source_name)
    if isinstance(config, LakeSourceConfig):
        view = _SAFE_NAME.sub("_", dataset.short_name)
        return SodaTarget(data_source, f"{data_source}/main/{view}", "lake", view)
    assert isinstance(config, SqlSourceConfig)
    url = resolve_url(config.url, project.root)
    dialect = url.get_backend_name()
    if dialect not in SUPPORTED_DIALECTS:
        raise ChecksNotSupported(
            f"checks not supported for this source: {source_name} is {dialect}; Soda checks run on PostgreSQL, "
            "DuckDB and lake sources"
        )
    schema, table = dataset.schema_and_table
    parts = [schema or _DEFAULT_SCHEMA[dialect], table]
    if dialect == "postgresql":
        parts.insert(0, url.database or "")
    for part in parts:
        if not part or "/" in part or '"' in part:
            raise DatasetError(
                f"{dataset.name}: table reference {dataset.table or dataset.short_name!r} cannot be "
                "checked with Soda (empty part, '/' or '\"' in a name)",
                ErrorKind.CONFIG,
            )
    return SodaTarget(
        data_source, "/".join([data_source, *parts]), "postgres" if dialect == "postgresql" else "duckdb"
    )


@contextmanager
def open_data_source(source: Source, dataset: DatasetConfig, target: SodaTarget) -> Iterator[DataSourceImpl]:
    """A ready Soda data source for one scan of `dataset`; everything it opened is closed afterwards."""

    prepare_soda()
    if target.kind == "lake":
        assert isinstance(source, LakeSource)
        with _lake_data_source(source, dataset, target) as impl:
            yield impl
    elif target.kind == "duckdb":
        assert isinstance(source, SqlSource)
        with _duckdb_data_source(source, target) as impl:
            yield impl
    else:
        assert isinstance(source, SqlSource)
        with _postgres_data_source(source, target) as impl:
            yield impl


@contextmanager
def _postgres_data_source(source: SqlSource, target: SodaTarget) -> Iterator[DataSourceImpl]:
    from soda_postgres.common.data_sources.postgres_data_source import PostgresDataSourceImpl
    from soda_postgres.common.data_sources.postgres_data_source_connection import PostgresDataSource

    impl = PostgresDataSourceImpl(
        data_source_model=PostgresDataSource(
            name=target.data_source, connection=postgres_connection_properties(source)
        )
    )
    try:
        yield impl
    finally:
        if impl.has_open_connection():
            impl.close_connection()


def postgres_connection_properties(source: SqlSource) -> dict[str, Any]:
    """psycopg keyword arguments for Soda, equivalent to our engine's (read-only, statement timeout)."""
    url, config = source.url, source.config
    timeout_ms = int(config.statement_timeout.total_seconds() * 1000)
    # TimeZone=UTC: naive timestamps mean UTC everywhere in datahealth, Soda's freshness included
    options = [
        f"-c statement_timeout={timeout_ms}",
        "-c application_name=datahealth-checks",
        "-c TimeZone=UTC",
    ]
    if config.read_only:
        options.append("-c default_transaction_read_only=on")
    query = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()}
    properties: dict[str, Any] = {
        "options": " ".join(options),
        "connect_timeout": 10,
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


@contextmanager
def _duckdb_data_source(source: SqlSource, target: SodaTarget) -> Iterator[DataSourceImpl]:
    from soda_duckdb import DuckDBDataSource

    try:
        pooled = source.engine.raw_connection()
        try:
            connection = pooled.driver_connection.duplicate()  # type: ignore[union-attr]
        finally:
            pooled.close()
        connection.execute(_UTC_SESSION)
    except DatasetError:
        raise
    except Exception as exc:
        raise classify(exc, f"connecting to {source.name} for checks failed") from None
    try:
        yield DuckDBDataSource.from_existing_cursor(connection, name=target.data_source)
    finally:
        connection.close()


@contextmanager
def _lake_data_source(
    source: LakeSource, dataset: DatasetConfig, target: SodaTarget
) -> Iterator[DataSourceImpl]:
    import duckdb
    from soda_duckdb import DuckDBDataSource

    files = [str(f) for f in source.files(dataset)]
    connection = duckdb.connect(":memory:", config={"threads": 2})
    try:
        try:
            connection.execute(_UTC_SESSION)
            # relation_sql holds only the reader name and two booleans; the file list is a bound parameter
            query = f"SELECT * FROM {source.relation_sql(dataset)}"  # noqa: S608
            relation = connection.sql(query, params={"files": files})
            relation.create_view(target.view_name or "dataset", replace=True)
        except duckdb.Error as exc:
            raise classify(exc, f"reading {dataset.name} files for checks failed") from None
        yield DuckDBDataSource.from_existing_cursor(connection, name=target.data_source)
    finally:
        connection.close()
