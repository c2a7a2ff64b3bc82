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
- unknown is not healthy: when the rule errored or was not evaluated (a rejected contract, a check Soda
  did not evaluate, a source lost before the scan, an observation that failed) the incident stays open and
  is marked UNVERIFIED once, "could not verify since <time>: <reason>", until a run evaluates it again. An
  errored check never replaces the failure it was meant to re-check: that is unverified too;
- hysteresis: an anomaly incident resolves after `anomaly.resolve_after_runs` clean runs in a row (a
  noisy metric back inside its band once is not yet fixed); a problem back within
  `anomaly.reopen_within` of resolving REOPENS its old incident (same id, same Slack thread);
- an incident keeps the title and evidence it opened with; later observations are its events;
- acknowledged / snoozed incidents keep their lifecycle; publishers stay quiet until `quiet_until`
  (`Incident.is_quiet`). An acknowledgement without an end lasts until the incident resolves.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from datahealth.core.durations import format_duration
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
    "freshness_checks",
    "duplicate_checks",
)


# What an incident keeps from the finding that opened it (its title and message stay too).
_OPENING_EVIDENCE = ("observed", "expected", "low", "high", "expected_range")
CLEAN_RUNS = "clean_runs"  # incident detail: clean runs in a row so far (anomaly hysteresis)
UNVERIFIED_SINCE = "unverified_since"  # incident detail: when a run last could not verify it (ISO time)
UNVERIFIED_REASON = "unverified_reason"


@dataclass(frozen=True)
class Coverage:
    """Which rules a run evaluated for one dataset: only those can resolve the dataset's incidents.

    `checks` says the checks stage ran. `checks_passed` (when not None) narrows it to the checks that were
    evaluated this run: only those, or checks no longer planned after a scan without errors
    (`checks_clean`), resolve. `failures` says why a rule could not be evaluated (`observe`, `checks`,
    `columns`, `volume`, or `check:<name>`), so an incident it leaves open is marked unverified with a reason.
    """

    observed: bool = True
    freshness: bool = True
    schema: bool = True
    volume: bool = True
    columns: bool = False
    checks: bool = False
    checks_passed: frozenset[str] | None = None
    checks_clean: bool = True
    checks_planned: frozenset[str] = frozenset()
    failures: Mapping[str, str] = dataclasses.field(default_factory=dict)
    resolve_after_runs: int = 1  # anomaly incidents: consecutive clean runs before they resolve
    reopen_within: timedelta = timedelta(0)  # a problem back this soon continues its resolved incident

    def covers(self, kind: str, subject: str, details: Mapping[str, Any] | None = None) -> bool:
        if kind == FindingKind.ERROR:
            return True  # every run tries to observe and evaluate
        if not self.observed:
            return False
        if kind == FindingKind.FRESHNESS:  # a contract freshness check in it must have passed too
            checks = (details or {}).get("freshness_checks") or ()
            return self.freshness and all(self.covers(FindingKind.CHECK, c) for c in checks)
        if kind == FindingKind.SCHEMA_CHANGE:
            return self.schema
        if kind == FindingKind.ANOMALY:
            return self.columns if subject.startswith("column.") else self.volume
        if kind == FindingKind.CHECK:
            if not self.checks:
                return False
            if self.checks_passed is None or subject in self.checks_passed:
                return True
            return self.checks_clean and subject not in self.checks_planned  # the check was removed
        return False

    def failure(self, kind: str, subject: str) -> str | None:
        """Why the rule behind an incident could not be evaluated this run; None when it was not asked."""
        if kind == FindingKind.ERROR:
            return None
        if not self.observed:
            return self.failures.get("observe") or "the dataset could not be observed"
        if kind == FindingKind.CHECK:
            return self.failures.get(f"check:{subject}") or self.failures.get("checks")
        if kind == FindingKind.ANOMALY:
            return self.failures.get("columns" if subject.startswith("column.") else "volume")
        return self.failures.get(kind)


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


def unverify_incident(incident: Incident, reason: str, at: datetime) -> IncidentChange | None:
    """Mark an incident "could not verify since …" (once: None when it is already marked)."""
    if UNVERIFIED_SINCE in incident.details:
        return None
    details = {**incident.details, UNVERIFIED_SINCE: at.isoformat(), UNVERIFIED_REASON: reason}
    updated = dataclasses.replace(incident, updated_at=at, details=details)
    return IncidentChange(updated, IncidentEvent.UNVERIFIED, None, incident.severity, reason)


