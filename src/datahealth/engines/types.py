"""Column kinds: which statistics make sense for a column, decided from its catalog type name.

Catalogs spell types differently (`double precision` in PostgreSQL, `DOUBLE` in DuckDB, anything at all
in SQLite), so the profiler never branches on raw type names: each engine maps them to a `ColumnKind`
once (`SqlEngine.column_kind`), and builds its profile expressions per kind. `ansi_column_kind` is the map
for the type names the SQL standard and most engines share; an engine with other rules (SQLite's type
affinity) overrides it in its own module.
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


NESTED_TYPE = re.compile(r"\[|\barray\b|^(struct|map|union|list)\b")
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


def ansi_column_kind(data_type: str) -> ColumnKind:
    """The kind of a column from its catalog type; unknown or nested types are OTHER (null counts only)."""
    text = data_type.strip().lower()
    if not text or NESTED_TYPE.search(text):
        return ColumnKind.OTHER
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


def is_timezone_aware(data_type: str) -> bool:
    """Whether a temporal type stores an instant (compare it with aware datetimes) or a wall-clock time."""
    text = data_type.lower()
    return "with time zone" in text or "timestamptz" in text or text.startswith("datetimeoffset")
