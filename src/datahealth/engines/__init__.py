"""Database engines: one module per engine behind one interface (`SqlEngine`), and the registry.

`for_url(url)` / `for_backend(name)` return the engine object for a SQLAlchemy URL or backend name;
backends without a module of their own get the ANSI fallback. Callers then ask the engine (connect,
read the catalog, sample, time-limit, profile expressions, Soda) and branch on its `capabilities`,
never on its name. docs/engines.md lists what each engine does; "Adding an engine" there is the recipe.

Engine modules import only SQLAlchemy at load time; drivers and Soda plugins are imported when used.
"""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url

from datahealth.engines import ansi, bigquery, duckdb, mysql, postgres, redshift, snowflake, sqlite
from datahealth.engines.base import EngineCapabilities, EngineOptions, SqlEngine

ANSI: ansi.AnsiEngine = ansi.ENGINE
DUCKDB: duckdb.DuckDBEngine = duckdb.ENGINE
POSTGRES: postgres.PostgresEngine = postgres.ENGINE
SQLITE: sqlite.SQLiteEngine = sqlite.ENGINE
MYSQL: mysql.MySQLEngine = mysql.ENGINE
SNOWFLAKE: snowflake.SnowflakeEngine = snowflake.ENGINE
BIGQUERY: bigquery.BigQueryEngine = bigquery.ENGINE
REDSHIFT: redshift.RedshiftEngine = redshift.ENGINE

REGISTERED: dict[str, SqlEngine] = {
    engine.name: engine for engine in (POSTGRES, DUCKDB, SQLITE, MYSQL, SNOWFLAKE, BIGQUERY, REDSHIFT)
}
"""Engines with a module of their own, by SQLAlchemy backend name."""

ALIASES: dict[str, SqlEngine] = {"mariadb": MYSQL}
"""Other backend names of a registered engine (`mariadb+pymysql://` is MySQL's module)."""


def for_backend(name: str) -> SqlEngine:
    """The engine for a SQLAlchemy backend name (`postgresql`, `duckdb`, ...); unknown names get ANSI."""
    return REGISTERED.get(name) or ALIASES.get(name, ANSI)


def for_url(url: str | URL) -> SqlEngine:
    """The engine for a SQLAlchemy URL (`postgresql+psycopg://...` → PostgreSQL)."""
    return for_backend((make_url(url) if isinstance(url, str) else url).get_backend_name())


def with_checks() -> list[SqlEngine]:
    """Engines whose datasets Soda can check (they declare a soda plugin)."""
    return [engine for engine in REGISTERED.values() if engine.capabilities.soda_plugin]


__all__ = [
    "ALIASES",
    "ANSI",
    "BIGQUERY",
    "DUCKDB",
    "MYSQL",
    "POSTGRES",
    "REDSHIFT",
    "REGISTERED",
    "SNOWFLAKE",
    "SQLITE",
    "EngineCapabilities",
    "EngineOptions",
    "SqlEngine",
    "for_backend",
    "for_url",
    "with_checks",
]
