"""Finding → incident lifecycle: one incident per problem, from the run that sees it to the run that doesn't.

Pure: `plan_changes` takes this run's findings, the incidents open before the run and what the run
evaluated, and says what happens to each incident; `store/incidents.py` writes that down. The rules:

- a finding with no open incident of the same fingerprint (dataset + kind + subject) OPENS one;
- a finding whose incident is open continues it: ONGOING (not re-alerted), or CHANGED when its
  severity went up, when what is wrong changed (the finding's `change_key`, e.g. a drop became a spike,
  another column changed type) or when an acknowledgement/snooze ran out while it is still failing;
- an open incident without a finding is RESOLVED on the first run that evaluated its rule and found it
  clean. A run that did not evaluate the rule (a metadata-only tier for a check failure, an unreachable
  source for anything but the connection error) leaves it as it is;
- acknowledged / snoozed incidents keep their lifecycle; publishers stay quiet until `quiet_until`
  (`Incident.is_quiet`). An acknowledgement without an end lasts until the incident resolves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from datahealth.rules.findings import (
    SEVERITY_RANK,
    Finding,
    FindingKind,
    Incident,
    IncidentChange,
    IncidentEvent,
    IncidentStatus,
)

# The finding's details an incident keeps (the rest, e.g. an anomaly's history, stays with the finding).
_KEPT_DETAILS = (
    "change_key",
    "metric",
    "column",
    "direction",
    "low",
    "high",
    "expected_range",
    "changes",
    "check_type",
    "outcome",
    "lag_seconds",
    "limit",
    "missed_deadline",
    "error_kind",
    "origin",
)


@dataclass(frozen=True)
class Coverage:
    """Which rules a run evaluated for one dataset: only those can resolve the dataset's incidents."""

    observed: bool = True
    freshness: bool = True
    schema: bool = True
    volume: bool = True
    columns: bool = False
    checks: bool = False

    def covers(self, kind: str, subject: str) -> bool:
        if kind == FindingKind.ERROR:
            return True  # every run tries to observe and evaluate
        if not self.observed:
            return False
        if kind == FindingKind.FRESHNESS:
            return self.freshness
        if kind == FindingKind.SCHEMA_CHANGE:
            return self.schema
        if kind == FindingKind.ANOMALY:
            return self.columns if subject.startswith("column.") else self.volume
        if kind == FindingKind.CHECK:
            return self.checks
        return False


def incident_details(finding: Finding) -> dict[str, Any]:
    details = {k: finding.details[k] for k in _KEPT_DETAILS if k in finding.details}
    details.update(observed=finding.observed, expected=finding.expected)
    return details


def new_incident(finding: Finding, at: datetime) -> Incident:
    """An incident for a finding seen for the first time (id 0 until the store assigns one)."""
    return Incident(
        id=0,
        fingerprint=finding.fingerprint,
        dataset=finding.dataset,
        kind=finding.kind.value,
        subject=finding.subject,
        severity=finding.severity,
        status=IncidentStatus.OPEN,
        title=finding.title,
        message=finding.message,
        opened_at=at,
        updated_at=at,
        last_seen_at=at,
        occurrences=1,
        details=incident_details(finding),
    )


def continue_incident(incident: Incident, finding: Finding, at: datetime) -> IncidentChange:
    """The same problem seen again: ONGOING, or CHANGED when it got worse or different."""
    previous = incident.severity
    reasons: list[str] = []
    if SEVERITY_RANK.get(finding.severity, 0) > SEVERITY_RANK.get(previous, 0):
        reasons.append(f"severity {previous} → {finding.severity}")
    old_key = incident.details.get("change_key")
    new_key = finding.details.get("change_key")
    if not reasons and old_key is not None and new_key is not None and old_key != new_key:
        reasons.append("what is wrong changed")
    status, quiet_until, acknowledged_by = incident.status, incident.quiet_until, incident.acknowledged_by
    if (
        status in (IncidentStatus.ACKNOWLEDGED, IncidentStatus.SNOOZED)
        and quiet_until is not None
        and at >= quiet_until
    ):
        reasons.append(f"{status.value} period ended, still failing")
        status, quiet_until, acknowledged_by = IncidentStatus.OPEN, None, None
    event = IncidentEvent.CHANGED if reasons else IncidentEvent.ONGOING
    updated = dataclasses.replace(
        incident,
        severity=finding.severity,
        status=status,
        title=finding.title,
        message=finding.message,
        updated_at=at if reasons else incident.updated_at,
        last_seen_at=at,
        occurrences=incident.occurrences + 1,
        quiet_until=quiet_until,
        acknowledged_by=acknowledged_by,
        details=incident_details(finding),
    )
    return IncidentChange(updated, event, finding, previous, "; ".join(reasons))


