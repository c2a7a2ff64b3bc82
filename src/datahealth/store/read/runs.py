"""Runs as read back: one run, the run a state as of some time comes from, the last one to finish."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from datahealth.core.redaction import redact
from datahealth.store.read.base import Reader, as_datetime, as_dict, connect
from datahealth.store.tables import runs


@dataclass(frozen=True)
class RunRecord:
    """A row of `runs`. `finished_at` is None while the run is going (or if it died)."""

    id: str
    started_at: datetime
    as_of: datetime
    status: str
    finished_at: datetime | None = None
    tier: str | None = None
    flow_run_id: str | None = None
    selection: tuple[str, ...] = ()
    datasets_total: int = 0
    datasets_failed: int = 0
    duration_seconds: float | None = None
    health_score: float | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def warnings(self) -> tuple[str, ...]:
        """The run's warnings as recorded at its end (secrets masked)."""
        return tuple(redact(w) for w in self.summary.get("warnings", []) if isinstance(w, str))


def run_record(row: Any) -> RunRecord:
    """The one mapping of a `runs` row."""
    selection = row["selection"]
    return RunRecord(
        id=row["id"],
        started_at=as_datetime(row["started_at"]) or row["started_at"],
        as_of=as_datetime(row["as_of"]) or row["as_of"],
        status=row["status"],
        finished_at=as_datetime(row["finished_at"]),
        tier=row["tier"],
        flow_run_id=row["flow_run_id"],
        selection=tuple(str(s) for s in selection) if isinstance(selection, list) else (),
        datasets_total=int(row["datasets_total"] or 0),
        datasets_failed=int(row["datasets_failed"] or 0),
        duration_seconds=row["duration_seconds"],
        health_score=row["health_score"],
        summary=as_dict(row["summary"]),
    )


def get_run(db: Reader, run_id: str) -> RunRecord | None:
    with connect(db) as conn:
        row = conn.execute(sa.select(runs).where(runs.c.id == run_id)).mappings().first()
    return run_record(row) if row else None


def latest_run(db: Reader, as_of: datetime | None = None) -> RunRecord | None:
    """The run the state as of `as_of` (default: now) comes from: the newest as-of time, finished runs first.

    A backfill of an earlier day, run after newer runs, is not the latest run: the as-of time decides.
    """
    query = sa.select(runs).order_by(
        runs.c.finished_at.is_(None), runs.c.as_of.desc(), runs.c.started_at.desc()
    )
    if as_of is not None:
        query = query.where(runs.c.as_of <= as_of)
    with connect(db) as conn:
        row = conn.execute(query.limit(1)).mappings().first()
    return run_record(row) if row else None


def last_finished_run(db: Reader) -> RunRecord | None:
    """The run that finished last, whatever time it was as of: is the monitor itself still running?"""
    query = sa.select(runs).where(runs.c.finished_at.is_not(None)).order_by(runs.c.finished_at.desc())
    with connect(db) as conn:
        row = conn.execute(query.limit(1)).mappings().first()
    return run_record(row) if row else None


def last_success_at(db: Reader) -> datetime | None:
    """When a run last finished that observed at least one of its datasets (`metrics.run_succeeded` in SQL)."""
    succeeded = sa.or_(runs.c.datasets_total == 0, runs.c.datasets_failed < runs.c.datasets_total)
    query = sa.select(sa.func.max(runs.c.finished_at)).where(
        runs.c.finished_at.is_not(None), runs.c.status == "completed", succeeded
    )
    with connect(db) as conn:
        return as_datetime(conn.execute(query).scalar())


def newest_as_of(db: Reader) -> datetime | None:
    """The newest as-of time any run has: where 'now' is for a history with no wall clock to go by."""
    with connect(db) as conn:
        return as_datetime(conn.execute(sa.select(sa.func.max(runs.c.as_of))).scalar())


def tiers_run_since(db: Reader, since: datetime) -> set[str]:
    """The tiers with a run as of `since` or later (runs of no tier, by hand or the demo, are not one)."""
    query = sa.select(runs.c.tier).where(runs.c.as_of >= since, runs.c.tier.is_not(None)).distinct()
    with connect(db) as conn:
        return {str(tier) for tier in conn.execute(query).scalars()}


def runs_between(db: Reader, start: datetime, end: datetime) -> list[RunRecord]:
    """Runs as of a time in [start, end], oldest first."""
    query = (
        sa.select(runs)
        .where(runs.c.as_of >= start, runs.c.as_of <= end)
        .order_by(runs.c.as_of, runs.c.started_at)
    )
    with connect(db) as conn:
        return [run_record(row) for row in conn.execute(query).mappings()]


def known_runs(db: Reader, run_ids: Iterable[str]) -> set[str]:
    """Which of `run_ids` the store still has (pruned or reset stores forget runs)."""
    ids = sorted(set(run_ids))
    if not ids:
        return set()
    with connect(db) as conn:
        return {str(i) for i in conn.execute(sa.select(runs.c.id).where(runs.c.id.in_(ids))).scalars()}
