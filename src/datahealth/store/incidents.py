"""Incident state in the history store, written: findings per run, incidents, their events,
acknowledgements, and accepting a schema as the new baseline. Reading them is the read model's job
(`store.read`).

`record_evaluation` writes what `incidents.plan_changes` decided, in one transaction, after the run's
results are recorded: it fills in the ids of new incidents and returns the evaluation as stored, so
publishers see real incident ids. Two runs finishing at once (a 15-minute tier and the daily tier) cannot
open the same problem twice: on PostgreSQL a transaction-level advisory lock serialises the writers, on
SQLite the write lock does; inside it an "opened" incident whose fingerprint is already open continues
that incident instead, one resolved meanwhile is not reopened (the problem opens a new incident), and an
acknowledgement made meanwhile is kept.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from datahealth import engines
from datahealth.core.redaction import redact
from datahealth.core.results import as_utc
from datahealth.rules.findings import (
    Finding,
    Incident,
    IncidentChange,
    IncidentEvent,
    IncidentStatus,
    RunEvaluation,
)
from datahealth.rules.incidents import continue_incident, new_incident, quiet
from datahealth.store import read
from datahealth.store.read.incidents import stored_incident
from datahealth.store.read.schemas import SchemaSnapshot, schema_snapshot
from datahealth.store.repository import HistoryStore, _json_safe
from datahealth.store.tables import findings, incident_events, incidents, schema_snapshots

_LOCK_KEY = 0x6461746168  # "datah": serialises incident writers on PostgreSQL
_QUIET = (IncidentStatus.ACKNOWLEDGED.value, IncidentStatus.SNOOZED.value)


def accept_latest_schema(
    store: HistoryStore, dataset: str, now: datetime
) -> tuple[SchemaSnapshot, bool] | None:
    """Make the dataset's newest schema snapshot its baseline; returns it and whether it already was the
    baseline (None: no snapshot yet). The open schema-change incident resolves on the next run, which then
    finds nothing to report.
    """
    newest = (
        sa.select(schema_snapshots)
        .where(schema_snapshots.c.dataset == dataset)
        .order_by(schema_snapshots.c.as_of.desc(), schema_snapshots.c.id.desc())
        .limit(1)
    )
    with store.engine.begin() as conn:
        row = conn.execute(newest).mappings().first()
        if row is None:
            return None
        snapshot = schema_snapshot(row)
        if not snapshot.accepted:
            conn.execute(
                schema_snapshots.update()
                .where(schema_snapshots.c.id == snapshot.id)
                .values(accepted=True, accepted_at=now)
            )
    return dataclasses.replace(
        snapshot, accepted=True, accepted_at=snapshot.accepted_at or now
    ), snapshot.accepted


def record_evaluation(
    store: HistoryStore, run_id: str, as_of: datetime, evaluation: RunEvaluation
) -> RunEvaluation:
    """Store the run's findings and incident changes; return the evaluation with stored incidents."""
    stored: list[IncidentChange] = []
    with store.engine.begin() as conn:
        engines.for_backend(conn.dialect.name).lock_transaction(
            conn, _LOCK_KEY
        )  # one incident writer at a time
        if evaluation.findings:
            conn.execute(findings.insert(), [_finding_row(run_id, as_of, f) for f in evaluation.findings])
        for change in evaluation.changes:
            stored.append(_apply(conn, run_id, as_of, change))
    by_fingerprint = {c.incident.fingerprint: c.incident for c in stored if c.event != IncidentEvent.RESOLVED}
    return dataclasses.replace(
        evaluation,
        changes=stored,
        open_incidents=[by_fingerprint.get(i.fingerprint, i) for i in read.open_incidents(store)],
    )


def _finding_row(run_id: str, as_of: datetime, finding: Finding) -> dict[str, Any]:
    details = {
        "title": redact(finding.title),
        "observed": finding.observed,
        "expected": finding.expected,
        **finding.details,
    }
    return {
        "run_id": run_id,
        "dataset": finding.dataset,
        "as_of": as_of,
        "fingerprint": finding.fingerprint,
        "kind": finding.kind.value,
        "subject": finding.subject,
        "severity": finding.severity,
        "message": redact(finding.message or finding.title),
        "details": _json_safe(details),
    }


