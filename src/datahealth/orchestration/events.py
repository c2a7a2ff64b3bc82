"""Prefect events for incident changes and dataset status changes, so Automations can act on them.

Prefect Automations react to events, not to artifacts: a `datahealth.incident.opened` event with the
dataset as its resource is what lets an operator page someone, notify a dataset's owners or start a
downstream deployment once its inputs are healthy again. The event names and resource ids are a public,
documented contract (docs/prefect.md):

- `datahealth.incident.opened` / `.escalated` / `.changed` / `.resolved` / `.acknowledged` /
  `.snoozed`: one per incident change recorded by a run (or by `datahealth incidents ack|snooze`);
- `datahealth.dataset.status`: when a dataset's status differs from its previous run's (and on its
  first run).

The resource is `datahealth.dataset.<source>.<dataset>` with the labels `source`, `owners`, `tags`
(comma-separated) and `severity`; the flow run is a related resource. Builders are pure (tested
without Prefect); `emit` sends them through Prefect's events client.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prefect.events import emit_event
from prefect.events.worker import EventsWorker
from prefect.settings import PREFECT_API_URL

from datahealth.config.models import Project
from datahealth.core.redaction import redact
from datahealth.core.results import Status
from datahealth.rules.findings import SEVERITY_RANK, Incident, IncidentChange, IncidentEvent
from datahealth.store.read.base import Reader
from datahealth.store.read.observations import latest_observations

RESOURCE_PREFIX = "datahealth.dataset."
STATUS_EVENT = "datahealth.dataset.status"
INCIDENT_EVENT_PREFIX = "datahealth.incident."


@dataclass(frozen=True)
class PlannedEvent:
    """One event as Prefect's `emit_event` takes it."""

    event: str
    resource: dict[str, str]
    related: list[dict[str, str]] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)


def resource_id(dataset: str) -> str:
    """`datahealth.dataset.warehouse.orders` for dataset `warehouse.orders`."""
    return RESOURCE_PREFIX + dataset


def dataset_resource(project: Project, dataset: str, severity: str | None = None) -> dict[str, str]:
    """The dataset as a Prefect resource; labels are strings (lists joined with commas)."""
    config = project.config.datasets.get(dataset)
    source = dataset.split(".", 1)[0]
    return {
        "prefect.resource.id": resource_id(dataset),
        "prefect.resource.name": dataset,
        "source": source,
        "owners": ",".join(config.owners) if config else "",
        "tags": ",".join(config.tags) if config else "",
        "severity": severity or (config.severity if config else "error"),
        "project": project.config.project.name,
    }


def flow_run_related(flow_run_id: str | None, flow_run_name: str | None = None) -> list[dict[str, str]]:
    if not flow_run_id:
        return []
    related = {"prefect.resource.id": f"prefect.flow-run.{flow_run_id}", "prefect.resource.role": "flow-run"}
    if flow_run_name:
        related["prefect.resource.name"] = flow_run_name
    return [related]


def incident_event_name(change: IncidentChange) -> str | None:
    """`opened`, `escalated` (severity went up), `changed`, `resolved`, `acknowledged`, `snoozed`; none
    for an ongoing incident (nothing happened to it)."""
    if change.event == IncidentEvent.ONGOING:
        return None
    if change.event == IncidentEvent.CHANGED and change.previous_severity is not None:
        before = SEVERITY_RANK.get(change.previous_severity, 0)
        if SEVERITY_RANK.get(change.incident.severity, 0) > before:
            return INCIDENT_EVENT_PREFIX + "escalated"
    return INCIDENT_EVENT_PREFIX + change.event.value


def incident_events(
    project: Project, changes: Iterable[IncidentChange], related: list[dict[str, str]]
) -> list[PlannedEvent]:
    planned = []
    for change in changes:
        name = incident_event_name(change)
        if name is None:
            continue
        incident = change.incident
        payload = {
            "incident_id": incident.id,
            "dataset": incident.dataset,
            "kind": incident.kind,
            "subject": redact(incident.subject),
            "severity": incident.severity,
            "previous_severity": change.previous_severity,
            "status": incident.status.value,
            "title": redact(incident.title),
            "message": redact(incident.message),
            "reason": redact(change.reason),
            "opened_at": incident.opened_at.isoformat(),
            "occurrences": incident.occurrences,
        }
        resource = dataset_resource(project, incident.dataset, incident.severity)
        planned.append(PlannedEvent(name, resource, list(related), payload))
    return planned


def status_events(
    project: Project,
    previous: Mapping[str, Status],
    current: Mapping[str, Status],
    related: list[dict[str, str]],
    *,
    as_of: str,
) -> list[PlannedEvent]:
    """One `datahealth.dataset.status` per dataset whose status changed (or that has no previous one)."""
    planned = []
    for dataset, status in sorted(current.items()):
        before = previous.get(dataset)
        if before == status:
            continue
        value = Status(status).value
        payload = {
            "dataset": dataset,
            "status": value,
            "previous_status": Status(before).value if before is not None else None,
            "as_of": as_of,
        }
        resource = dataset_resource(project, dataset) | {"status": value}  # triggers match labels
        planned.append(PlannedEvent(STATUS_EVENT, resource, list(related), payload))
    return planned


def previous_statuses(store: Reader, datasets: list[str], as_of: datetime) -> dict[str, Status]:
    """Each dataset's status before this run (read before the run records its own), in one query."""
    return {name: obs.status for name, obs in latest_observations(store, datasets, as_of=as_of).items()}


def emit_quieted(project: Project, incident: Incident, *, snoozed: bool) -> int:
    """`datahealth.incident.acknowledged` / `.snoozed` for `datahealth incidents ack|snooze`.

    Sent only to a configured Prefect server (PREFECT_API_URL): a command line must not start Prefect's
    temporary server just to announce an acknowledgement nobody could see there.
    """
    if not isinstance(PREFECT_API_URL.value(), str):
        return 0
    event = IncidentEvent.SNOOZED if snoozed else IncidentEvent.ACKNOWLEDGED
    sent = emit(incident_events(project, [IncidentChange(incident, event)], []))
    EventsWorker.drain_all()
    return sent


def emit(planned: Iterable[PlannedEvent]) -> int:
    """Send the events through Prefect's events client; returns how many were handed over."""
    sent = 0
    for item in planned:
        if emit_event(item.event, resource=item.resource, related=item.related, payload=item.payload):
            sent += 1
    return sent
