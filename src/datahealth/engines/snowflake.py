"""Snowflake (snowflake-sqlalchemy, `snowflake://user@account/DATABASE/SCHEMA?warehouse=WH&role=ROLE`).

* Credentials: a password (in the URL as `${SNOWFLAKE_PASSWORD}`, or the `SNOWFLAKE_PASSWORD` variable) or
  a key pair: `connect_args: {private_key: ${SNOWFLAKE_PRIVATE_KEY}}` (PEM text) or `private_key_file`,
  with `private_key_passphrase` / `private_key_file_pwd`; the variables `SNOWFLAKE_PRIVATE_KEY`,
  `SNOWFLAKE_PRIVATE_KEY_PATH` and `SNOWFLAKE_PRIVATE_KEY_PASSPHRASE` work without any config. Every value
  read is registered as a secret.
* Sessions: `STATEMENT_TIMEOUT_IN_SECONDS` (the source's statement_timeout), `QUERY_TAG=datahealth` and
  `TIMEZONE=UTC` are session parameters of the login, so every statement is bounded with no extra round
  trip; a profile tightens the limit with `ALTER SESSION` for its own statements. Snowflake has no
  read-only session: connect with a role that may only read (and `USAGE` on a small warehouse).
* Names: unquoted identifiers are stored upper-case, so `orders` in config is `ORDERS` in Snowflake and
  catalog names come back lower-case (SQLAlchemy's rule; a mixed-case name stays exactly as written).
* Catalog: `INFORMATION_SCHEMA.COLUMNS` joined to `TABLES` per schema, one query, with `ROW_COUNT` and
  `LAST_ALTERED` (the last DML, DDL or background change): row counts and freshness without a scan, and
  without a running warehouse (the metadata is served by the cloud services layer).
* Profiles: `APPROX_COUNT_DISTINCT` (HyperLogLog) and `APPROX_PERCENTILE` quartiles; NaN and ±infinity
  counted apart; text compares by code point (no collation).
* Samples: `SAMPLE BERNOULLI (p) SEED (s)` (written `TABLESAMPLE … REPEATABLE`, its synonyms) and
  `SAMPLE (n ROWS)`, drawn after the window filter.
* Checks: soda-snowflake, with the same credentials, warehouse, role and session parameters.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import URL, Engine
from sqlalchemy.sql.elements import ColumnElement, TextClause
from sqlalchemy.sql.selectable import FromClause

import datahealth.core.envdefaults  # noqa: F401  (no cloud-metadata probes at login)
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
from datahealth.engines.profile_sql import QUANTILES, Expr, ProfileSql
from datahealth.engines.sampling import SAMPLE_ALIAS, SampledRelation, as_from, filtered
from datahealth.engines.types import ColumnKind, ansi_column_kind, base_type

if TYPE_CHECKING:
    from soda_core.common.data_source_impl import DataSourceImpl

CATALOG = sa.text(
    """
    SELECT c.table_name AS table_name, c.column_name AS column_name,
           CASE WHEN c.data_type = 'NUMBER' THEN 'NUMBER(' || c.numeric_precision || ',' || c.numeric_scale || ')'
                WHEN c.data_type = 'TEXT' AND c.character_maximum_length IS NOT NULL
                     THEN 'VARCHAR(' || c.character_maximum_length || ')'
                ELSE c.data_type END AS data_type,
           c.is_nullable = 'YES' AS nullable, t.row_count AS estimated_rows,
           CASE WHEN t.table_type IS NULL OR t.table_type = 'VIEW' THEN 'v'
                WHEN t.table_type = 'MATERIALIZED VIEW' THEN 'm' ELSE 'r' END AS kind,
           DATE_PART(epoch_second, t.last_altered) AS last_modified
    FROM information_schema.columns c
    LEFT JOIN information_schema.tables t
      ON t.table_schema = c.table_schema AND t.table_name = c.table_name
    WHERE c.table_schema = :schema AND c.table_name IN :tables
    ORDER BY c.table_name, c.ordinal_position
    """
).bindparams(sa.bindparam("tables", expanding=True))

TIMEOUT_PARAMETER = "STATEMENT_TIMEOUT_IN_SECONDS"
_DEFAULT_LIMIT = "datahealth_statement_seconds"
_LOGIN_TIMEOUT_SECONDS = 30
_SAMPLEABLE_KINDS = ("table", "materialized view")
_NAN: Expr = sa.literal_column("'NaN'::FLOAT")
_INFINITY: Expr = sa.literal_column("'inf'::FLOAT")
_NEG_INFINITY: Expr = sa.literal_column("'-inf'::FLOAT")
_KEY_SETTINGS = ("private_key", "private_key_passphrase", "private_key_file", "private_key_file_pwd")
ENV_PASSWORD = "SNOWFLAKE_PASSWORD"
ENV_PRIVATE_KEY = "SNOWFLAKE_PRIVATE_KEY"
ENV_PRIVATE_KEY_PATH = "SNOWFLAKE_PRIVATE_KEY_PATH"
ENV_PRIVATE_KEY_PASSPHRASE = "SNOWFLAKE_PRIVATE_KEY_PASSPHRASE"


class SnowflakeProfileSql(ProfileSql):
    """HyperLogLog distincts and APPROX_PERCENTILE quartiles; NaN and ±infinity counted apart."""

    special_float_kinds = frozenset({ColumnKind.FLOAT})

    def distinct(self, col: Expr, approx: bool, data_type: str) -> Expr:
        return sa.func.approx_count_distinct(col) if approx else sa.func.count(col.distinct())

    def length(self, col: Expr) -> Expr:
        return sa.func.length(col)

    def finite_condition(self, col: Expr) -> Expr | None:
        return sa.and_(col != _NAN, col != _INFINITY, col != _NEG_INFINITY)

    def nan_condition(self, col: Expr) -> Expr | None:
        return col == _NAN

    def inf_condition(self, col: Expr) -> Expr | None:
        return sa.or_(col == _INFINITY, col == _NEG_INFINITY)

    def quantiles_expr(self, value: Expr, subsample: Expr | None) -> Expr | None:
        """Three t-digest percentiles as one JSON array text (`stats` reads JSON text as the list)."""
        source = sa.case((subsample, value)) if subsample is not None else value
        return sa.func.to_json(
            sa.func.array_construct(
                *(
                    sa.cast(sa.func.approx_percentile(source, sa.literal_column(repr(q))), sa.Float)
                    for q in QUANTILES
                )
            )
        )


class SnowflakeEngine(SqlEngine):
    name = "snowflake"
    title = "Snowflake"
    capabilities = EngineCapabilities(
        default_schema=None,  # the schema in the URL
        metadata_row_counts=True,
        metadata_freshness=True,
        read_only_sessions=False,
        timeout_method="statement_timeout",
        max_select_entries=None,
        approx_distinct=True,
        quantiles=True,
        has_nan=True,
        sample_native=frozenset({PERCENT, ROWS}),
        soda_plugin="soda-snowflake",
    )
    profile_sql = SnowflakeProfileSql()
    error_hints = {
        ErrorKind.TIMEOUT: ("reached its statement or warehouse timeout", "statement timeout"),
        ErrorKind.PERMISSION: ("insufficient privileges", "not authorized"),
        ErrorKind.MISSING: ("does not exist or not authorized",),
        ErrorKind.UNREACHABLE: ("failed to connect", "could not connect to snowflake", "failed to login"),
    }
    random_draw = ("uniform(0::float, 1::float, random())", 1)
    soda_modules = ("soda_snowflake.common.data_sources.snowflake_data_source",)

    # --- names -----------------------------------------------------------------------------------

    def normalize_name(self, name: str) -> str:
        return name.lower() if name == name.upper() and name.lower() != name else name

    def denormalize_name(self, name: str) -> str:
        return name.upper() if name == name.lower() else name

    def default_schema(self, engine: Engine) -> str:
        """The schema in the URL (`.../DATABASE/SCHEMA`), else the session's current schema."""
        _, _, schema = (engine.url.database or "").partition("/")
        if schema:
            return self.normalize_name(schema)
        with engine.connect() as conn:
            return self.normalize_name(str(conn.execute(sa.text("SELECT CURRENT_SCHEMA()")).scalar() or ""))

    # --- connections -----------------------------------------------------------------------------

    def engine_options(self, url: URL, config: SqlSourceConfig) -> EngineOptions:
        connect_args = connection_settings(url, config)
        connect_args.setdefault("application", "datahealth")
        connect_args.setdefault("login_timeout", _LOGIN_TIMEOUT_SECONDS)
        return EngineOptions(
            connect_args, {"pool_pre_ping": True, "pool_size": config.max_concurrency, "max_overflow": 2}
        )

    def create_engine(self, url: URL, config: SqlSourceConfig) -> Engine:
        options = self.engine_options(url, config)
        password = url.password if isinstance(url.password, str) else os.environ.get(ENV_PASSWORD)
        if not url.password and password and "private_key" not in options.connect_args:
            register_secret(password)
            url = url.set(password=password)
        engine = sa.create_engine(url, connect_args=options.connect_args, **options.kwargs)
        seconds = config.statement_timeout.total_seconds()

        def on_connect(dbapi_connection: Any, record: Any) -> None:
            record.info[_DEFAULT_LIMIT] = seconds

        sa.event.listen(engine, "connect", on_connect)
        return engine

    @contextlib.contextmanager
    def time_limit(self, conn: sa.Connection, seconds: float | None) -> Iterator[Watch]:
        """`ALTER SESSION SET STATEMENT_TIMEOUT_IN_SECONDS` for the block, then the source's default again."""
        if not seconds:
            yield Watch(None)
            return
        conn.exec_driver_sql(timeout_statement(seconds))
        try:
            yield Watch(seconds)
        finally:
            default = conn.connection.info.get(_DEFAULT_LIMIT) or 0
            with contextlib.suppress(sa.exc.DBAPIError):
                conn.exec_driver_sql(timeout_statement(default))

    # --- catalog and profiles --------------------------------------------------------------------

    def catalog_query(self, schema: str, tables: Sequence[str]) -> tuple[TextClause, dict[str, Any]]:
        return CATALOG, {
            "schema": self.denormalize_name(schema),
            "tables": [self.denormalize_name(t) for t in tables],
        }

    def column_kind(self, data_type: str) -> ColumnKind:
        """NUMBER(p, 0) is an integer; TEXT, VARIANT and the TIMESTAMP_* family by Snowflake's names."""
        text = data_type.strip().lower()
        base = base_type(text)
        if base in ("number", "decimal", "numeric"):
            scale = text.partition(",")[2].rstrip(") ").strip()
            return ColumnKind.INTEGER if scale in ("", "0") else ColumnKind.DECIMAL
        if base in ("variant", "object", "array", "geography", "geometry", "vector", "binary", "varbinary"):
            return ColumnKind.OTHER
        if base.startswith("timestamp"):
            return ColumnKind.TEMPORAL
        return ansi_column_kind(text)

    def native_sample(
        self,
        relation: FromClause | TextClause,
        spec: SampleSpec,
        where: ColumnElement[Any] | None,
        *,
        relation_kind: str,
        seed: int,
    ) -> SampledRelation | None:
        if spec.percent is not None:
            if relation_kind not in _SAMPLEABLE_KINDS:
                return None
            method = sa.func.bernoulli(sa.literal_column(decimal_text(spec.percent)))
            sampled = sa.tablesample(
                as_from(relation), method, name=SAMPLE_ALIAS, seed=sa.literal_column(str(seed))
            )
            return SampledRelation(sampled, where, "sample bernoulli", True)
        # a fixed-size sample must be drawn after the window filter, or it would mostly miss the window
        base = filtered(relation, where) if where is not None else as_from(relation)
        method = sa.func.bernoulli(sa.literal_column(f"{spec.rows} ROWS"))
        return SampledRelation(sa.tablesample(base, method, name=SAMPLE_ALIAS), None, "sample rows", False)

    # --- checks (Soda) ---------------------------------------------------------------------------

    def soda_prefixes(self, url: URL) -> list[str]:
        database, _, _ = (url.database or "").partition("/")
        return [database]

    def url_schema(self, url: URL) -> str | None:
        return (url.database or "").partition("/")[2] or None

    @contextlib.contextmanager
    def soda_data_source(self, data_source: str, source: ConnectedSource) -> Iterator[DataSourceImpl]:
        from soda_snowflake.common.data_sources.snowflake_data_source import SnowflakeDataSourceImpl
        from soda_snowflake.common.data_sources.snowflake_data_source_connection import (
            SnowflakeDataSource,
        )

        try:
            model = SnowflakeDataSource(
                name=data_source, connection=soda_connection_properties(source.url, source.config)
            )
        except ValueError as exc:
            raise DatasetError(
                f"{source.name}: Snowflake credentials are incomplete for checks: {exc}", ErrorKind.CONFIG
            ) from None
        impl = SnowflakeDataSourceImpl(data_source_model=model)
        try:
            yield impl
        finally:
            if impl.has_open_connection():
                impl.close_connection()


