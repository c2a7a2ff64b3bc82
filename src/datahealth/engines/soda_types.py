"""The Soda type map: our catalog's type text as the `data_type` keys of a contract's schema check.

Soda compares a column's type by name plus length, precision and scale, read from its own metadata query.
The map below fits the type names PostgreSQL and DuckDB report (and the SQL standard's); an engine whose
catalog spells types otherwise overrides `SqlEngine.soda_data_type` in its own module.
"""

from __future__ import annotations

import re
from typing import Any

from datahealth.core.results import ColumnInfo

_NUMERIC_TYPES = {"numeric", "decimal", "number"}
_CHARACTER_TYPES = {
    "character varying",
    "varchar",
    "character",
    "char",
    "bpchar",
    "nvarchar",
    "nchar",
    "bit",
    "bit varying",
    "varbit",
}
_PARAMETRISED = re.compile(r"^(?P<head>[^(]*?)\s*\((?P<args>.*)\)(?P<tail>[^()]*)$")
_NUMBERS = re.compile(r"\d+(\s*,\s*\d+)?")


def ansi_soda_data_type(column: ColumnInfo) -> dict[str, Any]:
    """Our catalog's type text as contract keys: `numeric(12,2)` → data_type numeric, precision 12, scale 2.

    Soda compares only the name of other parametrised types (`struct(a integer)`, `map(…)`, `enum(…)` are
    `struct`, `map`, `enum` to it), so those keep only their name. Arrays get no `data_type` at all
    (PostgreSQL's metadata says just "array"): the schema check then verifies presence only, because a
    wrong guess would fail every run.
    """
    text = " ".join(column.data_type.lower().split())
    if not text or text.endswith("]"):
        return {}
    match = _PARAMETRISED.match(text)
    if not match:
        return {"data_type": text}
    name = " ".join(f"{match['head']} {match['tail']}".split())
    if not _NUMBERS.fullmatch(match["args"]):
        return {"data_type": name}
    args = [int(a) for a in match["args"].split(",")]
    if name in _NUMERIC_TYPES:
        keys = {"numeric_precision": args[0]} | ({"numeric_scale": args[1]} if len(args) > 1 else {})
        return {"data_type": name, **keys}
    if name in _CHARACTER_TYPES and len(args) == 1:
        return {"data_type": name, "character_maximum_length": args[0]}
    if name.startswith("time") and len(args) == 1:
        return {"data_type": name, "datetime_precision": args[0]}
    return {"data_type": name}
