"""What the history store knows that generated checks need: the accepted schema and learned row-count bounds.

Soda's open-source core has no memory between scans (schema-change and anomaly checks need Soda Cloud);
our history store is that memory. This module only reads it and turns it into plain values, so contract
generation stays pure and testable without a database.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from datahealth.config.models import DatasetConfig
from datahealth.core.results import ColumnInfo, Status, StoredObservation
from datahealth.store import HistoryStore, read

TRAINING_WINDOW = timedelta(days=28)
MARGIN_RATIO = 0.05  # bounds are never tighter than ±5 % of the last row count
MIN_MARGIN_ROWS = 10


@dataclass(frozen=True)
class RowCountBounds:
    """An expected row-count band for this run, learned from one count per day of recent history."""

    lower: int
    upper: int
    days: int
    last_count: int
    last_as_of: datetime
    daily_change_min: int
    daily_change_max: int

    def explain(self) -> str:
        return (
            f"learned from {self.days} days of history: {self.last_count:,} rows at {self.last_as_of:%Y-%m-%d %H:%M}, "
            f"daily change {self.daily_change_min:+,} to {self.daily_change_max:+,}"
        )


@dataclass(frozen=True)
class HistoryBaselines:
    """Inputs for generated checks; `None` means history cannot tell yet (the note says why)."""

    accepted_columns: tuple[ColumnInfo, ...] | None = None
    row_count_bounds: RowCountBounds | None = None
    row_count_note: str = ""


def load_baselines(store: HistoryStore | None, dataset: DatasetConfig, as_of: datetime) -> HistoryBaselines:
    """Read the accepted schema and the row-count history of `dataset` before `as_of` (two small queries)."""
    if store is None:
        return HistoryBaselines(row_count_note="no history store")
    switches = dataset.checks
    columns = accepted_columns(store, dataset.name, as_of) if switches.schema_check else None
    if not switches.row_count_bounds:
        return HistoryBaselines(columns)
    history = read.observation_history(store, [dataset.name], since=as_of - TRAINING_WINDOW, until=as_of)[
        dataset.name
    ]
    bounds, note = learn_row_count_bounds(history, as_of, switches.row_count_min_days)
    return HistoryBaselines(columns, bounds, note)


def accepted_columns(
    store: HistoryStore, dataset: str, as_of: datetime | None = None
) -> tuple[ColumnInfo, ...] | None:
    """The columns of the dataset's most recently accepted schema snapshot, or None before the first one."""
    return read.accepted_schemas(store, [dataset], as_of).get(dataset) or None


def learn_row_count_bounds(
    history: list[StoredObservation], as_of: datetime, min_days: int
) -> tuple[RowCountBounds | None, str]:
    """Bounds for the row count at `as_of` from the last count of each earlier day.

    Per-day points (not per-run) keep a 15-minute metadata tier from teaching "nothing ever changes":
    the band runs from the last count plus the smallest daily change to the last count plus the largest
    daily change times the days since that count, widened by the spread of daily changes and by at
    least 5 %. Coarse on purpose: it catches truncated, reloaded or exploded tables, while the anomaly
    detector judges the finer movements.
    """
    per_day: dict[date, StoredObservation] = {}
    for obs in history:
        if obs.as_of < as_of and obs.row_count is not None and obs.status != Status.UNKNOWN:
            per_day[obs.as_of.date()] = obs  # history is oldest first: the day's last count wins
    if len(per_day) < min_days:
        return None, f"row_count bounds need {min_days} days of history, {len(per_day)} so far"
    points = [per_day[d] for d in sorted(per_day)]
    counts = [int(p.row_count or 0) for p in points]
    changes = [b - a for a, b in zip(counts, counts[1:], strict=False)]
    last = points[-1]
    low_change, high_change = min(changes), max(changes)
    margin = max(
        high_change - low_change,
        math.ceil(abs(counts[-1]) * MARGIN_RATIO),
        MIN_MARGIN_ROWS,
        int(abs(statistics.median(changes))),
    )
    days_since = max(1, math.ceil((as_of - last.as_of).total_seconds() / 86400))
    lower = max(0, counts[-1] + min(0, low_change) * days_since - margin)
    upper = counts[-1] + max(0, high_change) * days_since + margin
    bounds = RowCountBounds(lower, upper, len(points), counts[-1], last.as_of, low_change, high_change)
    return bounds, bounds.explain()
