"""Check results as read back: each dataset's latest set, those of given observations, chart points."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from datahealth.core.redaction import redact
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
from datahealth.store.tables import check_results


@dataclass(frozen=True)
class StoredCheck:
    """A row of `check_results`: one check's outcome in one run (`outcome` as stored: pass, fail, ...)."""

    observation_id: int
    run_id: str
    dataset: str
    as_of: datetime
    name: str
    check_type: str
    outcome: str
    column: str | None = None
    observed_value: float | None = None
    threshold: str | None = None
    origin: str = "user"
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


def stored_check(row: Any) -> StoredCheck:
    """The one mapping of a `check_results` row."""
    return StoredCheck(
        observation_id=int(row["observation_id"]),
        run_id=row["run_id"],
        dataset=row["dataset"],
        as_of=as_datetime(row["as_of"]) or row["as_of"],
        name=row["name"],
        check_type=row["check_type"],
        outcome=row["outcome"],
        column=row["column_name"],
        observed_value=row["observed_value"],
        threshold=row["threshold"],
        origin=row["origin"] or "user",
        message=redact(row["message"]) if row["message"] else "",
        details=as_dict(row["details"]),
    )


def latest_checks(
    db: Reader, datasets: Sequence[str] | None = None, *, as_of: datetime | None = None
) -> dict[str, list[StoredCheck]]:
    """Each dataset's newest set of check results (optionally as of `as_of`), in run order.

    The newest observation *that ran checks*, so a metadata-only run after it does not hide them; newest
    by as-of time (like `latest_observations`), the later write winning between two as of the same time.
    """
    with connect(db) as conn:
        return newest_set(
            stored_check(row)
            for row in conn.execute(newest_per_dataset(check_results, datasets, as_of)).mappings()
        )


def checks_of(db: Reader, observation_ids: Sequence[int]) -> dict[int, list[StoredCheck]]:
    """The check results of each of `observation_ids`, in the order they were written."""
    query = (
        sa.select(check_results)
        .where(check_results.c.observation_id.in_(list(observation_ids)))
        .order_by(check_results.c.id)
    )
    grouped: dict[int, list[StoredCheck]] = {i: [] for i in observation_ids}
    with connect(db) as conn:
        for row in conn.execute(query).mappings():
            grouped[row["observation_id"]].append(stored_check(row))
    return grouped


CheckPoint = tuple[int, str, str | None, str]
"""(observation id, check name, column, outcome): one point of a check's history."""


def check_points(db: Reader, window: RunWindow) -> list[CheckPoint]:
    """The check outcomes of the window's runs as plain tuples, oldest first."""
    c = check_results.c
    return window_rows(
        db, window, c.observation_id, c.name, c.column_name, c.outcome, order_by=(c.as_of, c.id)
    )
