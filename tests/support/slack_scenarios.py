"""Builders for Slack publisher tests: a project, a real history store, incidents and a PublishContext.

Incidents are written to the store's `incidents` table (the alert tables reference them), then handed to
the publisher inside a `RunEvaluation`, exactly the shape evaluation produces.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from datahealth.config.models import Project, ProjectConfig
from datahealth.core.results import DatasetResult, Observation
from datahealth.core.run import RunOptions, RunSummary
from datahealth.publish.context import PublishContext
from datahealth.rules.findings import (
    Finding,
    FindingKind,
    Incident,
    IncidentChange,
    IncidentEvent,
    IncidentStatus,
    RunEvaluation,
)
from datahealth.store import HistoryStore
from datahealth.store.tables import incidents

T0 = datetime(2026, 10, 5, 7, 0, tzinfo=UTC)

DATASETS: dict[str, Any] = {
    "warehouse.customers": {"owners": ["crm-team"], "tags": ["pii"]},
    "warehouse.purchases": {"owners": ["commerce-team"], "tags": ["revenue"]},
    "warehouse.products": {"owners": ["commerce-team"]},
    "lake.clickstream": {"owners": ["web-analytics"], "tags": ["events"]},
}

ROUTING: list[dict[str, Any]] = [
    {"name": "crm", "match": {"owners": ["crm-team"]}, "slack_channel": "#crm-data"},
    {
        "name": "revenue",
        "match": {"tags": ["revenue"], "min_severity": "error"},
        "slack_channel": "#revenue-alerts",
        "continue_matching": True,
    },
    {"name": "rest", "slack_channel": "#data-alerts"},
]


def make_project(
    root: Path,
    slack: dict[str, Any] | None = None,
    datasets: dict[str, Any] | None = None,
    routing: list[dict[str, Any]] | None = None,
    **publish: Any,
) -> Project:
    named = {
        name: {"name": name, **spec}
        for name, spec in (datasets if datasets is not None else DATASETS).items()
    }
    config = ProjectConfig.model_validate(
        {
            "history": {"url": f"sqlite:///{root / 'history.db'}"},
            "datasets": named,
            "routing": routing if routing is not None else ROUTING,
            "publish": {"slack": {"retry_budget": "3s", **(slack or {})}, **publish},
        }
    )
    return Project(root=root, config=config)


class Scenario:
    """A project + store; makes incidents and publishes runs over them, one `as_of` at a time."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.store = HistoryStore.open(project.config.history.url, project.root)

    def close(self) -> None:
        self.store.close()

    def incident(
        self,
        dataset: str,
        subject: str = "missing_email",
        *,
        kind: str = "check",
        severity: str = "error",
        title: str | None = None,
        opened_at: datetime = T0,
        observed: str | None = "12",
        expected: str | None = "0",
        **extra: Any,
    ) -> tuple[Incident, Finding]:
        finding = Finding(
            dataset,
            FindingKind(kind),
            subject,
            severity,
            title or f"{dataset}: check {subject} failed",
            "rows with a missing value",
            observed=observed,
            expected=expected,
            details={"column": "email"} if kind == "check" else {},
        )
        with self.store.engine.begin() as conn:
            incident_id = conn.execute(
                incidents.insert().values(
                    fingerprint=finding.fingerprint,
                    dataset=dataset,
                    kind=kind,
                    subject=subject,
                    severity=severity,
                    status="open",
                    title=finding.title,
                    message=finding.message,
                    opened_at=opened_at,
                    updated_at=opened_at,
                    last_seen_at=opened_at,
                )
            ).inserted_primary_key[0]
        incident = Incident(
            id=int(incident_id),
            fingerprint=finding.fingerprint,
            dataset=dataset,
            kind=kind,
            subject=subject,
            severity=severity,
            status=IncidentStatus.OPEN,
            title=finding.title,
            message=finding.message,
            opened_at=opened_at,
            updated_at=opened_at,
            last_seen_at=opened_at,
            **extra,
        )
        return incident, finding

    def context(
        self,
        changes: list[IncidentChange],
        as_of: datetime = T0,
        results: list[DatasetResult] | None = None,
        **kwargs: Any,
    ) -> PublishContext:
        run_id = self.store.start_run(as_of)
        summary = RunSummary(
            run_id=run_id,
            as_of=as_of.isoformat(),
            started_at=as_of.isoformat(),
            duration_seconds=0.0,
            health_score=100.0,
            counts={},
            datasets=[],
        )
        evaluation = RunEvaluation(
            statuses={},
            scores={},
            changes=changes,
            open_incidents=[c.incident for c in changes if c.incident.is_open],
        )
        return PublishContext(
            project=self.project,
            store=self.store,
            run_id=run_id,
            as_of=as_of,
            datasets=self.project.datasets,
            results=results or [],
            evaluation=evaluation,
            summary=summary,
            options=RunOptions(),
            **kwargs,
        )


def opened(incident: Incident, finding: Finding | None = None) -> IncidentChange:
    return IncidentChange(incident, IncidentEvent.OPENED, finding)


def ongoing(incident: Incident, finding: Finding | None = None) -> IncidentChange:
    return IncidentChange(incident, IncidentEvent.ONGOING, finding)


def changed(
    incident: Incident,
    finding: Finding,
    *,
    severity: str | None = None,
    observed: str | None = None,
    at: datetime | None = None,
) -> IncidentChange:
    previous = incident.severity
    updated = replace(incident, severity=severity or incident.severity, updated_at=at or incident.updated_at)
    new_finding = replace(finding, severity=updated.severity, observed=observed or finding.observed)
    return IncidentChange(updated, IncidentEvent.CHANGED, new_finding, previous_severity=previous)


def resolved(incident: Incident, at: datetime) -> IncidentChange:
    done = replace(incident, status=IncidentStatus.RESOLVED, resolved_at=at, updated_at=at)
    return IncidentChange(done, IncidentEvent.RESOLVED)


def quiet(incident: Incident, until: datetime, by: str = "ana") -> Incident:
    return replace(incident, status=IncidentStatus.ACKNOWLEDGED, quiet_until=until, acknowledged_by=by)


def later(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def observation(dataset: str, as_of: datetime = T0) -> Observation:
    return Observation(dataset=dataset, source=dataset.split(".", 1)[0], as_of=as_of, observed_at=as_of)
