"""Column kinds per engine: the catalog's type name decides which statistics a column gets."""

from __future__ import annotations

import pytest

from datahealth import engines
from datahealth.engines.types import ColumnKind, is_timezone_aware


@pytest.mark.parametrize(
    ("data_type", "backend", "kind"),
    [
        ("integer", "duckdb", ColumnKind.INTEGER),
        ("hugeint", "duckdb", ColumnKind.INTEGER),
        ("decimal(18,2)", "duckdb", ColumnKind.DECIMAL),
        ("numeric(12,2)", "postgresql", ColumnKind.DECIMAL),
        ("double precision", "postgresql", ColumnKind.FLOAT),
        ("float", "duckdb", ColumnKind.FLOAT),
        ("character varying(20)", "postgresql", ColumnKind.TEXT),
        ("varchar", "duckdb", ColumnKind.TEXT),
        ("boolean", "postgresql", ColumnKind.BOOLEAN),
        ("timestamp with time zone", "duckdb", ColumnKind.TEMPORAL),
        ("date", "postgresql", ColumnKind.TEMPORAL),
        ("time without time zone", "postgresql", ColumnKind.TEMPORAL),
        ("interval", "postgresql", ColumnKind.OTHER),
        ("integer[]", "duckdb", ColumnKind.OTHER),
        ("struct(a integer)", "duckdb", ColumnKind.OTHER),
        ("map(varchar, integer)", "duckdb", ColumnKind.OTHER),
        ("uuid", "postgresql", ColumnKind.OTHER),
        ("jsonb", "postgresql", ColumnKind.OTHER),
        ("point", "postgresql", ColumnKind.OTHER),
        ("bit(3)", "postgresql", ColumnKind.OTHER),
        ("", "sqlite", ColumnKind.OTHER),
        ("BIGINT", "sqlite", ColumnKind.INTEGER),
        ("VARCHAR(10)", "sqlite", ColumnKind.TEXT),
        ("DOUBLE", "sqlite", ColumnKind.FLOAT),
        ("DATETIME", "sqlite", ColumnKind.TEMPORAL),
        ("NUMERIC", "sqlite", ColumnKind.DECIMAL),
        ("BLOB", "sqlite", ColumnKind.OTHER),
    ],
)
def test_column_kinds(data_type: str, backend: str, kind: ColumnKind) -> None:
    assert engines.for_backend(backend).column_kind(data_type) == kind


def test_timezone_awareness() -> None:
    assert is_timezone_aware("timestamp with time zone") and is_timezone_aware("TIMESTAMPTZ")
    assert not is_timezone_aware("timestamp without time zone") and not is_timezone_aware("timestamp")
