"""A check's observed value as a person reads it: with its unit, human-sized, never a bare float.

Soda reports every check's measurement as one number: hours for `freshness`, rows for `row_count`,
a count of rows for `missing`/`invalid`/`duplicate`/`failed_rows`, a value for `aggregate`/`metric`.
Printed as it is, a freshness check showed "*Failing rows:* 31.5192". Here each kind gets its unit,
and only the kinds that count failing rows have a "failing rows" figure at all.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from datahealth.core.durations import format_duration
from datahealth.core.results import CheckResult

# check type → the diagnostic holding its count of failing rows
ROW_COUNTING = {
    "missing": "missing_count",
    "invalid": "invalid_count",
    "duplicate": "duplicate_count",
    "failed_rows": "failed_rows_count",
}
_SECONDS_PER_UNIT = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}


def observed_text(check: CheckResult) -> str | None:
    """`31h 31m old`, `1,204 rows`, `25 rows (0.38% of 6,578)`, `12.5`; None when nothing was measured."""
    value = check.observed_value
    if value is None:
        return None
    if check.check_type == "freshness":
        unit = str(check.details.get("unit") or "hour").rstrip("s")
        seconds = value * _SECONDS_PER_UNIT.get(unit, 3600)
        return f"{format_duration(timedelta(seconds=seconds))} old"
    if check.check_type == "row_count":
        return rows(value)
    if check.check_type in ROW_COUNTING:
        return failing_rows(check)
    return number(value)


def failing_rows(check: CheckResult) -> str | None:
    """How many rows fail a row-counting check, with their share when Soda measured it; None otherwise."""
    key = ROW_COUNTING.get(check.check_type)
    if key is None:
        return None
    diagnostics: dict[str, Any] = check.details.get("diagnostics") or {}
    count = diagnostics.get(key, check.observed_value)
    if not isinstance(count, int | float):
        return None
    text = rows(count)
    percent = diagnostics.get(f"{check.check_type}_percent")
    tested = diagnostics.get("check_rows_tested")
    if isinstance(percent, int | float):
        of = f" of {int(tested):,}" if isinstance(tested, int | float) else ""
        text += f" ({percent:.2g}%{of})" if percent < 1 else f" ({percent:.1f}%{of})"
    return text


def rows(count: float) -> str:
    whole = int(count)
    return f"{whole:,} row{'s' if whole != 1 else ''}"


def number(value: float) -> str:
    """Whole numbers with separators; others to four significant digits (`0.01523`, `1,234`, `3.142`)."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
