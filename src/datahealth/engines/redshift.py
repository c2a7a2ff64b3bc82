"""Amazon Redshift (sqlalchemy-redshift over psycopg2, `redshift+psycopg2://user@cluster:5439/db`).

* Credentials: a password (`redshift+psycopg2://user:${REDSHIFT_PASSWORD}@...`) or IAM: with
  `connect_args: {iam: true, cluster_identifier: my-cluster}` (provisioned; `db_user` defaults to the URL's
  user) or `{iam: true, workgroup: my-workgroup}` (Serverless), each new connection asks AWS for
  temporary credentials (`GetClusterCredentials` / `GetCredentials`) with the standard AWS variables or
  profile; the temporary password is registered as a secret and never stored.
* Sessions: a `statement_timeout` set when the connection opens (the source's limit), tightened for a
  profile's transaction with `set_config(..., true)`. Redshift has no read-only session setting that
  survives its connection poolers: connect as a user with SELECT only.
* Catalog: `pg_catalog` (columns, types, nullability, relation kind) joined to `SVV_TABLE_INFO`
  (`estimated_visible_rows`) and the newest insert or delete per table from `STL_INSERT`/`STL_DELETE`,
  in one query per schema: row counts and freshness without a scan. STL tables keep a few days of
  history and show only the user's own queries unless the user has `SYSLOG ACCESS UNRESTRICTED`; a
  table not written to in that window has no last-modified time, so name a `timestamp_column` there.
* Profiles: `APPROXIMATE COUNT(DISTINCT …)` (HyperLogLog) on large tables; exact otherwise.
* Samples: no TABLESAMPLE: `RANDOM()` filters and `ORDER BY RANDOM() LIMIT n`.
* Checks: soda-redshift (psycopg 3), with the same credentials and statement timeout.
"""

from __future__ import annotations

import contextlib
import getpass
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.functions import FunctionElement

from datahealth.config.models import SqlSourceConfig
from datahealth.core.errors import DatasetError
from datahealth.core.redaction import register_secret
from datahealth.core.results import ErrorKind
from datahealth.engines.base import (
    PERCENT,
    ROWS,
    ConnectedSource,
    EngineCapabilities,
    EngineOptions,
    SqlEngine,
)
from datahealth.engines.postgres import PostgresEngine, PostgresProfileSql
from datahealth.engines.profile_sql import Expr

if TYPE_CHECKING:
    from soda_core.common.data_source_impl import DataSourceImpl

CATALOG = sa.text(
    """
    SELECT c.relname AS table_name, a.attname AS column_name,
           format_type(a.atttypid, a.atttypmod) AS data_type, NOT a.attnotnull AS nullable,
           i.estimated_visible_rows AS estimated_rows, c.relkind AS kind, w.last_modified AS last_modified
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
    LEFT JOIN svv_table_info i ON i.table_id = c.oid
    LEFT JOIN (
      SELECT tbl, MAX(endtime) AS last_modified
      FROM (SELECT tbl, endtime FROM stl_insert WHERE rows > 0
            UNION ALL SELECT tbl, endtime FROM stl_delete WHERE rows > 0) writes
      GROUP BY tbl
    ) w ON w.tbl = c.oid
    WHERE n.nspname = :schema AND c.relname IN :tables AND c.relkind IN ('r', 'v', 'm')
    ORDER BY c.relname, a.attnum
    """
).bindparams(sa.bindparam("tables", expanding=True))

_CONNECT_TIMEOUT_SECONDS = 10
_IAM_SETTINGS = ("iam", "cluster_identifier", "workgroup", "db_user", "region", "auto_create", "duration")


class _ApproximateCountDistinct(FunctionElement[Any]):
    """Redshift's `APPROXIMATE COUNT(DISTINCT x)` (HyperLogLog, about 2 % relative error)."""

    inherit_cache = True
    name = "approximate_count_distinct"


@compiles(_ApproximateCountDistinct)
def _compile_approximate(element: _ApproximateCountDistinct, compiler: SQLCompiler, **kw: Any) -> str:
    return f"APPROXIMATE COUNT(DISTINCT {compiler.process(element.clauses, **kw)})"


class RedshiftProfileSql(PostgresProfileSql):
    """PostgreSQL's expressions, with HyperLogLog distincts; no `COLLATE "C"` (Redshift compares bytes)."""

    def byte_order(self, col: Expr, data_type: str) -> Expr:
        return col

    def distinct(self, col: Expr, approx: bool, data_type: str) -> Expr:
        return _ApproximateCountDistinct(col) if approx else sa.func.count(col.distinct())


