"""The Soda type map: catalog types as the data_type keys of a generated schema check."""

from __future__ import annotations

from typing import Any

import pytest

from datahealth import engines
from datahealth.core.results import ColumnInfo


@pytest.mark.parametrize(
    ("catalog_type", "expected"),
    [
        ("bigint", {"data_type": "bigint"}),
        ("numeric(12,2)", {"data_type": "numeric", "numeric_precision": 12, "numeric_scale": 2}),
        ("decimal(10, 2)", {"data_type": "decimal", "numeric_precision": 10, "numeric_scale": 2}),
        ("numeric(7)", {"data_type": "numeric", "numeric_precision": 7}),
        ("character varying(255)", {"data_type": "character varying", "character_maximum_length": 255}),
        ("character(3)", {"data_type": "character", "character_maximum_length": 3}),
        (
            "timestamp(3) without time zone",
            {"data_type": "timestamp without time zone", "datetime_precision": 3},
        ),
        ("timestamp with time zone", {"data_type": "timestamp with time zone"}),
        ("struct(a integer, b decimal(10,2))", {"data_type": "struct"}),
        ("enum('ok', 'sad')", {"data_type": "enum"}),
        ("float(24)", {"data_type": "float"}),
        ("integer[]", {}),
    ],
)
def test_catalog_types_become_contract_data_types(catalog_type: str, expected: dict[str, Any]) -> None:
    for engine in (engines.POSTGRES, engines.DUCKDB, engines.ANSI):
        assert engine.soda_data_type(ColumnInfo("c", catalog_type)) == expected