def _is_check_error(finding: Finding) -> bool:
    return finding.kind == FindingKind.CHECK and finding.details.get("outcome") == "error"


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
    details = incident_details(finding)
    details.update({k: incident.details[k] for k in _OPENING_EVIDENCE if k in incident.details})
    updated = dataclasses.replace(
        incident,
        severity=finding.severity,
        status=status,
        # the title and evidence it opened with stay; later observations are its events (and findings)
        title=incident.title,
        message=incident.message,
        updated_at=at if reasons else incident.updated_at,
        last_seen_at=at,
        occurrences=incident.occurrences + 1,
        quiet_until=quiet_until,
        acknowledged_by=acknowledged_by,
        details=details,
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


def reopen_incident(incident: Incident, finding: Finding, at: datetime) -> IncidentChange:
    """A problem back soon after its incident resolved: the same incident (and Slack thread) again."""
    change = continue_incident(incident, finding, at)
    assert incident.resolved_at is not None
    reopened = dataclasses.replace(
        change.incident, status=IncidentStatus.OPEN, resolved_at=None, updated_at=at, quiet_until=None
    )
    reason = f"back {format_duration(at - incident.resolved_at)} after it resolved"
    return IncidentChange(reopened, IncidentEvent.REOPENED, finding, incident.severity, reason)


def _clean_run(incident: Incident, needed: int, at: datetime) -> IncidentChange:
    """One more clean run of an anomaly incident: RESOLVED once `needed` in a row were clean."""
    clean = int(incident.details.get(CLEAN_RUNS, 0)) + 1
    if clean >= needed:
        return resolve_incident(incident, at)
    details = {**incident.details, CLEAN_RUNS: clean}
    return IncidentChange(dataclasses.replace(incident, details=details), IncidentEvent.ONGOING)


def plan_changes(
    findings: Sequence[Finding],
    open_incidents: Sequence[Incident],
    coverage: Mapping[str, Coverage],
    at: datetime,
    recently_resolved: Sequence[Incident] = (),
) -> list[IncidentChange]:
    """What happens to every incident this run touches (see the module docstring for the rules)."""
    current: dict[str, Incident] = {}
    for incident in sorted(open_incidents, key=lambda i: i.id):
        if incident.is_open:
            current[incident.fingerprint] = incident  # the newest wins should the store hold two
    resolved = {i.fingerprint: i for i in sorted(recently_resolved, key=lambda i: i.id) if i.resolved_at}
    changes: list[IncidentChange] = []
    seen = _worst_per_fingerprint(f for f in findings if not f.details.get("report_only"))
    for fingerprint, finding in seen.items():
        known = current.get(fingerprint)
        earlier = resolved.get(fingerprint)
        window = coverage[finding.dataset].reopen_within if finding.dataset in coverage else timedelta(0)
        if known is None and earlier is not None and at - earlier.resolved_at <= window:  # type: ignore[operator]
            changes.append(reopen_incident(earlier, finding, at))
        elif known is None:
            changes.append(IncidentChange(new_incident(finding, at), IncidentEvent.OPENED, finding))
        elif _is_check_error(finding) and known.details.get("outcome") not in (None, "error"):
            # the check that failed could not be re-run: that says nothing about the data
            unverified = unverify_incident(known, finding.message or finding.title, at)
            if unverified is not None:
                changes.append(unverified)
        else:
            changes.append(continue_incident(known, finding, at))
    for fingerprint, incident in current.items():
        if fingerprint in seen:
            continue
        evaluated = coverage.get(incident.dataset)
        if evaluated is None:
            continue
        if evaluated.covers(incident.kind, incident.subject, incident.details):
            needed = evaluated.resolve_after_runs if incident.kind == FindingKind.ANOMALY else 1
            changes.append(_clean_run(incident, needed, at))
            continue
        reason = evaluated.failure(incident.kind, incident.subject)
        if reason:
            unverified = unverify_incident(incident, reason, at)
            if unverified is not None:
                changes.append(unverified)
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