def _values(incident: Incident, run_id: str) -> dict[str, Any]:
    return {
        "fingerprint": incident.fingerprint,
        "dataset": incident.dataset,
        "kind": incident.kind,
        "subject": incident.subject,
        "severity": incident.severity,
        "status": incident.status.value,
        "title": redact(incident.title),
        "message": redact(incident.message),
        "opened_at": incident.opened_at,
        "updated_at": incident.updated_at,
        "last_seen_at": incident.last_seen_at,
        "resolved_at": incident.resolved_at,
        "last_run_id": run_id,
        "occurrences": incident.occurrences,
        "acknowledged_by": incident.acknowledged_by,
        "quiet_until": incident.quiet_until,
        "details": _json_safe(incident.details),
    }


def _apply(conn: sa.Connection, run_id: str, as_of: datetime, change: IncidentChange) -> IncidentChange:
    incident = change.incident
    if change.event in (IncidentEvent.ONGOING, IncidentEvent.CHANGED) and change.finding is not None:
        status = conn.execute(sa.select(incidents.c.status).where(incidents.c.id == incident.id)).scalar()
        if status in (None, IncidentStatus.RESOLVED.value):  # another run resolved it meanwhile: a new one
            change = IncidentChange(new_incident(change.finding, as_of), IncidentEvent.OPENED, change.finding)
            incident = change.incident
    if change.event == IncidentEvent.OPENED:
        existing = (
            conn.execute(
                sa.select(incidents)
                .where(
                    incidents.c.fingerprint == incident.fingerprint,
                    incidents.c.status != IncidentStatus.RESOLVED.value,
                )
                .order_by(incidents.c.id.desc())
            )
            .mappings()
            .first()
        )
        if existing is not None and change.finding is not None:  # another run opened it meanwhile
            change = continue_incident(stored_incident(existing), change.finding, as_of)
            incident = change.incident
        else:
            key = conn.execute(incidents.insert().values(**_values(incident, run_id))).inserted_primary_key
            assert key is not None
            incident = dataclasses.replace(incident, id=int(key[0]))
            change = dataclasses.replace(change, incident=incident)
            _event(conn, incident.id, as_of, change.event, run_id, change)
            return change
    row = conn.execute(sa.select(incidents).where(incidents.c.id == incident.id)).mappings().first()
    if row is not None and row["status"] in _QUIET and change.event != IncidentEvent.RESOLVED:
        held = as_utc(row["quiet_until"])
        if held is None or held > as_of:  # an acknowledgement still running wins over the plan
            incident = dataclasses.replace(
                incident,
                status=IncidentStatus(row["status"]),
                quiet_until=held,
                acknowledged_by=row["acknowledged_by"],
            )
            change = dataclasses.replace(change, incident=incident)
    conn.execute(incidents.update().where(incidents.c.id == incident.id).values(**_values(incident, run_id)))
    if change.event != IncidentEvent.ONGOING:
        _event(conn, incident.id, as_of, change.event, run_id, change)
    return change


def _event(
    conn: sa.Connection,
    incident_id: int,
    at: datetime,
    event: IncidentEvent,
    run_id: str | None,
    change: IncidentChange | None = None,
    **extra: Any,
) -> None:
    details: dict[str, Any] = dict(extra)
    if change is not None:
        details.update(
            severity=change.incident.severity,
            previous_severity=change.previous_severity,
            reason=change.reason,
            title=redact(change.incident.title),
            observed=change.finding.observed if change.finding else None,
        )
    conn.execute(
        incident_events.insert().values(
            incident_id=incident_id, at=at, event=event.value, run_id=run_id, details=_json_safe(details)
        )
    )


def quiet_incident(
    store: HistoryStore,
    incident_id: int,
    now: datetime,
    *,
    duration: timedelta | None,
    by: str | None,
    snooze: bool,
    note: str = "",
) -> Incident:
    """Acknowledge or snooze an open incident (CLI); raises ValueError naming the problem."""
    with store.engine.begin() as conn:
        row = conn.execute(sa.select(incidents).where(incidents.c.id == incident_id)).mappings().first()
        if row is None:
            raise ValueError(f"no incident {incident_id}; see `datahealth incidents list`")
        updated = quiet(stored_incident(row), now, duration=duration, by=by, snooze=snooze)
        conn.execute(
            incidents.update()
            .where(incidents.c.id == incident_id)
            .values(
                status=updated.status.value,
                quiet_until=updated.quiet_until,
                acknowledged_by=updated.acknowledged_by,
                updated_at=now,
            )
        )
        _event(
            conn,
            incident_id,
            now,
            IncidentEvent.SNOOZED if snooze else IncidentEvent.ACKNOWLEDGED,
            None,
            by=by,
            until=updated.quiet_until.isoformat() if updated.quiet_until else None,
            note=note,
        )
    return updated