class RedshiftEngine(PostgresEngine):
    name = "redshift"
    title = "Redshift"
    capabilities = EngineCapabilities(
        default_schema="public",
        metadata_row_counts=True,
        metadata_freshness=True,
        read_only_sessions=False,
        timeout_method="statement_timeout",
        max_select_entries=1600,
        approx_distinct=True,
        has_nan=True,
        sample_emulated=frozenset({PERCENT, ROWS}),
        snapshot_isolation=None,  # Redshift transactions are serializable
        soda_plugin="soda-redshift",
    )
    profile_sql = RedshiftProfileSql()
    soda_modules = ("soda_redshift.common.data_sources.redshift_data_source",)

    def engine_options(self, url: URL, config: SqlSourceConfig) -> EngineOptions:
        connect_args = {k: v for k, v in config.connect_args.items() if k not in _IAM_SETTINGS}
        connect_args.setdefault("connect_timeout", _CONNECT_TIMEOUT_SECONDS)
        connect_args.setdefault("application_name", "datahealth")
        return EngineOptions(
            connect_args, {"pool_pre_ping": True, "pool_size": config.max_concurrency, "max_overflow": 2}
        )

    def create_engine(self, url: URL, config: SqlSourceConfig) -> Engine:
        engine = super().create_engine(url, config)
        milliseconds = int(config.statement_timeout.total_seconds() * 1000)
        iam = dict(config.connect_args) if config.connect_args.get("iam") else None

        def on_connect(dbapi_connection: Any, record: Any) -> None:
            with contextlib.closing(dbapi_connection.cursor()) as cursor:
                cursor.execute(f"SET statement_timeout TO {milliseconds}")
            dbapi_connection.commit()

        def do_connect(dialect: Any, record: Any, cargs: Any, cparams: dict[str, Any]) -> None:
            if iam is not None:
                user, password = iam_credentials(iam, cparams.get("user"), cparams.get("dbname"))
                cparams.update(user=user, password=password)

        sa.event.listen(engine, "connect", on_connect)
        sa.event.listen(engine, "do_connect", do_connect)
        return engine

    def catalog_query(self, schema: str, tables: Sequence[str]) -> tuple[TextClause, dict[str, Any]]:
        return CATALOG, {"schema": schema, "tables": list(tables)}

    lock_transaction = SqlEngine.lock_transaction  # no advisory locks on Redshift

    def soda_prefixes(self, url: URL) -> list[str]:
        return [url.database or ""]

    @contextlib.contextmanager
    def soda_data_source(self, data_source: str, source: ConnectedSource) -> Iterator[DataSourceImpl]:
        from soda_redshift.common.data_sources.redshift_data_source import RedshiftDataSourceImpl
        from soda_redshift.common.data_sources.redshift_data_source_connection import RedshiftDataSource

        impl = RedshiftDataSourceImpl(
            data_source_model=RedshiftDataSource(
                name=data_source, connection=soda_connection_properties(source.url, source.config)
            )
        )
        try:
            yield impl
        finally:
            if impl.has_open_connection():
                impl.close_connection()


def iam_credentials(settings: dict[str, Any], user: str | None, database: str | None) -> tuple[str, str]:
    """Temporary database credentials from AWS (provisioned cluster or Serverless workgroup)."""
    import boto3

    region = settings.get("region")
    duration = int(settings.get("duration") or 900)
    try:
        if settings.get("workgroup"):
            client = boto3.client("redshift-serverless", region_name=region)
            answer = client.get_credentials(
                workgroupName=settings["workgroup"], dbName=database, durationSeconds=duration
            )
        else:
            if not settings.get("cluster_identifier"):
                raise DatasetError(
                    "Redshift IAM needs connect_args.cluster_identifier (or workgroup for Serverless)",
                    ErrorKind.CONFIG,
                )
            client = boto3.client("redshift", region_name=region)
            answer = client.get_cluster_credentials(
                DbUser=str(settings.get("db_user") or user or getpass.getuser()),
                DbName=database,
                ClusterIdentifier=settings["cluster_identifier"],
                DurationSeconds=duration,
                AutoCreate=bool(settings.get("auto_create", False)),
            )
    except DatasetError:
        raise
    except Exception as exc:  # botocore's errors: no credentials, access denied, unknown cluster
        raise DatasetError(
            f"Redshift IAM credentials could not be obtained: {type(exc).__name__}: {str(exc).splitlines()[0]}",
            ErrorKind.PERMISSION if "denied" in str(exc).lower() else ErrorKind.UNREACHABLE,
        ) from None
    register_secret(answer["DbPassword"])
    return str(answer["DbUser"]), str(answer["DbPassword"])


def soda_connection_properties(url: URL, config: SqlSourceConfig) -> dict[str, Any]:
    """soda-redshift's connection: the same host, database and user, with a password or IAM credentials."""
    settings = dict(config.connect_args)
    user = url.username or getpass.getuser()
    password = url.password if isinstance(url.password, str) else None
    if settings.get("iam"):
        user, password = iam_credentials(settings, user, url.database)
    timeout_ms = int(config.statement_timeout.total_seconds() * 1000)
    return {
        "host": url.host or "localhost",
        "port": url.port or 5439,
        "database": url.database,
        "user": user,
        "password": password or "",
        "connect_timeout": _CONNECT_TIMEOUT_SECONDS,
        "options": f"-c statement_timeout={timeout_ms}",
    }


ENGINE = RedshiftEngine()
