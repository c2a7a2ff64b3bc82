"""Incident state in the history store: findings per run, incidents, their events; plus the history reads
evaluation needs (profile history, accepted schema baselines), each one query for all datasets.

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
import fnmatch
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from datahealth.core.redaction import redact
from datahealth.core.results import ColumnInfo, as_utc
from datahealth.rules.anomaly import ColumnPoint
from datahealth.rules.findings import (
    Finding,
    Incident,
    IncidentChange,
    IncidentEvent,
    IncidentStatus,
    RunEvaluation,
)
from datahealth.rules.incidents import continue_incident, new_incident, quiet
from datahealth.store.repository import HistoryStore, _json_safe
from datahealth.store.tables import findings, incident_events, incidents, profiles, schema_snapshots

_LOCK_KEY = 0x6461746168  # "datah": serialises incident writers on PostgreSQL
_QUIET = (IncidentStatus.ACKNOWLEDGED.value, IncidentStatus.SNOOZED.value)


def _incident(row: Any) -> Incident:
    return Incident(
        id=row["id"],
        fingerprint=row["fingerprint"],
        dataset=row["dataset"],
        kind=row["kind"],
        subject=row["subject"] or "",
        severity=row["severity"],
        status=IncidentStatus(row["status"]),
        title=row["title"],
        message=row["message"] or "",
        opened_at=as_utc(row["opened_at"]) or row["opened_at"],
        updated_at=as_utc(row["updated_at"]) or row["updated_at"],
        last_seen_at=as_utc(row["last_seen_at"]) or row["last_seen_at"],
        resolved_at=as_utc(row["resolved_at"]),
        occurrences=row["occurrences"] or 1,
        quiet_until=as_utc(row["quiet_until"]),
        acknowledged_by=row["acknowledged_by"],
        details=row["details"] or {},
    )


# --- reads ------------------------------------------------------------------------------------------


def open_incidents(store: HistoryStore, datasets: Sequence[str] | None = None) -> list[Incident]:
    """Every incident not resolved (optionally only of `datasets`), oldest first."""
    query = sa.select(incidents).where(incidents.c.status != IncidentStatus.RESOLVED.value)
    if datasets is not None:
        query = query.where(incidents.c.dataset.in_(list(datasets)))
    with store.engine.connect() as conn:
        return [
            _incident(r)
            for r in conn.execute(query.order_by(incidents.c.opened_at, incidents.c.id)).mappings()
        ]


def get_incident(store: HistoryStore, incident_id: int) -> Incident | None:
    with store.engine.connect() as conn:
        row = conn.execute(sa.select(incidents).where(incidents.c.id == incident_id)).mappings().first()
    return _incident(row) if row else None


def list_incidents(
    store: HistoryStore, *, status: str = "open", datasets: Sequence[str] = (), limit: int = 100
) -> list[Incident]:
    """Incidents newest first: `status` open | resolved | all; `datasets` are glob patterns."""
    query = sa.select(incidents)
    if status == "open":
        query = query.where(incidents.c.status != IncidentStatus.RESOLVED.value)
    elif status == "resolved":
        query = query.where(incidents.c.status == IncidentStatus.RESOLVED.value)
    elif status != "all":
        raise ValueError(f"--status must be open, resolved or all, not {status!r}")
    rows = []
    with store.engine.connect() as conn:
        for row in conn.execute(
            query.order_by(incidents.c.opened_at.desc(), incidents.c.id.desc())
        ).mappings():
            if datasets and not any(fnmatch.fnmatchcase(row["dataset"], p) for p in datasets):
                continue
            rows.append(_incident(row))
            if len(rows) >= limit:
                break
    return rows


def incident_history(store: HistoryStore, incident_id: int) -> list[dict[str, Any]]:
    """The incident's events (opened, changed, acknowledged, snoozed, resolved), oldest first."""
    query = (
        sa.select(incident_events)
        .where(incident_events.c.incident_id == incident_id)
        .order_by(incident_events.c.at, incident_events.c.id)
    )
    with store.engine.connect() as conn:
        return [
            {**dict(r), "at": as_utc(r["at"]), "details": r["details"] or {}}
            for r in conn.execute(query).mappings()
        ]


