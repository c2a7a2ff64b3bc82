"""Raw aggregate values → the JSON-friendly `ColumnProfile.stats` dict documented in docs/profiling.md.

Drivers return Decimals, numpy-free floats, datetimes and lists; the history store, the CLI and the
report want plain JSON values with the same meaning on every engine. Derived values (null ratio, true
ratio, SQLite's stddev from sums of squares) are computed here so the SQL stays one flat aggregate list.
"""

from __future__ import annotations

import json
import math
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from datahealth.engines.profile_sql import QUANTILE_KEYS
from datahealth.engines.types import ColumnKind

MAX_TEXT_VALUE = 200  # longer min/max strings are cut, and the stats say so


def column_stats(
    kind: ColumnKind,
    raw: dict[str, Any],
    row_count: int,
    distinct_method: str,
    quantile_fraction: float | None = None,
) -> dict[str, Any]:
    """The stats of one column from its raw aggregate values (keys as built by `ProfileDialect`)."""
    non_null = int(raw.get("non_null_count") or 0)
    nulls = row_count - non_null
    stats: dict[str, Any] = {
        "kind": kind.value,
        "non_null_count": non_null,
        "null_count": nulls,
        "null_ratio": nulls / row_count if row_count else None,
    }
    if "distinct_count" in raw:
        distinct = int(raw["distinct_count"] or 0)
        # A sketch may overshoot; a column cannot have more distinct values than non-null ones.
        stats["distinct_count"] = min(distinct, non_null)
        stats["distinct_method"] = distinct_method
    if kind.numeric:
        stats.update(_numeric(raw, quantile_fraction))
    elif kind == ColumnKind.TEXT:
        stats.update(_text(raw))
    elif kind == ColumnKind.BOOLEAN:
        true_count = int(raw.get("true_count") or 0)
        stats.update(
            true_count=true_count,
            false_count=non_null - true_count,
            true_ratio=true_count / non_null if non_null else None,
        )
    elif kind == ColumnKind.TEMPORAL:
        stats.update(min=plain(raw.get("min")), max=plain(raw.get("max")))
    return stats


def _numeric(raw: dict[str, Any], quantile_fraction: float | None) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "min": number(raw.get("min")),
        "max": number(raw.get("max")),
        "mean": as_float(raw.get("mean")),
    }
    stats["stddev"] = as_float(raw["stddev"]) if "stddev" in raw else _stddev_from_sums(raw)
    if "quantiles" in raw:
        values = raw["quantiles"]
        if isinstance(values, str):  # drivers that return arrays as JSON text (Snowflake)
            values = json.loads(values)
        stats["quantiles"] = (
            {key: number(v) for key, v in zip(QUANTILE_KEYS, values, strict=True)}
            if values is not None
            else None
        )
        stats["quantiles_method"] = "approx" if quantile_fraction is None else "approx_subsample"
    for key in ("nan_count", "inf_count"):
        if key in raw:
            stats[key] = int(raw[key] or 0)
    return stats


def _stddev_from_sums(raw: dict[str, Any]) -> float | None:
    """Sample standard deviation from n, Σx and Σx² (engines without stddev_samp, i.e. SQLite)."""
    n = int(raw.get("_n") or 0)
    total, squares = as_float(raw.get("_sum")), as_float(raw.get("_sum_squares"))
    if n < 2 or total is None or squares is None:
        return None
    variance = (squares - total * total / n) / (n - 1)
    return math.sqrt(max(variance, 0.0)) if math.isfinite(variance) else None


def _text(raw: dict[str, Any]) -> dict[str, Any]:
    stats: dict[str, Any] = {}
    for key in ("min", "max"):
        value = raw.get(key)
        if isinstance(value, str) and len(value) > MAX_TEXT_VALUE:
            value = value[:MAX_TEXT_VALUE]
            stats[f"{key}_truncated"] = True
        stats[key] = plain(value)
    stats.update(
        min_length=_int(raw.get("min_length")),
        max_length=_int(raw.get("max_length")),
        mean_length=as_float(raw.get("mean_length")),
        empty_count=int(raw.get("empty_count") or 0),
    )
    return stats


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def as_float(value: Any) -> float | None:
    if value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def number(value: Any) -> Any:
    """Decimals become int (when integral and in int64 range) or float so JSON consumers get numbers."""
    if isinstance(value, Decimal):
        if value.is_finite() and value == value.to_integral_value() and abs(value) < 2**63:
            return int(value)
        return float(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    return plain(value)


def plain(value: Any) -> Any:
    """Temporal values as ISO 8601 text, everything else unchanged when JSON can hold it, else text."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)
