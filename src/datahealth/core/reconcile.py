"""The records a reconciliation passes from the sources (which count) to the rule (which judges).

They live in `core` because both layers use them: `sources/window.py` fills a `SideCount` for a
`Window`, and `rules/reconcile.py` decides which window and what the two counts mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Window:
    """A half-open time window [start, end), in UTC, with how people name it."""

    start: datetime
    end: datetime
    label: str


@dataclass(frozen=True)
class SideCount:
    """One side's count over the window: rows (or messages) and, when asked, a key column's sum or distinct count."""

    dataset: str
    rows: int
    measure: float | None = None
    method: str = ""  # how it was counted: "count over event_ts", "file footers", "offsets"
    unit: str = "rows"
