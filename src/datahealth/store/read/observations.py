"""Observations as read back: each dataset's latest, its history, and the points of the report's charts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import orjson
import sqlalchemy as sa

from datahealth.core.redaction import redact
from datahealth.core.results import ColumnInfo, Status, StoredObservation
from datahealth.store.read.base import (
    Reader,
    RunWindow,
    as_datetime,
    as_dict,
    connect,
    newest_per_dataset,
    window_rows,
)
from datahealth.store.tables import observations


def stored_observation(row: Any) -> StoredObservation:
    """The one mapping of an `observations` row (its error text masked again: secrets registered since)."""
    return StoredObservation(
        id=row["id"],
        run_id=row["run_id"],
        dataset=row["dataset"],
        source=row["source"],
        as_of=as_datetime(row["as_of"]) or row["as_of"],
        status=Status(row["status"]),
        row_count=row["row_count"],
        last_updated=as_datetime(row["last_updated"]),
        freshness_lag_seconds=row["freshness_lag_seconds"],
        columns=tuple(ColumnInfo.from_dict(c) for c in (row["columns"] or [])),
        checks_failed=row["checks_failed"],
        error=redact(row["error"]) if row["error"] else None,
        error_kind=row["error_kind"],
        details=as_dict(row["details"]),
        observed_at=as_datetime(row["observed_at"]),
    )


def latest_observations(
    db: Reader, datasets: Sequence[str] | None = None, *, as_of: datetime | None = None
) -> dict[str, StoredObservation]:
    """Each dataset's newest observation (optionally as of `as_of`), in one query.

    Newest by as-of time, not by write order: a backfill of an earlier day written after newer runs is
    history, not the dataset's current state. Of two observations as of the same time (a re-run), the
    later write wins.
    """
    query = newest_per_dataset(observations, datasets, as_of)
    with connect(db) as conn:
        return {row["dataset"]: stored_observation(row) for row in conn.execute(query).mappings()}


def observation_history(
    db: Reader, datasets: Sequence[str], since: datetime | None = None, until: datetime | None = None
) -> dict[str, list[StoredObservation]]:
    """Observations per dataset in [since, until], oldest first, in one query for all of `datasets`."""
    query = sa.select(observations).where(observations.c.dataset.in_(list(datasets)))
    if since is not None:
        query = query.where(observations.c.as_of >= since)
    if until is not None:
        query = query.where(observations.c.as_of <= until)
    query = query.order_by(observations.c.dataset, observations.c.as_of, observations.c.id)
    history: dict[str, list[StoredObservation]] = {d: [] for d in datasets}
    with connect(db) as conn:
        for row in conn.execute(query).mappings():
            history[row["dataset"]].append(stored_observation(row))
    return history


def newest_data(db: Reader, datasets: Sequence[str]) -> dict[str, datetime]:
    """The newest last-updated time ever observed per dataset (for datasets whose latest observation has
    none: their age keeps growing while they cannot be observed, instead of vanishing)."""
    if not datasets:
        return {}
    query = (
        sa.select(observations.c.dataset, sa.func.max(observations.c.last_updated))
        .where(observations.c.dataset.in_(list(datasets)), observations.c.last_updated.is_not(None))
        .group_by(observations.c.dataset)
    )
    found: dict[str, datetime] = {}
    with connect(db) as conn:
        for dataset, newest in conn.execute(query):
            value = as_datetime(newest)
            if value is not None:
                found[dataset] = value
    return found


ObservationPoint = tuple[int, str, str, str, int | None, float | None]
"""(observation id, run id, dataset, status, row count, freshness lag): one point of a dataset's charts."""


def expected_row_ranges(db: Reader, window: RunWindow) -> dict[int, tuple[float, float]]:
    """The volume detector's expected row-count range per observation of the window's runs, as the run
    recorded it (`details.expected_rows`); observations judged without a range are left out."""
    o = observations.c
    ranges: dict[int, tuple[float, float]] = {}
    # plain driver tuples (see window_rows): the value is JSON text, or already parsed where the driver does it
    expected = cast("sa.Column[Any]", o.details["expected_rows"])  # a JSON path; window_rows takes columns
    for observation_id, value in window_rows(db, window, o.id, expected, order_by=(o.id,)):
        if isinstance(value, str):
            value = orjson.loads(value)  # 30,000 small documents at a thousand datasets
        if isinstance(value, list) and len(value) == 2:
            ranges[observation_id] = (float(value[0]), float(value[1]))
    return ranges


def observation_points(db: Reader, window: RunWindow) -> list[ObservationPoint]:
    """The observations of the window's runs as plain tuples, oldest first (newer values overwrite)."""
    o = observations.c
    columns = (o.id, o.run_id, o.dataset, o.status, o.row_count, o.freshness_lag_seconds)
    return window_rows(db, window, *columns, order_by=(o.as_of, o.id))