def timeout_statement(seconds: float) -> str:
    """The session's statement limit in whole seconds (0 = the account default)."""
    return f"ALTER SESSION SET {TIMEOUT_PARAMETER} = {max(0, int(round(seconds))) if seconds else 0}"


def session_parameters(config: SqlSourceConfig) -> dict[str, Any]:
    """Set at login: the statement limit, a query tag to find datahealth's queries, UTC timestamps."""
    return {
        TIMEOUT_PARAMETER: max(1, int(config.statement_timeout.total_seconds())),
        "QUERY_TAG": "datahealth",
        "TIMEZONE": "UTC",
    }


def connection_settings(url: URL, config: SqlSourceConfig) -> dict[str, Any]:
    """The connector's keyword arguments: config's connect_args, key-pair credentials, session parameters."""
    settings: dict[str, Any] = dict(config.connect_args)
    settings["session_parameters"] = session_parameters(config)
    key = settings.pop("private_key", None) or os.environ.get(ENV_PRIVATE_KEY)
    passphrase = settings.pop("private_key_passphrase", None) or os.environ.get(ENV_PRIVATE_KEY_PASSPHRASE)
    key_file = settings.get("private_key_file") or (
        None if key or url.password else os.environ.get(ENV_PRIVATE_KEY_PATH)
    )
    for secret in (key, passphrase, settings.get("private_key_file_pwd")):
        register_secret(secret if isinstance(secret, str) else None)
    if key and not url.password:
        settings["private_key"] = private_key_der(str(key), passphrase)
    elif key_file and not url.password:
        settings["private_key_file"] = str(key_file)
        if passphrase and "private_key_file_pwd" not in settings:
            settings["private_key_file_pwd"] = str(passphrase)
    return settings


