"""SQLite (the standard library's sqlite3): monitored files and the default history store.

* Sessions: a read-only source opens its file with `mode=ro` (a missing file is "not found"; SQLite
  would otherwise create it). SQLite has no statement timeout: a watchdog interrupts the connection.
* Catalog: `sqlite_master` joined to `pragma_table_info` in one query. SQLite keeps no row estimate and
  no last-modified time, so counts and freshness always scan.
* Column kinds follow SQLite's type-affinity rules (any type name is allowed), plus BOOLEAN and dates.
* Profiles: no `stddev_samp` (computed from Σx and Σx²), no NaN (stored as NULL), ±infinity as 9e999.
* Samples: no native sampling; percentages are a per-row `abs(random()) % 1000000` draw, row counts
  `ORDER BY random() LIMIT n`.
* Checks: soda-core has no SQLite data source, so checks report `ChecksNotSupported`.
* History store: WAL journal (switched once per file, a busy switch retried), a busy timeout
  (`?timeout=<seconds>`, default 30) so a second writer waits instead of failing, foreign keys on;
  migrations copy tables (ALTER TABLE is limited).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import URL
from sqlalchemy.sql.elements import TextClause

from datahealth.config.models import SqlSourceConfig
from datahealth.core.results import ErrorKind
from datahealth.engines.base import PERCENT, ROWS, EngineCapabilities, EngineOptions
from datahealth.engines.mixins import FileDatabaseMixin, InterruptTimeLimitMixin
from datahealth.engines.profile_sql import Expr, ProfileSql
from datahealth.engines.types import NESTED_TYPE, ColumnKind

CATALOG = sa.text(
    """
    SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type, p."notnull" = 0 AS nullable,
           NULL AS estimated_rows, substr(m.type, 1, 1) AS kind
    FROM sqlite_master m JOIN pragma_table_info(m.name) p
    WHERE m.type IN ('table', 'view') AND m.name IN :tables
    ORDER BY m.name, p.cid
    """
).bindparams(sa.bindparam("tables", expanding=True))

DEFAULT_LOCK_TIMEOUT_SECONDS = "30"
_INFINITY: Expr = sa.literal_column("9e999")
_NEG_INFINITY: Expr = sa.literal_column("-9e999")


class SQLiteProfileSql(ProfileSql):
    """No stddev function (computed from sums of squares) and no NaN (stored as NULL)."""

    special_float_kinds = frozenset({ColumnKind.FLOAT})

    def can_distinct(self, kind: ColumnKind, data_type: str) -> bool:
        return True

    def length(self, col: Expr) -> Expr:
        return sa.func.length(col)

    def finite_condition(self, col: Expr) -> Expr | None:
        return sa.and_(col > _NEG_INFINITY, col < _INFINITY)

    def inf_condition(self, col: Expr) -> Expr | None:
        return sa.or_(col == _INFINITY, col == _NEG_INFINITY)

    def stddev(self, value: Expr) -> list[tuple[str, Expr]]:
        as_real = sa.cast(value, sa.Float)
        return [
            ("_n", sa.func.count(value)),
            ("_sum", sa.func.sum(as_real)),
            ("_sum_squares", sa.func.sum(as_real * as_real)),
        ]


class SQLiteEngine(FileDatabaseMixin, InterruptTimeLimitMixin):
    name = "sqlite"
    title = "SQLite"
    capabilities = EngineCapabilities(
        default_schema="main",
        metadata_row_counts=False,
        metadata_freshness=False,
        read_only_sessions=True,
        timeout_method="interrupt",
        max_select_entries=1900,  # SQLITE_MAX_COLUMN defaults to 2000
        sample_emulated=frozenset({PERCENT, ROWS}),
        batch_alter_table=True,
    )
    profile_sql = SQLiteProfileSql()
    error_hints = {
        ErrorKind.MISSING: ("no such table",),
        ErrorKind.UNREACHABLE: ("unable to open database",),
    }
    random_draw = ("abs(random()) % 1000000", 1_000_000)

    def engine_options(self, url: URL, config: SqlSourceConfig) -> EngineOptions:
        options = EngineOptions(dict(config.connect_args))
        path = self.require_file(url) if config.read_only else None
        if path is not None:
            options.kwargs["creator"] = lambda: sqlite3.connect(
                f"file:{path}?mode=ro", uri=True, check_same_thread=False
            )
        return options

    def catalog_query(self, schema: str, tables: Sequence[str]) -> tuple[TextClause, dict[str, Any]]:
        return CATALOG, {"tables": list(tables)}

    def column_kind(self, data_type: str) -> ColumnKind:
        """SQLite's type-affinity rules (https://sqlite.org/datatype3.html §3.1), plus BOOLEAN and dates."""
        text = data_type.strip().lower()
        if not text or NESTED_TYPE.search(text):
            return ColumnKind.OTHER
        if "bool" in text:
            return ColumnKind.BOOLEAN
        if "int" in text:
            return ColumnKind.INTEGER
        if any(token in text for token in ("char", "clob", "text")):
            return ColumnKind.TEXT
        if "blob" in text:
            return ColumnKind.OTHER
        if any(token in text for token in ("real", "floa", "doub")):
            return ColumnKind.FLOAT
        if any(token in text for token in ("date", "time")):
            return ColumnKind.TEMPORAL
        return ColumnKind.DECIMAL

    def store_engine_options(self, url: URL) -> EngineOptions:
        return EngineOptions({"timeout": lock_timeout(url), "check_same_thread": False})

    def prepare_store_connection(self, dbapi_connection: Any, url: URL) -> None:
        timeout = lock_timeout(url)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout={int(timeout * 1000)}")
            _switch_to_wal(cursor, timeout)
            # WAL + NORMAL: a commit waits for no fsync (the WAL is synced at checkpoints). The file never
            # corrupts; a power cut may lose the last runs' writes. Recording 10,000 datasets costs 10,000
            # commits, which at FULL is an fsync each (minutes on a busy disk; bench/scale.py)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
        finally:
            cursor.close()


def _switch_to_wal(cursor: sqlite3.Cursor, timeout: float) -> None:
    """Put the file in WAL mode once; a switch that finds the file busy is retried until `timeout`.

    WAL is a property of the file, so only a store's first connections switch. Switching needs the file
    to itself, and SQLite may answer "database is locked" at once, without waiting on the busy timeout,
    when another process is switching or migrating the same new file (concurrent first runs).
    """
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode=WAL").fetchall()
            return
        except sqlite3.OperationalError as exc:
            busy = (exc.sqlite_errorcode & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not busy or time.monotonic() + pause > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.2)


def lock_timeout(url: URL) -> float:
    """Seconds a write waits for another process's lock: `?timeout=` in the URL, else 30."""
    raw = url.query.get("timeout", DEFAULT_LOCK_TIMEOUT_SECONDS)
    try:
        return max(0.0, float(raw if isinstance(raw, str) else raw[-1]))
    except ValueError:
        raise ValueError(f"history.url: timeout={raw!r} is not a number of seconds") from None


ENGINE = SQLiteEngine()
