"""Column kinds: which statistics make sense for a column, decided from its catalog type name.

Catalogs spell types differently (`double precision` in PostgreSQL, `DOUBLE` in DuckDB, anything at all
in SQLite), so the profiler never branches on raw type names: it maps each one to a `ColumnKind` once,
here, and every dialect builds its expressions per kind.
"""

from __future__ import annotations

import re
from enum import StrEnum


class ColumnKind(StrEnum):
    INTEGER = "integer"
    DECIMAL = "decimal"
    FLOAT = "float"
    TEXT = "text"
    BOOLEAN = "boolean"
    TEMPORAL = "temporal"
    OTHER = "other"

    @property
    def numeric(self) -> bool:
        return self in (ColumnKind.INTEGER, ColumnKind.DECIMAL, ColumnKind.FLOAT)


_NESTED = re.compile(r"\[|\barray\b|^(struct|map|union|list)\b")
_INTEGER = {
    "integer",
    "int",
    "int2",
    "int4",
    "int8",
    "int16",
    "int32",
    "int64",
    "int128",
    "bigint",
    "smallint",
    "tinyint",
    "hugeint",
    "uhugeint",
    "ubigint",
    "uinteger",
    "usmallint",
    "utinyint",
    "mediumint",
    "serial",
    "bigserial",
    "smallserial",
    "long",
    "short",
    "signed",
    "unsigned",
    "byteint",
}
_DECIMAL = {"decimal", "numeric", "number", "dec", "bignum", "varint"}
_FLOAT = {"double", "float", "float4", "float8", "real", "double precision", "binary_float", "binary_double"}
_TEXT = {
    "varchar",
    "character varying",
    "text",
    "char",
    "character",
    "bpchar",
    "string",
    "nvarchar",
    "nchar",
    "clob",
    "nclob",
    "tinytext",
    "mediumtext",
    "longtext",
    "citext",
    "name",
    "varchar2",
    "nvarchar2",
    "str",
}
_BOOLEAN = {"boolean", "bool", "logical"}
_TEMPORAL_PREFIXES = ("timestamp", "datetime", "date", "time", "smalldatetime", "datetime2", "datetimeoffset")


def base_type(data_type: str) -> str:
    """`character varying(20)` → `character varying`; `DECIMAL(18, 2)` → `decimal`."""
    return re.sub(r"\s*\(.*\)\s*", " ", data_type.strip().lower()).strip()


def column_kind(data_type: str, dialect: str = "") -> ColumnKind:
    """The kind of a column from its catalog type; unknown or nested types are OTHER (null counts only)."""
    text = data_type.strip().lower()
    if not text:
        return ColumnKind.OTHER
    if _NESTED.search(text):
        return ColumnKind.OTHER
    if dialect == "sqlite":
        return _sqlite_kind(text)
    base = base_type(text)
    if base.startswith("interval"):
        return ColumnKind.OTHER
    if base in _BOOLEAN:
        return ColumnKind.BOOLEAN
    if base in _INTEGER:
        return ColumnKind.INTEGER
    if base in _DECIMAL:
        return ColumnKind.DECIMAL
    if base in _FLOAT or base.startswith("double"):
        return ColumnKind.FLOAT
    if base in _TEXT or base.startswith(("varchar", "character", "nvarchar")):
        return ColumnKind.TEXT
    if base.startswith(_TEMPORAL_PREFIXES):
        return ColumnKind.TEMPORAL
    return ColumnKind.OTHER


def _sqlite_kind(text: str) -> ColumnKind:
    """SQLite's type-affinity rules (https://sqlite.org/datatype3.html §3.1), plus BOOLEAN and dates."""
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


def is_timezone_aware(data_type: str) -> bool:
    """Whether a temporal type stores an instant (compare it with aware datetimes) or a wall-clock time."""
    text = data_type.lower()
    return "with time zone" in text or "timestamptz" in text or text.startswith("datetimeoffset")
