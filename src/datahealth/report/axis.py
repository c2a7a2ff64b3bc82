"""The report's shared time axis: one point per run, or per time bucket when there are too many runs.

Every per-dataset series in the report is an array indexed by this axis, so the page carries the
timestamps once instead of once per dataset. A project with a 15-minute metadata tier has thousands
of runs a month; those are grouped into at most `max_points` equal time buckets, and each dataset
shows its newest value in a bucket (the value a reader would have seen at that time). Only the runs
that can hold such a value are read: the newest run of each tier in each bucket (a tier's runs cover
the same datasets), and every run without a tier (an ad-hoc selection).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class TimeAxis:
    points: list[datetime] = field(default_factory=list)
    run_index: dict[str, int] = field(default_factory=dict)
    shown_runs: list[str] = field(default_factory=list)  # the runs whose records the report reads

    def __len__(self) -> int:
        return len(self.points)

    def index(self, run_id: str | None) -> int | None:
        return None if run_id is None else self.run_index.get(run_id)


def build_axis(
    runs: Sequence[tuple[str, datetime, str | None]], start: datetime, end: datetime, max_points: int
) -> TimeAxis:
    """Place the window's runs, given as (run id, as-of, tier), on at most `max_points` points."""
    ordered = sorted(runs, key=lambda r: (r[1], r[0]))
    distinct = sorted({as_of for _, as_of, _ in ordered})
    if len(distinct) <= max_points:
        position = {as_of: i for i, as_of in enumerate(distinct)}
        return TimeAxis(
            distinct,
            {run_id: position[as_of] for run_id, as_of, _ in ordered},
            [run_id for run_id, _, _ in ordered],
        )
    span = max((end - start).total_seconds(), 1.0) / max_points
    buckets: dict[int, datetime] = {}
    keyed: list[tuple[str, int]] = []
    newest: dict[tuple[int, str], str] = {}  # (bucket, tier) -> its newest run
    shown: list[str] = []
    for run_id, as_of, tier in ordered:
        key = min(max(int((as_of - start).total_seconds() // span), 0), max_points - 1)
        buckets[key] = max(buckets.get(key, as_of), as_of)
        keyed.append((run_id, key))
        if tier is None:
            shown.append(run_id)
        else:
            newest[(key, tier)] = run_id
    keys = sorted(buckets)
    slot = {key: i for i, key in enumerate(keys)}
    return TimeAxis(
        [buckets[k] for k in keys],
        {run_id: slot[key] for run_id, key in keyed},
        shown + list(newest.values()),
    )