def private_key_der(pem: str, passphrase: str | None) -> bytes:
    """A PEM private key (PKCS#8, optionally encrypted) as the unencrypted DER bytes the connector takes."""
    from cryptography.hazmat.primitives import serialization

    text = pem.replace("\\n", "\n").strip()
    try:
        key = serialization.load_pem_private_key(
            text.encode(), password=passphrase.encode() if passphrase else None
        )
    except (ValueError, TypeError) as exc:
        # never the key or passphrase itself: only what is wrong with them
        raise DatasetError(
            f"the Snowflake private key cannot be read ({type(exc).__name__}: wrong passphrase or not a PEM key)",
            ErrorKind.CONFIG,
        ) from None
    return key.private_bytes(
        encoding=serialization.Encoding.DER,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )


def soda_connection_properties(url: URL, config: SqlSourceConfig) -> dict[str, Any]:
    """soda-snowflake's connection: the same account, user, credentials, warehouse, role and session."""
    settings = connection_settings(url, config)
    database, _, schema = (url.database or "").partition("/")
    query = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()}
    properties: dict[str, Any] = {
        "account": query.pop("account", None) or url.host,
        "user": url.username,
        "database": database or None,
        **query,
    }
    if schema:
        properties["schema"] = schema
    password = url.password if isinstance(url.password, str) else os.environ.get(ENV_PASSWORD)
    key = settings.pop("private_key", None)
    key_file = settings.pop("private_key_file", None)
    key_file_pwd = settings.pop("private_key_file_pwd", None)
    if isinstance(key, bytes):
        from cryptography.hazmat.primitives import serialization

        loaded = serialization.load_der_private_key(key, password=None)
        properties["private_key"] = loaded.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode()
    elif key_file:
        properties["private_key_path"] = key_file
        if key_file_pwd:
            properties["private_key_passphrase"] = key_file_pwd
    elif password:
        properties["password"] = password
    properties["session_parameters"] = {k: str(v) for k, v in settings.pop("session_parameters").items()}
    for ignored in ("application", "login_timeout", *_KEY_SETTINGS):
        settings.pop(ignored, None)
    properties.update(settings)  # host, port, protocol, authenticator...: passed through to the connector
    return {k: v for k, v in properties.items() if v is not None}


ENGINE = SnowflakeEngine()
