"""The report's shared time axis: one point per run, or per time bucket when there are too many runs.

Every per-dataset series in the report is an array indexed by this axis, so the page carries the
timestamps once instead of once per dataset. A project with a 15-minute metadata tier has thousands
of runs a month; those are grouped into at most `max_points` equal time buckets, and each dataset
shows its newest value in a bucket (the value a reader would have seen at that time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class TimeAxis:
    points: list[datetime] = field(default_factory=list)
    run_index: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.points)

    def index(self, run_id: str | None) -> int | None:
        return None if run_id is None else self.run_index.get(run_id)


def build_axis(runs: Sequence[tuple[str, datetime]], start: datetime, end: datetime, max_points: int) -> TimeAxis:
    """Map run ids to axis points; `runs` are (run id, as-of) pairs inside [start, end]."""
    ordered = sorted(runs, key=lambda r: r[1])
    distinct = sorted({as_of for _, as_of in ordered})
    if len(distinct) <= max_points:
        position = {as_of: i for i, as_of in enumerate(distinct)}
        return TimeAxis(distinct, {run_id: position[as_of] for run_id, as_of in ordered})
    span = max((end - start).total_seconds(), 1.0) / max_points
    buckets: dict[int, datetime] = {}
    keyed: list[tuple[str, int]] = []
    for run_id, as_of in ordered:
        key = min(max(int((as_of - start).total_seconds() // span), 0), max_points - 1)
        buckets[key] = max(buckets.get(key, as_of), as_of)
        keyed.append((run_id, key))
    keys = sorted(buckets)
    slot = {key: i for i, key in enumerate(keys)}
    return TimeAxis([buckets[k] for k in keys], {run_id: slot[key] for run_id, key in keyed})