def resolve_incident(incident: Incident, at: datetime) -> IncidentChange:
    resolved = dataclasses.replace(incident, status=IncidentStatus.RESOLVED, resolved_at=at, updated_at=at)
    return IncidentChange(resolved, IncidentEvent.RESOLVED, None, incident.severity, "first clean run")


def _worst_per_fingerprint(findings: Iterable[Finding]) -> dict[str, Finding]:
    chosen: dict[str, Finding] = {}
    for finding in findings:
        kept = chosen.get(finding.fingerprint)
        if kept is None or SEVERITY_RANK.get(finding.severity, 0) > SEVERITY_RANK.get(kept.severity, 0):
            chosen[finding.fingerprint] = finding
    return chosen


def plan_changes(
    findings: Sequence[Finding],
    open_incidents: Sequence[Incident],
    coverage: Mapping[str, Coverage],
    at: datetime,
) -> list[IncidentChange]:
    """What happens to every incident this run touches (see the module docstring for the rules)."""
    current: dict[str, Incident] = {}
    for incident in sorted(open_incidents, key=lambda i: i.id):
        if incident.is_open:
            current[incident.fingerprint] = incident  # the newest wins should the store hold two
    changes: list[IncidentChange] = []
    seen = _worst_per_fingerprint(findings)
    for fingerprint, finding in seen.items():
        known = current.get(fingerprint)
        if known is None:
            changes.append(IncidentChange(new_incident(finding, at), IncidentEvent.OPENED, finding))
        else:
            changes.append(continue_incident(known, finding, at))
    for fingerprint, incident in current.items():
        if fingerprint in seen:
            continue
        evaluated = coverage.get(incident.dataset)
        if evaluated is not None and evaluated.covers(incident.kind, incident.subject):
            changes.append(resolve_incident(incident, at))
    return changes


def open_after(open_incidents: Sequence[Incident], changes: Sequence[IncidentChange]) -> list[Incident]:
    """The incidents open once `changes` apply (new ones still with id 0 until stored)."""
    current = {i.fingerprint: i for i in sorted(open_incidents, key=lambda i: i.id) if i.is_open}
    for change in changes:
        if change.event == IncidentEvent.RESOLVED:
            current.pop(change.incident.fingerprint, None)
        else:
            current[change.incident.fingerprint] = change.incident
    return sorted(current.values(), key=lambda i: (i.dataset, i.opened_at, i.id))


def quiet(
    incident: Incident, now: datetime, *, duration: timedelta | None, by: str | None, snooze: bool
) -> Incident:
    """Acknowledge (someone is on it) or snooze (not now) an open incident; alerts stay quiet meanwhile."""
    if not incident.is_open:
        raise ValueError(
            f"incident {incident.id} is resolved; there is nothing to {'snooze' if snooze else 'acknowledge'}"
        )
    if duration is not None and duration.total_seconds() <= 0:
        raise ValueError("--for must be longer than zero, e.g. 4h")
    if snooze and duration is None:
        raise ValueError("snooze needs --for, e.g. --for 4h")
    return dataclasses.replace(
        incident,
        status=IncidentStatus.SNOOZED if snooze else IncidentStatus.ACKNOWLEDGED,
        quiet_until=None if duration is None else now + duration,
        updated_at=now,
        acknowledged_by=by if not snooze else incident.acknowledged_by,
    )
