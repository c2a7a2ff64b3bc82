"""BigQuery (sqlalchemy-bigquery, `bigquery://PROJECT/DATASET?location=EU`).

* Credentials: application-default credentials (`GOOGLE_APPLICATION_CREDENTIALS` naming a service-account
  JSON file, the metadata server, or `gcloud auth application-default login`), or a service-account JSON
  given as text, `connect_args: {credentials_json: ${BIGQUERY_CREDENTIALS_JSON}}` (registered as a
  secret), or as a file, `credentials_path`. `anonymous: true` with `api_endpoint` reaches an emulator.
* Cost: every query datahealth sends carries the source's `maximum_bytes_billed` (`connect_args`,
  default 10 GB): BigQuery refuses a job that would bill more before it reads anything, and that refusal
  is a clear `config` error of the dataset, never a surprise bill. Jobs carry `job_timeout_ms` (the
  source's statement_timeout; a profile's own limit while it runs) and the label `application=datahealth`.
* Names: a dataset is BigQuery's schema; table names are always dataset-qualified (an unqualified name
  is qualified with the URL's dataset).
* Catalog: `INFORMATION_SCHEMA.COLUMNS` + `TABLES` + `PARTITIONS` of the dataset in one query: columns,
  table or view, row count (`total_rows`) and last change (`last_modified_time`) per table without
  scanning any table data (INFORMATION_SCHEMA queries bill a 10 MB minimum each).
* Profiles: `APPROX_COUNT_DISTINCT` (HyperLogLog++) and `APPROX_QUANTILES` quartiles; NaN and ±infinity
  counted apart (`IS_NAN`, `IS_INF`); strings compare by UTF-8 bytes.
* Samples: `TABLESAMPLE SYSTEM (p PERCENT)` reads (and bills) only the sampled storage blocks; it draws
  whole blocks, so a small table comes back whole or empty. Views and row-count samples use `RAND()`.
* Checks: soda-bigquery with the same credentials, endpoint and bytes-billed limit.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement, TextClause
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.sql.selectable import FromClause

from datahealth.config.models import SqlSourceConfig
from datahealth.config.values import SampleSpec, decimal_text
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
from datahealth.engines.cancel import Watch
from datahealth.engines.profile_sql import Expr, ProfileSql
from datahealth.engines.sampling import SAMPLE_ALIAS, SampledRelation, as_from
from datahealth.engines.types import ColumnKind, ansi_column_kind, base_type

if TYPE_CHECKING:
    from soda_core.common.data_source_impl import DataSourceImpl

DEFAULT_MAXIMUM_BYTES_BILLED = 10 * 1024**3
"""Bytes one query may bill unless the source says otherwise (`connect_args: {maximum_bytes_billed: …}`)."""

_DATASET = re.compile(r"^[A-Za-z0-9_]+$")
_SETTINGS = ("api_endpoint", "anonymous", "credentials_json", "credentials_path", "maximum_bytes_billed")
_SAMPLEABLE_KINDS = ("table",)


class _QuartileOffsets(FunctionElement[Any]):
    """`[q[OFFSET(1)], q[OFFSET(2)], q[OFFSET(3)]]` of `APPROX_QUANTILES(x, 4)` (which returns min, q1-q3, max)."""

    inherit_cache = True
    name = "quartile_offsets"


@compiles(_QuartileOffsets)
def _compile_quartiles(element: _QuartileOffsets, compiler: SQLCompiler, **kw: Any) -> str:
    quantiles = compiler.process(element.clauses, **kw)
    return "[" + ", ".join(f"({quantiles})[OFFSET({i})]" for i in (1, 2, 3)) + "]"


class BigQueryProfileSql(ProfileSql):
    """HyperLogLog++ distincts, APPROX_QUANTILES quartiles, IS_NAN/IS_INF for FLOAT64."""

    special_float_kinds = frozenset({ColumnKind.FLOAT})

    def distinct(self, col: Expr, approx: bool, data_type: str) -> Expr:
        return sa.func.approx_count_distinct(col) if approx else sa.func.count(col.distinct())

    def can_distinct(self, kind: ColumnKind, data_type: str) -> bool:
        return kind != ColumnKind.OTHER  # ARRAY, STRUCT, JSON, GEOGRAPHY cannot be counted distinctly

    def length(self, col: Expr) -> Expr:
        return sa.func.length(col)

    def finite_condition(self, col: Expr) -> Expr | None:
        return sa.and_(sa.not_(sa.func.is_nan(col)), sa.not_(sa.func.is_inf(col)))

    def nan_condition(self, col: Expr) -> Expr | None:
        return sa.func.is_nan(col)

    def inf_condition(self, col: Expr) -> Expr | None:
        return sa.func.is_inf(col)

    def quantiles_expr(self, value: Expr, subsample: Expr | None) -> Expr | None:
        source = sa.case((subsample, value)) if subsample is not None else value
        quartiles = _QuartileOffsets(sa.func.approx_quantiles(source, sa.literal_column("4")))
        # BigQuery refuses an array with a NULL element: no values, no array
        return sa.case((sa.func.count(source) > 0, quartiles))


class BigQueryEngine(SqlEngine):
    name = "bigquery"
    title = "BigQuery"
    capabilities = EngineCapabilities(
        default_schema=None,  # the dataset in the URL
        metadata_row_counts=True,
        metadata_freshness=True,
        read_only_sessions=False,
        timeout_method="statement_timeout",
        max_select_entries=None,
        approx_distinct=True,
        quantiles=True,
        has_nan=True,
        sample_native=frozenset({PERCENT}),
        sample_emulated=frozenset({PERCENT, ROWS}),
        soda_plugin="soda-bigquery",
        sample_blocks=True,
        qualified_names=True,
        bytes_billed_limit=True,
    )
    profile_sql = BigQueryProfileSql()
    error_hints = {
        ErrorKind.TIMEOUT: ("job timed out", "timeout", "deadline exceeded"),
        ErrorKind.CONFIG: ("exceeded limit for bytes billed",),
        ErrorKind.PERMISSION: ("does not have permission", "access denied"),
        ErrorKind.MISSING: ("not found: table", "not found: dataset", "was not found"),
    }
    random_draw = ("RAND()", 1)
    soda_modules = (
        "soda_bigquery.common.data_sources.bigquery_data_source",
        "soda_bigquery.common.data_sources.bigquery_data_source_connection",
    )

    def default_schema(self, engine: Engine) -> str:
        """The dataset in the URL (`bigquery://project/dataset`)."""
        if not engine.url.database:
            raise DatasetError(
                f"{engine.url.render_as_string()}: name the dataset in the URL (bigquery://project/dataset) "
                "or qualify every table (dataset.table)",
                ErrorKind.CONFIG,
            )
        return engine.url.database

    # --- connections -----------------------------------------------------------------------------

    def create_engine(self, url: URL, config: SqlSourceConfig) -> Engine:
        """One BigQuery client per pooled connection, each with datahealth's job defaults."""
        from google.cloud.bigquery import dbapi

        settings = bigquery_settings(config)

        def connect() -> Any:
            client = make_client(url, config, settings)
            connection = dbapi.connect(client=client)
            connection.datahealth_client = client  # time_limit adjusts this client's job defaults
            return connection

        return sa.create_engine(
            url.set(query={"user_supplied_client": "true"}),  # the dialect builds no client of its own
            creator=connect,
            pool_pre_ping=False,
            pool_size=config.max_concurrency,
            max_overflow=2,
        )

    def engine_options(self, url: URL, config: SqlSourceConfig) -> EngineOptions:
        return EngineOptions()  # everything is in the client (`create_engine`)

    @contextlib.contextmanager
    def time_limit(self, conn: sa.Connection, seconds: float | None) -> Iterator[Watch]:
        """The job timeout of this connection's client for the block (BigQuery cancels the job itself)."""
        client = getattr(conn.connection.driver_connection, "datahealth_client", None)
        if not seconds or client is None:
            yield Watch(None)
            return
        job_config = client.default_query_job_config
        previous = job_config.job_timeout_ms
        job_config.job_timeout_ms = max(1, int(seconds * 1000))
        try:
            yield Watch(seconds)
        finally:
            job_config.job_timeout_ms = previous

    # --- catalog and profiles --------------------------------------------------------------------

    def catalog_query(self, schema: str, tables: Sequence[str]) -> tuple[TextClause, dict[str, Any]]:
        dataset = quote_dataset(schema)
        # the dataset is an identifier (quoted, never a value) and the only text pasted in
        query = sa.text(
            f"""
            SELECT c.table_name AS table_name, c.column_name AS column_name, c.data_type AS data_type,
                   c.is_nullable = 'YES' AS nullable, p.total_rows AS estimated_rows,
                   CASE t.table_type WHEN 'VIEW' THEN 'v' WHEN 'MATERIALIZED VIEW' THEN 'm' ELSE 'r' END AS kind,
                   p.last_modified AS last_modified
            FROM {dataset}.INFORMATION_SCHEMA.COLUMNS c
            JOIN {dataset}.INFORMATION_SCHEMA.TABLES t ON t.table_name = c.table_name
            LEFT JOIN (
              SELECT table_name, SUM(total_rows) AS total_rows, MAX(last_modified_time) AS last_modified
              FROM {dataset}.INFORMATION_SCHEMA.PARTITIONS
              GROUP BY table_name
            ) p ON p.table_name = c.table_name
            WHERE c.table_name IN :tables
            ORDER BY c.table_name, c.ordinal_position
            """  # noqa: S608
        ).bindparams(sa.bindparam("tables", expanding=True))
        return query, {"tables": list(tables)}

    def column_kind(self, data_type: str) -> ColumnKind:
        """BigQuery's names: INT64, FLOAT64, NUMERIC/BIGNUMERIC, STRING, BOOL, TIMESTAMP/DATETIME/DATE/TIME."""
        base = base_type(data_type)
        if base == "int64":
            return ColumnKind.INTEGER
        if base == "float64":
            return ColumnKind.FLOAT
        if base in ("numeric", "bignumeric", "bigdecimal"):
            return ColumnKind.DECIMAL
        if base in ("bytes", "json", "geography", "interval", "range") or base.startswith(
            ("struct", "array")
        ):
            return ColumnKind.OTHER
        return ansi_column_kind(data_type)

    def native_sample(
        self,
        relation: FromClause | TextClause,
        spec: SampleSpec,
        where: ColumnElement[Any] | None,
        *,
        relation_kind: str,
        seed: int,
    ) -> SampledRelation | None:
        if spec.percent is None or relation_kind not in _SAMPLEABLE_KINDS:
            return None  # views and row counts: the RAND() draw applies
        method = sa.func.system(sa.literal_column(f"{decimal_text(spec.percent)} PERCENT"))
        return SampledRelation(
            sa.tablesample(as_from(relation), method, name=SAMPLE_ALIAS), where, "tablesample system", False
        )

    # --- checks (Soda) ---------------------------------------------------------------------------

    def soda_prefixes(self, url: URL) -> list[str]:
        return [url.host or ""]

    def url_schema(self, url: URL) -> str | None:
        return url.database or None

    @contextlib.contextmanager
    def soda_data_source(self, data_source: str, source: ConnectedSource) -> Iterator[DataSourceImpl]:
        from soda_bigquery.common.data_sources.bigquery_data_source import BigQueryDataSourceImpl
        from soda_bigquery.common.data_sources.bigquery_data_source_connection import BigQueryDataSource

        settings = bigquery_settings(source.config)
        impl = BigQueryDataSourceImpl(
            data_source_model=BigQueryDataSource(
                name=data_source, connection=soda_connection_properties(source.url, settings)
            )
        )
        try:
            impl.open_connection()
            # Soda's client gets the same cap on bytes billed as ours
            job_config = impl.data_source_connection.client.default_query_job_config
            job_config.maximum_bytes_billed = settings["maximum_bytes_billed"]
            yield impl
        finally:
            if impl.has_open_connection():
                impl.close_connection()


