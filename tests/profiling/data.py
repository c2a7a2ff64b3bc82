"""Generated test data for profiling, its loaders (DuckDB, PostgreSQL, Parquet, SQLite) and the expected
statistics computed independently in plain Python (never by datahealth's query builder).

The data is hostile on purpose: NaN and ±infinity, int64 extremes, empty strings, astral-plane unicode,
a text longer than the stats keep, an all-null column, and identifiers with quotes, spaces, reserved
words, mixed case and unicode (a column is even named like one of the profile's own result labels).
"""

from __future__ import annotations

import math
import random
import sqlite3
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import duckdb
import psycopg

TABLE = "Hostile \"T\" 'x'; DROP TABLE t; --"
LONG_TEXT = "\U0001d518" * 250  # astral-plane letters: sorts last, longer than the 200 characters kept
ANCHOR = datetime(2026, 1, 1)
WINDOW_START = datetime(2026, 1, 2, 12)
WINDOW_END = datetime(2026, 1, 3, 12)


@dataclass(frozen=True)
class Column:
    name: str
    duckdb: str
    postgres: str
    sqlite: str
    kind: str


COLUMNS = (
    Column("n_rows", "INTEGER", "integer", "INTEGER", "integer"),  # named like the profile's row-count label
    Column("Mixed Case", "BIGINT", "bigint", "INTEGER", "integer"),
    Column("select", "DOUBLE", "double precision", "REAL", "float"),
    Column("we\"ird 'name'", "VARCHAR", 'text COLLATE "en-US-x-icu"', "TEXT", "text"),  # not byte order
    Column("naïve ü", "DECIMAL(18,4)", "numeric(18,4)", "NUMERIC", "decimal"),
    Column("flag", "BOOLEAN", "boolean", "BOOLEAN", "boolean"),
    Column("ts", "TIMESTAMP", "timestamp", "DATETIME", "temporal"),
    Column("day", "DATE", "date", "DATE", "temporal"),
    Column("all_null", "INTEGER", "integer", "INTEGER", "integer"),
    Column("c0_min", "SMALLINT", "smallint", "INTEGER", "integer"),  # named like a generated stat label
)
NAMES = tuple(c.name for c in COLUMNS)
TEXTS = ("", "naïve", "日本語", "emoji 👍🏽", "it's", 'say "hi"', "a", "Zeta", "zeta", "x" * 40, " ")


def generate(rows: int = 400, seed: int = 7, nan: bool = True) -> list[tuple[Any, ...]]:
    """Rows in COLUMNS order. `nan=False` for SQLite, which stores NaN as NULL."""
    rng = random.Random(seed)
    out = []
    for i in range(rows):
        big: int | None = rng.randint(-1_000_000, 1_000_000) if rng.random() > 0.1 else None
        if i == 0:
            big = -(2**63)
        elif i == 1:
            big = 2**63 - 1
        double: float | None = rng.uniform(-1e6, 1e6) if rng.random() > 0.05 else None
        double = {2: math.nan, 3: math.inf, 4: -math.inf, 5: 1e15, 6: -1e-300, 7: math.nan, 11: 0.0}.get(
            i, double
        )
        if not nan and double is not None and math.isnan(double):
            double = None
        text: str | None = rng.choice(TEXTS) if rng.random() > 0.1 else None
        if i == 12:
            text = LONG_TEXT
        decimal: Decimal | None = (
            Decimal(rng.randint(-(10**18) + 1, 10**18 - 1)) / 10_000 if rng.random() > 0.1 else None
        )
        if i == 8:
            decimal = Decimal("99999999999999.9999")
        flag = rng.random() < 0.3 if rng.random() > 0.15 else None
        ts: datetime | None = (
            ANCHOR + timedelta(seconds=rng.randint(0, 3 * 86400)) if rng.random() > 0.05 else None
        )
        ts = {9: WINDOW_START, 10: WINDOW_END}.get(i, ts)
        day = date(2026, 1, 1) + timedelta(days=rng.randint(0, 400)) if rng.random() > 0.05 else None
        small = rng.randint(-32768, 32767) if rng.random() > 0.2 else None
        out.append((i + 1, big, double, text, decimal, flag, ts, day, None, small))
    return out


