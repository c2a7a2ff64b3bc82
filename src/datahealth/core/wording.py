"""Counted nouns in messages: "1 dataset", "2 datasets", "1 check failed" - never "1 datasets"."""

from __future__ import annotations

import math

IRREGULAR = {"was": "were", "is": "are", "has": "have", "entry": "entries", "query": "queries"}


def plural(count: int, noun: str, many: str | None = None) -> str:
    """`count` and `noun`, in its plural form (`many`, a known irregular one, or noun + "s") unless 1."""
    if count == 1:
        return f"{count:,} {noun}"
    return f"{count:,} {many or IRREGULAR.get(noun) or noun + 's'}"


def format_number(value: int | float | None) -> str:
    """A number as people read it, the same in the report and the terminal: whole numbers with thousands
    separators (`1,234,567`), others rounded to what matters (`1,234.6`, `0.0123`), `-` when missing."""
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}" if abs(value) >= 100 else f"{value:.3g}"
