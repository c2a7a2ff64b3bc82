"""MySQL and MariaDB (PyMySQL, `mysql+pymysql://user:${PASSWORD}@host:3306/database`).

* Sessions: every new connection is made read-only (`SET SESSION TRANSACTION READ ONLY`) and gets the
  source's statement time limit in its server's own terms: MariaDB's `max_statement_time` (seconds, any
  statement) or MySQL's `max_execution_time` (milliseconds, SELECT), chosen from `VERSION()` once per
  connection. A profile tightens the limit for its own statements and restores it afterwards.
* Catalog: `information_schema.COLUMNS` joined to `TABLES` in one query per schema (database), with
  `TABLE_ROWS` (exact for MyISAM/Aria, InnoDB's sampled estimate, refreshed by `ANALYZE TABLE`) and
  `UPDATE_TIME`, the last change where the storage engine records it (InnoDB since MariaDB 10.x / MySQL
  5.7, kept in memory until a restart), so freshness needs no scan when no timestamp column is named.
* Column kinds: `COLUMN_TYPE` text (`int(11) unsigned`, `tinyint(1)` = BOOLEAN, `decimal(10,2)`).
* Profiles: text compared and counted by code point (`utf8mb4_bin`), since MySQL's default collations
  ignore case and trailing spaces; no NaN or infinity (MySQL cannot store them); exact distincts.
* Samples: no TABLESAMPLE: percentages are a per-row `RAND()` filter, row counts `ORDER BY RAND() LIMIT n`.
* Checks: soda-core has no MySQL data source; datahealth computes the generated checks itself
  (`checks/native.py`) and a user contract is a validation error.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.mysql import CHAR
from sqlalchemy.engine import URL, Engine
from sqlalchemy.sql.elements import TextClause

from datahealth.config.models import SqlSourceConfig
from datahealth.core.results import ErrorKind
from datahealth.engines.base import PERCENT, ROWS, EngineCapabilities, EngineOptions, SqlEngine
from datahealth.engines.cancel import Watch
from datahealth.engines.profile_sql import Expr, ProfileSql
from datahealth.engines.types import ColumnKind, ansi_column_kind

CATALOG = sa.text(
    """
    SELECT c.TABLE_NAME AS table_name, c.COLUMN_NAME AS column_name, c.COLUMN_TYPE AS data_type,
           c.IS_NULLABLE = 'YES' AS nullable, t.TABLE_ROWS AS estimated_rows,
           CASE WHEN t.TABLE_TYPE = 'VIEW' THEN 'v' ELSE 'r' END AS kind, t.UPDATE_TIME AS last_modified
    FROM information_schema.COLUMNS c
    JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME
    WHERE c.TABLE_SCHEMA = :schema AND c.TABLE_NAME IN :tables
    ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION
    """
).bindparams(sa.bindparam("tables", expanding=True))

_CONNECT_TIMEOUT_SECONDS = 10
_IS_MARIADB = "datahealth_is_mariadb"
_DEFAULT_LIMIT = "datahealth_statement_seconds"
_TEXT_TYPES = ("char", "varchar", "text", "tinytext", "mediumtext", "longtext", "enum", "set")


class MySQLProfileSql(ProfileSql):
    """Byte-order text (`utf8mb4_bin`) for min/max and distinct counts; MySQL has no NaN or infinity."""

    def can_distinct(self, kind: ColumnKind, data_type: str) -> bool:
        return kind != ColumnKind.OTHER

    def byte_order(self, col: Expr, data_type: str) -> Expr:
        if not data_type.lower().startswith(_TEXT_TYPES):
            return col
        return sa.cast(col, CHAR(charset="utf8mb4")).collate("utf8mb4_bin")

    def distinct(self, col: Expr, approx: bool, data_type: str) -> Expr:
        return sa.func.count(self.byte_order(col, data_type).distinct())

    def as_double(self, value: Expr) -> Expr:
        return value * sa.literal_column("1.0E0")  # DOUBLE arithmetic on MySQL and MariaDB alike


class MySQLEngine(SqlEngine):
    name = "mysql"
    title = "MySQL/MariaDB"
    capabilities = EngineCapabilities(
        default_schema=None,  # the database in the URL
        metadata_row_counts=True,
        metadata_freshness=True,
        read_only_sessions=True,
        timeout_method="statement_timeout",
        max_select_entries=4000,  # a table has at most 4096 columns; a select list may hold more
        sample_emulated=frozenset({PERCENT, ROWS}),
    )
    profile_sql = MySQLProfileSql()
    error_hints = {
        ErrorKind.TIMEOUT: ("max_statement_time exceeded", "maximum statement execution time exceeded"),
        ErrorKind.PERMISSION: ("command denied",),
        ErrorKind.MISSING: ("doesn't exist", "unknown database"),
        ErrorKind.UNREACHABLE: ("can't connect", "lost connection", "gone away"),
    }
    random_draw = ("rand()", 1)

    def default_schema(self, engine: Engine) -> str:
        """The database named in the URL (MySQL's schemas are databases)."""
        if engine.url.database:
            return engine.url.database
        with engine.connect() as conn:
            return str(conn.execute(sa.text("SELECT DATABASE()")).scalar() or "")

    def engine_options(self, url: URL, config: SqlSourceConfig) -> EngineOptions:
        connect_args: dict[str, Any] = {"connect_timeout": _CONNECT_TIMEOUT_SECONDS, **config.connect_args}
        connect_args.setdefault("charset", "utf8mb4")
        return EngineOptions(
            connect_args, {"pool_pre_ping": True, "pool_size": config.max_concurrency, "max_overflow": 2}
        )

    def create_engine(self, url: URL, config: SqlSourceConfig) -> Engine:
        engine = super().create_engine(url, config)
        seconds = config.statement_timeout.total_seconds()
        read_only = config.read_only

        def on_connect(dbapi_connection: Any, record: Any) -> None:
            with contextlib.closing(dbapi_connection.cursor()) as cursor:
                cursor.execute("SELECT VERSION()")
                is_mariadb = "mariadb" in str(cursor.fetchone()[0]).lower()
                record.info[_IS_MARIADB] = is_mariadb
                record.info[_DEFAULT_LIMIT] = seconds
                cursor.execute(limit_statement(is_mariadb, seconds))
                cursor.execute("SET SESSION time_zone = '+00:00'")
                if read_only:
                    cursor.execute("SET SESSION TRANSACTION READ ONLY")

        sa.event.listen(engine, "connect", on_connect)
        return engine

    def catalog_query(self, schema: str, tables: Sequence[str]) -> tuple[TextClause, dict[str, Any]]:
        return CATALOG, {"schema": schema, "tables": list(tables)}

    def column_kind(self, data_type: str) -> ColumnKind:
        """`tinyint(1)` is MySQL's BOOLEAN; `unsigned`/`zerofill` do not change the kind."""
        text = data_type.strip().lower()
        if text.startswith(("tinyint(1)", "bool")):
            return ColumnKind.BOOLEAN
        if text.startswith(("enum", "set")):
            return ColumnKind.TEXT
        if text.startswith("year"):
            return ColumnKind.INTEGER
        for word in (" unsigned", " signed", " zerofill"):
            text = text.replace(word, "")
        return ansi_column_kind(text)

    @contextlib.contextmanager
    def time_limit(self, conn: sa.Connection, seconds: float | None) -> Iterator[Watch]:
        """The server's own statement limit for the block, restored to the source's default afterwards."""
        if not seconds:
            yield Watch(None)
            return
        info = conn.connection.info
        is_mariadb = bool(info.get(_IS_MARIADB, True))
        conn.exec_driver_sql(limit_statement(is_mariadb, seconds))
        try:
            yield Watch(seconds)
        finally:
            with contextlib.suppress(sa.exc.DBAPIError):
                conn.exec_driver_sql(limit_statement(is_mariadb, info.get(_DEFAULT_LIMIT) or 0))


def limit_statement(is_mariadb: bool, seconds: float) -> str:
    """The session's statement time limit: MariaDB `max_statement_time` (s), MySQL `max_execution_time` (ms)."""
    if is_mariadb:
        return f"SET SESSION max_statement_time = {max(0.0, float(seconds)):.3f}"
    return f"SET SESSION max_execution_time = {max(0, int(seconds * 1000))}"


ENGINE = MySQLEngine()