def quote_dataset(name: str) -> str:
    """A dataset name as a quoted identifier; BigQuery allows letters, digits and underscores only."""
    if not _DATASET.match(name):
        raise DatasetError(
            f"{name!r} is not a BigQuery dataset name (letters, digits and underscores)", ErrorKind.CONFIG
        )
    return f"`{name}`"


def bigquery_settings(config: SqlSourceConfig) -> dict[str, Any]:
    """datahealth's BigQuery settings from `connect_args` (credentials registered as secrets)."""
    args = dict(config.connect_args)
    unknown = sorted(set(args) - set(_SETTINGS))
    if unknown:
        raise DatasetError(
            f"unknown BigQuery connect_args {', '.join(unknown)} (known: {', '.join(_SETTINGS)})",
            ErrorKind.CONFIG,
        )
    credentials_json = args.get("credentials_json")
    register_secret(credentials_json if isinstance(credentials_json, str) else None)
    if isinstance(credentials_json, str):
        for field in ("private_key", "private_key_id"):
            with contextlib.suppress(ValueError, TypeError, AttributeError):
                register_secret(json.loads(credentials_json).get(field))
    return {
        "api_endpoint": args.get("api_endpoint"),
        "anonymous": bool(args.get("anonymous", False)),
        "credentials_json": credentials_json,
        "credentials_path": args.get("credentials_path"),
        "maximum_bytes_billed": int(args.get("maximum_bytes_billed") or DEFAULT_MAXIMUM_BYTES_BILLED),
        "job_timeout_ms": max(1, int(config.statement_timeout.total_seconds() * 1000)),
    }


