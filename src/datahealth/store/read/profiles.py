"""Column profiles as read back: each dataset's latest, the history anomaly rules judge, chart points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from datahealth.rules.anomaly import ColumnPoint
from datahealth.store.read.base import (
    Reader,
    RunWindow,
    as_datetime,
    as_dict,
    connect,
    newest_per_dataset,
    newest_set,
    window_rows,
)
from datahealth.store.tables import profiles


@dataclass(frozen=True)
class StoredColumnProfile:
    """A row of `profiles`: one column of one profile, with what the profile as a whole measured."""

    observation_id: int
    run_id: str
    dataset: str
    as_of: datetime
    column: str
    column_type: str | None = None
    row_count: int | None = None
    null_count: int | None = None
    null_ratio: float | None = None
    distinct_count: int | None = None
    distinct_method: str | None = None
    min_value: str | None = None
    max_value: str | None = None
    mean: float | None = None
    stddev: float | None = None
    sampled: bool = False
    sample: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def stored_column_profile(row: Any) -> StoredColumnProfile:
    """The one mapping of a `profiles` row."""
    return StoredColumnProfile(
        observation_id=int(row["observation_id"]),
        run_id=row["run_id"],
        dataset=row["dataset"],
        as_of=as_datetime(row["as_of"]) or row["as_of"],
        column=row["column_name"],
        column_type=row["column_type"],
        row_count=row["row_count"],
        null_count=row["null_count"],
        null_ratio=row["null_ratio"],
        distinct_count=row["distinct_count"],
        distinct_method=row["distinct_method"],
        min_value=row["min_value"],
        max_value=row["max_value"],
        mean=row["mean"],
        stddev=row["stddev"],
        sampled=bool(row["sampled"]),
        sample=row["sample"],
        window_start=as_datetime(row["window_start"]),
        window_end=as_datetime(row["window_end"]),
        stats=as_dict(row["stats"]),
    )


def latest_profiles(
    db: Reader, datasets: Sequence[str] | None = None, *, as_of: datetime | None = None
) -> dict[str, list[StoredColumnProfile]]:
    """Each dataset's newest profile (optionally as of `as_of`), one entry per column in profile order.

    Newest by as-of time, like `latest_observations`; the later write wins between two as of the same time.
    """
    with connect(db) as conn:
        return newest_set(
            stored_column_profile(row)
            for row in conn.execute(newest_per_dataset(profiles, datasets, as_of)).mappings()
        )


def latest_profile(db: Reader, dataset: str) -> list[StoredColumnProfile]:
    """The columns of one dataset's newest profile (empty before its first profile)."""
    return latest_profiles(db, [dataset]).get(dataset, [])


def profiled_between(db: Reader, dataset: str, start: datetime, end: datetime) -> bool:
    """Whether the dataset has a profile as of a time in [start, end)."""
    query = (
        sa.select(profiles.c.id)
        .where(profiles.c.dataset == dataset, profiles.c.as_of >= start, profiles.c.as_of < end)
        .limit(1)
    )
    with connect(db) as conn:
        return conn.execute(query).first() is not None


def profile_history(
    db: Reader, datasets: Sequence[str], since: datetime, until: datetime
) -> dict[str, dict[str, list[ColumnPoint]]]:
    """Per dataset and column, the profile metrics of runs in [since, until), oldest first (one query).

    Only the metrics the anomaly rules judge are read: this is the largest read evaluation makes.
    """
    query = (
        sa.select(
            profiles.c.dataset,
            profiles.c.column_name,
            profiles.c.as_of,
            profiles.c.row_count,
            profiles.c.null_count,
            profiles.c.null_ratio,
            profiles.c.distinct_count,
            profiles.c.window_start,
        )
        .where(profiles.c.dataset.in_(list(datasets)), profiles.c.as_of >= since, profiles.c.as_of < until)
        .order_by(profiles.c.dataset, profiles.c.column_name, profiles.c.as_of, profiles.c.id)
    )
    history: dict[str, dict[str, list[ColumnPoint]]] = {d: {} for d in datasets}
    with connect(db) as conn:
        for row in conn.execute(query):
            history[row.dataset].setdefault(row.column_name, []).append(
                ColumnPoint(
                    as_datetime(row.as_of) or row.as_of,
                    row.row_count,
                    row.null_count,
                    row.null_ratio,
                    row.distinct_count,
                    row.window_start is not None,
                )
            )
    return history


NullRatioPoint = tuple[int, str, float | None]
"""(observation id, column, null ratio): one point of a column's null-ratio chart."""


def null_ratio_points(db: Reader, window: RunWindow) -> list[NullRatioPoint]:
    """The null ratios of the window's runs as plain tuples, grouped by observation, oldest first."""
    p = profiles.c
    order = (p.as_of, p.observation_id, p.id)
    return window_rows(db, window, p.observation_id, p.column_name, p.null_ratio, order_by=order)