def run_events(store: HistoryStore, run_id: str) -> list[dict[str, Any]]:
    """What a run did to incidents: one row per opened / changed / resolved event, with the incident's identity."""
    query = (
        sa.select(
            incident_events.c.incident_id,
            incident_events.c.event,
            incident_events.c.at,
            incidents.c.dataset,
            incidents.c.kind,
            incidents.c.subject,
            incidents.c.severity,
            incidents.c.title,
        )
        .join(incidents, incidents.c.id == incident_events.c.incident_id)
        .where(incident_events.c.run_id == run_id)
        .order_by(incident_events.c.id)
    )
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def run_findings(store: HistoryStore, run_id: str) -> list[dict[str, Any]]:
    query = sa.select(findings).where(findings.c.run_id == run_id).order_by(findings.c.id)
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def profile_history(
    store: HistoryStore, datasets: Sequence[str], since: datetime, until: datetime
) -> dict[str, dict[str, list[ColumnPoint]]]:
    """Per dataset and column, the profile metrics of runs in [since, until), oldest first (one query)."""
    columns = (
        profiles.c.dataset,
        profiles.c.column_name,
        profiles.c.as_of,
        profiles.c.row_count,
        profiles.c.null_count,
        profiles.c.null_ratio,
        profiles.c.distinct_count,
        profiles.c.window_start,
    )
    query = (
        sa.select(*columns)
        .where(profiles.c.dataset.in_(list(datasets)), profiles.c.as_of >= since, profiles.c.as_of < until)
        .order_by(profiles.c.dataset, profiles.c.column_name, profiles.c.as_of, profiles.c.id)
    )
    history: dict[str, dict[str, list[ColumnPoint]]] = {d: {} for d in datasets}
    with store.engine.connect() as conn:
        for row in conn.execute(query):
            history[row.dataset].setdefault(row.column_name, []).append(
                ColumnPoint(
                    as_utc(row.as_of) or row.as_of,
                    row.row_count,
                    row.null_count,
                    row.null_ratio,
                    row.distinct_count,
                    row.window_start is not None,
                )
            )
    return history


def accepted_schemas(
    store: HistoryStore, datasets: Sequence[str], as_of: datetime | None = None
) -> dict[str, tuple[ColumnInfo, ...]]:
    """Each dataset's latest accepted schema snapshot (the baseline schema changes are judged against)."""
    query = sa.select(schema_snapshots.c.dataset, schema_snapshots.c.columns).where(
        schema_snapshots.c.dataset.in_(list(datasets)), schema_snapshots.c.accepted.is_(True)
    )
    if as_of is not None:
        query = query.where(schema_snapshots.c.as_of <= as_of)
    baselines: dict[str, tuple[ColumnInfo, ...]] = {}
    with store.engine.connect() as conn:
        ordered = query.order_by(
            schema_snapshots.c.dataset, schema_snapshots.c.accepted_at, schema_snapshots.c.id
        )
        for dataset, columns in conn.execute(ordered):
            baselines[dataset] = tuple(ColumnInfo.from_dict(c) for c in columns or [])
    return baselines


def accept_latest_schema(store: HistoryStore, dataset: str, now: datetime) -> dict[str, Any] | None:
    """Make the dataset's newest schema snapshot its baseline; returns it (None: no snapshot yet).

    `already_accepted` says the newest snapshot was the baseline already. The open schema-change incident
    resolves on the next run, which then finds nothing to report.
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
        snapshot = dict(row)
        snapshot["already_accepted"] = bool(row["accepted"])
        if not row["accepted"]:
            conn.execute(
                schema_snapshots.update()
                .where(schema_snapshots.c.id == row["id"])
                .values(accepted=True, accepted_at=now)
            )
    return snapshot


# --- writes -----------------------------------------------------------------------------------------


def record_evaluation(
    store: HistoryStore, run_id: str, as_of: datetime, evaluation: RunEvaluation
) -> RunEvaluation:
    """Store the run's findings and incident changes; return the evaluation with stored incidents."""
    stored: list[IncidentChange] = []
    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        if evaluation.findings:
            conn.execute(findings.insert(), [_finding_row(run_id, as_of, f) for f in evaluation.findings])
        for change in evaluation.changes:
            stored.append(_apply(conn, run_id, as_of, change))
    by_fingerprint = {c.incident.fingerprint: c.incident for c in stored if c.event != IncidentEvent.RESOLVED}
    return dataclasses.replace(
        evaluation,
        changes=stored,
        open_incidents=[by_fingerprint.get(i.fingerprint, i) for i in open_incidents(store)],
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
            change = continue_incident(_incident(existing), change.finding, as_of)
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
        updated = quiet(_incident(row), now, duration=duration, by=by, snooze=snooze)
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
