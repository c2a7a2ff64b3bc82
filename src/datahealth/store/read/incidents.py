"""Incidents as read back: open ones, a list, one by id, those active in a window, and their events."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from datahealth.core.redaction import redact
from datahealth.rules.findings import Incident, IncidentStatus
from datahealth.store.read.base import Reader, as_datetime, as_dict, connect
from datahealth.store.tables import incident_events, incidents

RESOLVED = IncidentStatus.RESOLVED.value
LIST_STATUSES = ("open", "resolved", "all")


def stored_incident(row: Any) -> Incident:
    """The one mapping of an `incidents` row, for every reader (evaluation, CLI, report, Slack, metrics).

    Title and message are masked again (a secret registered after the incident was written); a status
    this version does not know reads as open, so an incident is never silently dropped.
    """
    opened = as_datetime(row["opened_at"]) or row["opened_at"]
    status = row["status"] if row["status"] in IncidentStatus._value2member_map_ else IncidentStatus.OPEN
    return Incident(
        id=int(row["id"]),
        fingerprint=row["fingerprint"],
        dataset=row["dataset"],
        kind=row["kind"],
        subject=row["subject"] or "",
        severity=row["severity"],
        status=IncidentStatus(status),
        title=redact(row["title"]),
        message=redact(row["message"] or ""),
        opened_at=opened,
        updated_at=as_datetime(row["updated_at"]) or opened,
        last_seen_at=as_datetime(row["last_seen_at"]) or opened,
        resolved_at=as_datetime(row["resolved_at"]),
        occurrences=row["occurrences"] or 1,
        quiet_until=as_datetime(row["quiet_until"]),
        acknowledged_by=row["acknowledged_by"],
        details=as_dict(row["details"]),
    )


@dataclass(frozen=True)
class IncidentEventRecord:
    """A row of `incident_events`: opened, changed, resolved (by a run) or acknowledged, snoozed (by someone)."""

    incident_id: int
    at: datetime
    event: str
    run_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "at": self.at.isoformat(),
            "event": self.event,
            "run_id": self.run_id,
            "details": self.details,
        }


def stored_event(row: Any) -> IncidentEventRecord:
    """The one mapping of an `incident_events` row."""
    return IncidentEventRecord(
        incident_id=int(row["incident_id"]),
        at=as_datetime(row["at"]) or row["at"],
        event=row["event"],
        run_id=row["run_id"],
        details=as_dict(row["details"]),
    )


def open_incidents(db: Reader, datasets: Sequence[str] | None = None) -> list[Incident]:
    """Every incident not resolved (optionally only of `datasets`), oldest first."""
    query = sa.select(incidents).where(incidents.c.status != RESOLVED)
    if datasets is not None:
        query = query.where(incidents.c.dataset.in_(list(datasets)))
    with connect(db) as conn:
        rows = conn.execute(query.order_by(incidents.c.opened_at, incidents.c.id)).mappings()
        return [stored_incident(row) for row in rows]


def recently_resolved(db: Reader, datasets: Sequence[str], since: datetime) -> list[Incident]:
    """Incidents of `datasets` resolved at or after `since` (a problem back soon re-opens them)."""
    query = sa.select(incidents).where(
        incidents.c.status == RESOLVED,
        incidents.c.dataset.in_(list(datasets)),
        incidents.c.resolved_at >= since,
    )
    with connect(db) as conn:
        rows = conn.execute(query.order_by(incidents.c.resolved_at, incidents.c.id)).mappings()
        return [stored_incident(row) for row in rows]


def get_incident(db: Reader, incident_id: int) -> Incident | None:
    with connect(db) as conn:
        row = conn.execute(sa.select(incidents).where(incidents.c.id == incident_id)).mappings().first()
    return stored_incident(row) if row else None


def list_incidents(
    db: Reader, *, status: str = "open", datasets: Sequence[str] = (), limit: int = 100
) -> list[Incident]:
    """Incidents newest first: `status` open | resolved | all; `datasets` are glob patterns."""
    query = sa.select(incidents)
    if status == "open":
        query = query.where(incidents.c.status != RESOLVED)
    elif status == "resolved":
        query = query.where(incidents.c.status == RESOLVED)
    elif status != "all":
        raise ValueError(f"--status must be open, resolved or all, not {status!r}")
    found: list[Incident] = []
    with connect(db) as conn:
        for row in conn.execute(
            query.order_by(incidents.c.opened_at.desc(), incidents.c.id.desc())
        ).mappings():
            if datasets and not any(fnmatch.fnmatchcase(row["dataset"], p) for p in datasets):
                continue
            found.append(stored_incident(row))
            if len(found) >= limit:
                break
    return found


def _active(start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        incidents.c.opened_at <= end, sa.or_(incidents.c.status != RESOLVED, incidents.c.resolved_at >= start)
    )


def incidents_active_between(db: Reader, start: datetime, end: datetime) -> list[Incident]:
    """Incidents opened by `end` and not resolved before `start` (open now, or open during the window)."""
    query = sa.select(incidents).where(_active(start, end)).order_by(incidents.c.opened_at, incidents.c.id)
    with connect(db) as conn:
        return [stored_incident(row) for row in conn.execute(query).mappings()]


def timelines_active_between(
    db: Reader, start: datetime, end: datetime
) -> dict[int, list[IncidentEventRecord]]:
    """The events of every incident `incidents_active_between` returns, oldest first per incident.

    Starts from the incidents and reads each one's events through the (incident_id, at) index.
    """
    active = sa.select(incidents.c.id).where(_active(start, end))
    query = (
        sa.select(incident_events)
        .where(incident_events.c.incident_id.in_(active))
        .order_by(incident_events.c.incident_id, incident_events.c.at, incident_events.c.id)
    )
    return _grouped(db, query)


def incident_history(db: Reader, incident_id: int) -> list[IncidentEventRecord]:
    """One incident's events (opened, changed, acknowledged, snoozed, resolved), oldest first."""
    query = (
        sa.select(incident_events)
        .where(incident_events.c.incident_id == incident_id)
        .order_by(incident_events.c.at, incident_events.c.id)
    )
    return _grouped(db, query).get(incident_id, [])


def _grouped(db: Reader, query: sa.Select[Any]) -> dict[int, list[IncidentEventRecord]]:
    grouped: dict[int, list[IncidentEventRecord]] = {}
    with connect(db) as conn:
        for row in conn.execute(query).mappings():
            event = stored_event(row)
            grouped.setdefault(event.incident_id, []).append(event)
    return grouped


def run_events(db: Reader, run_id: str) -> list[tuple[IncidentEventRecord, Incident]]:
    """What a run did to incidents: each opened / changed / resolved event with its incident, in order.

    For benchmarks and debugging, not for a run's own path: `incident_events` has no `run_id` index, so
    this reads the whole table (a run already knows its changes from its evaluation).
    """
    query = (
        sa.select(incident_events).where(incident_events.c.run_id == run_id).order_by(incident_events.c.id)
    )
    with connect(db) as conn:
        events = [stored_event(row) for row in conn.execute(query).mappings()]
        ids = sorted({e.incident_id for e in events})
        query = sa.select(incidents).where(incidents.c.id.in_(ids))
        by_id = {row["id"]: stored_incident(row) for row in conn.execute(query).mappings()}
    return [(event, by_id[event.incident_id]) for event in events if event.incident_id in by_id]