def job_defaults(settings: dict[str, Any]) -> Any:
    """Every job's defaults: the bytes-billed cap, the job timeout and a label to find datahealth's jobs."""
    from google.cloud import bigquery

    return bigquery.QueryJobConfig(
        maximum_bytes_billed=settings["maximum_bytes_billed"],
        job_timeout_ms=settings["job_timeout_ms"],
        labels={"application": "datahealth"},
    )


def make_client(url: URL, config: SqlSourceConfig, settings: dict[str, Any]) -> Any:
    """A BigQuery client for the URL's project, with the source's credentials and job defaults."""
    from google.cloud import bigquery

    query = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()}
    return bigquery.Client(
        project=url.host or None,
        credentials=credentials(settings),
        location=query.get("location"),
        client_options={"api_endpoint": settings["api_endpoint"]} if settings["api_endpoint"] else None,
        default_query_job_config=job_defaults(settings),
    )


def credentials(settings: dict[str, Any]) -> Any:
    """Service-account JSON (text or file), anonymous (emulators), or None: application-default credentials."""
    if settings["anonymous"]:
        from google.auth.credentials import AnonymousCredentials

        return AnonymousCredentials()
    if settings["credentials_json"] or settings["credentials_path"]:
        from google.oauth2 import service_account

        try:
            if settings["credentials_json"]:
                return service_account.Credentials.from_service_account_info(
                    json.loads(settings["credentials_json"])
                )
            return service_account.Credentials.from_service_account_file(settings["credentials_path"])
        except (ValueError, OSError) as exc:
            raise DatasetError(
                f"the BigQuery service-account credentials cannot be read ({type(exc).__name__})",
                ErrorKind.CONFIG,
            ) from None
    return None


def soda_connection_properties(url: URL, settings: dict[str, Any]) -> dict[str, Any]:
    """soda-bigquery's connection: the same project, location, endpoint and credentials."""
    query = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()}
    properties: dict[str, Any] = {"project_id": url.host, "location": query.get("location")}
    if settings["api_endpoint"]:
        properties["client_options"] = {"api_endpoint": settings["api_endpoint"]}
    if settings["credentials_json"]:
        properties["account_info_json"] = settings["credentials_json"]
    elif settings["credentials_path"]:
        properties["account_info_json_path"] = settings["credentials_path"]
    else:  # application-default credentials (Soda asks google.auth.default())
        properties["use_context_auth"] = True
    return {k: v for k, v in properties.items() if v is not None}


ENGINE = BigQueryEngine()