def in_window(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The rows a `window: 1d` profile as of WINDOW_END must see: WINDOW_START < ts <= WINDOW_END."""
    index = NAMES.index("ts")
    return [r for r in rows if r[index] is not None and WINDOW_START < r[index] <= WINDOW_END]


# --- loaders ---------------------------------------------------------------------------------------------


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _insert(table: str, marker: str) -> str:
    """Fixture SQL: the table name is quoted, the values are bound."""
    return f"INSERT INTO {quote(table)} VALUES ({', '.join([marker] * len(COLUMNS))})"  # noqa: S608


def _ddl(table: str, engine: str) -> str:
    columns = ", ".join(f"{quote(c.name)} {getattr(c, engine)}" for c in COLUMNS)
    return f"CREATE TABLE {quote(table)} ({columns})"


def load_duckdb(path: Path, rows: list[tuple[Any, ...]], table: str = TABLE) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute(_ddl(table, "duckdb"))
        if rows:
            con.executemany(_insert(table, "?"), rows)


def write_parquet(path: Path, rows: list[tuple[Any, ...]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute(_ddl("t", "duckdb"))
        if rows:
            con.executemany(_insert("t", "?"), rows)
        con.execute(f"COPY t TO '{str(path).replace(chr(39), chr(39) * 2)}' (FORMAT parquet)")


def load_postgres(dsn: str, rows: list[tuple[Any, ...]], table: str = TABLE) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(_ddl(table, "postgres"))  # type: ignore[arg-type]  (test fixture DDL)
        if rows:
            with conn.cursor() as cur:
                cur.executemany(_insert(table, "%s"), rows)  # type: ignore[arg-type]


def sqlite_rows(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """SQLite stores what it gets: decimals as REAL, timestamps and dates as ISO text."""
    converted = []
    for row in rows:
        values = list(row)
        for i, value in enumerate(values):
            if isinstance(value, Decimal):
                values[i] = float(value)
            elif isinstance(value, datetime):
                values[i] = value.isoformat(sep=" ")
            elif isinstance(value, date):
                values[i] = value.isoformat()
            elif isinstance(value, bool):
                values[i] = int(value)
        converted.append(tuple(values))
    return converted


def load_sqlite(path: Path, rows: list[tuple[Any, ...]], table: str = TABLE) -> None:
    with sqlite3.connect(path) as con:
        con.execute(_ddl(table, "sqlite"))
        con.executemany(_insert(table, "?"), sqlite_rows(rows))


# --- expected statistics, in plain Python ------------------------------------------------------------------


def expected(rows: list[tuple[Any, ...]], column: str, engine: str) -> dict[str, Any]:
    """The stats the profile must report for `column` over `rows`; `engine` decides which keys exist."""
    spec = COLUMNS[NAMES.index(column)]
    index = NAMES.index(column)
    values = [r[index] for r in rows if r[index] is not None]
    n = len(rows)
    stats: dict[str, Any] = {
        "kind": spec.kind,
        "non_null_count": len(values),
        "null_count": n - len(values),
        "null_ratio": (n - len(values)) / n if n else None,
        "distinct_count": len({_distinct_key(v) for v in values}),
        "distinct_method": "exact",
    }
    if spec.kind in ("integer", "decimal", "float"):
        finite = [v for v in values if not isinstance(v, float) or math.isfinite(v)]
        stats["min"] = _number(min(finite)) if finite else None
        stats["max"] = _number(max(finite)) if finite else None
        stats["mean"] = float(sum(Fraction(v) for v in finite) / len(finite)) if finite else None
        stats["stddev"] = float(statistics.stdev([Fraction(v) for v in finite])) if len(finite) > 1 else None
        special = spec.kind == "float" or (spec.kind == "decimal" and engine == "postgresql")
        if special and engine in ("duckdb", "postgresql"):  # SQLite cannot store NaN, ANSI cannot test for it
            stats["nan_count"] = sum(1 for v in values if isinstance(v, float) and math.isnan(v))
        if special and engine != "ansi":
            stats["inf_count"] = sum(1 for v in values if isinstance(v, float) and math.isinf(v))
        if engine == "duckdb":
            stats["quantiles"] = "checked separately"
            stats["quantiles_method"] = "approx"
    elif spec.kind == "text":
        for key, value in (("min", min(values, default=None)), ("max", max(values, default=None))):
            if value is not None and len(value) > 200:
                stats[f"{key}_truncated"] = True
                value = value[:200]
            stats[key] = value
        lengths = [len(v) for v in values]
        stats.update(
            min_length=min(lengths, default=None),
            max_length=max(lengths, default=None),
            mean_length=statistics.fmean(lengths) if lengths else None,
            empty_count=sum(1 for v in values if v == ""),
        )
    elif spec.kind == "boolean":
        true_count = sum(1 for v in values if v)
        stats.update(
            true_count=true_count,
            false_count=len(values) - true_count,
            true_ratio=true_count / len(values) if values else None,
        )
    elif spec.kind == "temporal":
        if engine == "sqlite":
            shown = [v.isoformat(sep=" ") if isinstance(v, datetime) else v.isoformat() for v in values]
            stats.update(min=min(shown, default=None), max=max(shown, default=None))
        else:
            stats.update(
                min=min(values).isoformat() if values else None,
                max=max(values).isoformat() if values else None,
            )
    return stats


def _distinct_key(value: Any) -> Any:
    return "NaN" if isinstance(value, float) and math.isnan(value) else value


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 2**63 else float(value)
    return value


def assert_stats(actual: dict[str, Any], wanted: dict[str, Any], column: str, rel: float = 1e-9) -> None:
    """Every expected key present and equal (floats to `rel`), and no key the test does not know about."""
    assert set(actual) == set(wanted), f"{column}: keys differ: {set(actual) ^ set(wanted)}"
    for key, value in wanted.items():
        if key == "quantiles":
            continue
        got = actual[key]
        if isinstance(value, float) and isinstance(got, int | float) and not isinstance(got, bool):
            assert math.isclose(got, value, rel_tol=rel, abs_tol=1e-300), f"{column}.{key}: {got} != {value}"
        else:
            assert got == value, f"{column}.{key}: {got!r} != {value!r}"
