"""Findings and incidents: what evaluation decided is wrong, in the shape every publisher reads.

A `Finding` is one problem seen in one run. Its fingerprint (dataset + kind + subject) is stable across
runs, so the same problem seen again continues the same `Incident` instead of raising a new alert.
Publishers (Prometheus, Slack, report, Prefect artifacts) read `RunEvaluation` and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from datahealth.core.results import Status


class FindingKind(StrEnum):
    FRESHNESS = "freshness"
    CHECK = "check"
    ANOMALY = "anomaly"
    SCHEMA_CHANGE = "schema_change"
    ERROR = "error"


SEVERITY_RANK = {"warn": 1, "error": 2}


@dataclass(frozen=True)
class Finding:
    dataset: str
    kind: FindingKind
    subject: str
    severity: str
    title: str
    message: str = ""
    observed: str | None = None
    expected: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def fingerprint(self) -> str:
        return f"{self.dataset}|{self.kind.value}|{self.subject}"


class IncidentStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"
    RESOLVED = "resolved"


class IncidentEvent(StrEnum):
    OPENED = "opened"
    CHANGED = "changed"
    ONGOING = "ongoing"
    RESOLVED = "resolved"
    # The rule that could resolve it errored or was not evaluated: the incident stays open, marked
    # "could not verify since …" (`details["unverified_since"]`); recorded once, until it is verified again.
    UNVERIFIED = "unverified"
    # A problem back soon after it resolved (within `anomaly.reopen_within`): the old incident and its
    # thread continue instead of a new alert.
    REOPENED = "reopened"
    # Recorded in the incident's history by `datahealth incidents ack|snooze`; never a run's change.
    ACKNOWLEDGED = "acknowledged"
    SNOOZED = "snoozed"


@dataclass(frozen=True)
class Incident:
    id: int
    fingerprint: str
    dataset: str
    kind: str
    subject: str
    severity: str
    status: IncidentStatus
    title: str
    message: str
    opened_at: datetime
    updated_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None = None
    occurrences: int = 1
    quiet_until: datetime | None = None
    acknowledged_by: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status != IncidentStatus.RESOLVED

    def is_quiet(self, now: datetime) -> bool:
        """Acknowledged or snoozed incidents stay quiet until their time runs out.

        An acknowledgement without an end (`datahealth incidents ack ID` without `--for`) holds until the
        incident resolves.
        """
        if self.status == IncidentStatus.ACKNOWLEDGED and self.quiet_until is None:
            return True
        return self.quiet_until is not None and now < self.quiet_until


@dataclass(frozen=True)
class IncidentChange:
    """What happened to an incident in this run; publishers alert on OPENED, CHANGED and RESOLVED."""

    incident: Incident
    event: IncidentEvent
    finding: Finding | None = None
    previous_severity: str | None = None
    reason: str = ""  # why a CHANGED is a change ("severity warn → error", "quiet period ended", ...)


@dataclass
class RunEvaluation:
    """Evaluation's verdict on a run: per-dataset status and score, findings, incident changes."""

    statuses: dict[str, Status]
    scores: dict[str, float]
    findings: list[Finding] = field(default_factory=list)
    changes: list[IncidentChange] = field(default_factory=list)
    open_incidents: list[Incident] = field(default_factory=list)
    health_score: float = 100.0  # the run's score: mean of `scores` (100 for an empty run)
    notes: dict[str, list[str]] = field(default_factory=dict)  # per dataset: why a rule gave no verdict yet
    # per dataset: why it is in error or what could not be verified (never empty when present)
    reasons: dict[str, str] = field(default_factory=dict)
    # per dataset: the volume detector's expected row-count range this run (what the report's band shows)
    expected_rows: dict[str, tuple[float, float]] = field(default_factory=dict)

    def findings_for(self, dataset: str) -> list[Finding]:
        return [f for f in self.findings if f.dataset == dataset]
