"""Prefect events for incident and status changes: the builders, and on a real Prefect server an
incident that opens emits `datahealth.incident.opened` and the shipped "page on error incident"
Automation fires its notification."""

from __future__ import annotations

import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest
import yaml
from prefect.blocks.notifications import CustomWebhookNotificationBlock
from prefect.events.schemas.deployment_triggers import DeploymentEventTrigger
from prefect.events.schemas.events import Resource
from prefect.settings import PREFECT_API_URL, temporary_settings

from datahealth.config import load_project
from datahealth.core.results import Status
from datahealth.orchestration import automations, events
from datahealth.rules.findings import Incident, IncidentChange, IncidentEvent, IncidentStatus
from tests.orchestration.prefect_server import PrefectServer
from tests.orchestration.projects import sqlite_project
from tests.orchestration.receiver import http_receiver

REPO = Path(__file__).resolve().parents[2]
DATAHEALTH = str(Path(sys.executable).with_name("datahealth"))
STALE_AS_OF = "2026-10-06T07:00:00+00:00"  # the tables' newest row is 26 h old: past the 12 h error SLA
WHEN = datetime(2026, 10, 6, 7, tzinfo=UTC)


def _incident(severity: str = "error", status: IncidentStatus = IncidentStatus.OPEN) -> Incident:
    return Incident(
        id=7,
        fingerprint="warehouse.orders|freshness|sla",
        dataset="warehouse.orders",
        kind="freshness",
        subject="sla",
        severity=severity,
        status=status,
        title="warehouse.orders is 26h stale",
        message="last updated 26h ago",
        opened_at=WHEN,
        updated_at=WHEN,
        last_seen_at=WHEN,
    )


def test_incident_changes_map_to_documented_event_names() -> None:
    def name(event: IncidentEvent, previous: str | None = None, severity: str = "error") -> str | None:
        return events.incident_event_name(
            IncidentChange(_incident(severity), event, previous_severity=previous)
        )

    assert name(IncidentEvent.OPENED) == "datahealth.incident.opened"
    assert name(IncidentEvent.CHANGED, previous="warn") == "datahealth.incident.escalated"
    assert name(IncidentEvent.CHANGED, previous="error", severity="warn") == "datahealth.incident.changed"
    assert name(IncidentEvent.RESOLVED) == "datahealth.incident.resolved"
    assert name(IncidentEvent.ACKNOWLEDGED) == "datahealth.incident.acknowledged"
    assert name(IncidentEvent.ONGOING) is None


def test_resource_labels_and_status_changes_only(tmp_path: Path) -> None:
    root = sqlite_project(tmp_path, ["orders", "customers"])
    project = load_project(root)
    related = events.flow_run_related("abc", "data-health daily")
    planned = events.incident_events(project, [IncidentChange(_incident(), IncidentEvent.OPENED)], related)
    assert [p.event for p in planned] == ["datahealth.incident.opened"]
    assert planned[0].resource["prefect.resource.id"] == "datahealth.dataset.warehouse.orders"
    assert planned[0].resource["source"] == "warehouse" and planned[0].resource["severity"] == "error"
    assert planned[0].related == [
        {
            "prefect.resource.id": "prefect.flow-run.abc",
            "prefect.resource.role": "flow-run",
            "prefect.resource.name": "data-health daily",
        }
    ]
    assert planned[0].payload["incident_id"] == 7
    changed = events.status_events(
        project,
        {"warehouse.orders": Status.OK, "warehouse.customers": Status.OK},
        {"warehouse.orders": Status.UNKNOWN, "warehouse.customers": Status.OK},
        related,
        as_of=STALE_AS_OF,
    )
    assert [
        (p.resource["prefect.resource.name"], p.payload["status"], p.payload["previous_status"])
        for p in changed
    ] == [("warehouse.orders", Status.UNKNOWN.value, Status.OK.value)]


def _datahealth_events(server: PrefectServer, count: int, timeout: float = 60) -> list[dict[str, Any]]:
    """The datahealth events the server has stored (it persists them asynchronously: poll)."""
    body = {"filter": {"event": {"prefix": ["datahealth."]}}, "limit": 50}
    deadline = time.monotonic() + timeout
    while True:
        found = httpx.post(f"{server.api_url}/events/filter", json=body, timeout=10).json()["events"]
        if len(found) >= count or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


@pytest.mark.slow
def test_an_opened_incident_is_an_event_and_fires_the_paging_automation(
    tmp_path: Path, prefect_api_server: PrefectServer
) -> None:
    server = prefect_api_server
    root = sqlite_project(
        tmp_path / "project",
        ["orders"],
        project={"name": "events-it", "task_retry_delay": "0.1s"},
        extra_datasets={},
        publish={"prometheus": {"textfile": None}},
    )
    with http_receiver() as pager, temporary_settings({PREFECT_API_URL: server.api_url}):
        for name in ("datahealth-pager", "datahealth-owners"):
            CustomWebhookNotificationBlock(
                name=name,
                url=f"{pager.url}/{name}",
                json_data={"subject": "{{subject}}", "body": "{{body}}"},
                allow_private_urls=True,
            ).save(name)
        applied = subprocess.run(
            [DATAHEALTH, "automations", "apply", str(REPO / "deploy" / "prefect" / "automations")],
            env=server.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert applied.returncode == 0, applied.stdout + applied.stderr
        assert "created datahealth - page on error incident" in " ".join(applied.stdout.split())

        ran = subprocess.run(
            [DATAHEALTH, "run", "-p", str(root), "--as-of", STALE_AS_OF, "--format", "json"],
            env=server.env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert ran.returncode == 0, ran.stdout[-2000:] + ran.stderr[-3000:]

        found = _datahealth_events(server, 2)
        by_name = {e["event"]: e for e in found}
        assert set(by_name) >= {"datahealth.incident.opened", "datahealth.dataset.status"}, found
        opened = by_name["datahealth.incident.opened"]
        assert opened["resource"]["prefect.resource.id"] == "datahealth.dataset.warehouse.orders"
        assert opened["resource"]["severity"] == "error" and opened["resource"]["source"] == "warehouse"
        roles = {r["prefect.resource.role"] for r in opened["related"]}
        assert "flow-run" in roles
        assert by_name["datahealth.dataset.status"]["payload"]["status"] == Status.FAIL.value

        requests = dict(pager.wait_for(2))  # both automations match an error incident opening
        assert "warehouse.orders" in requests["/datahealth-pager"]["subject"]
        assert "Owners:" in requests["/datahealth-owners"]["body"]

        incident_id = str(opened["payload"]["incident_id"])
        acked = subprocess.run(
            [DATAHEALTH, "incidents", "ack", incident_id, "-p", str(root), "--by", "oncall"],
            env=server.env(),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert acked.returncode == 0, acked.stdout + acked.stderr
        names = [e["event"] for e in _datahealth_events(server, len(found) + 1)]
        assert "datahealth.incident.acknowledged" in names, names


def test_the_campaign_trigger_matches_only_an_ok_status_event(tmp_path: Path) -> None:
    document = yaml.safe_load((REPO / "deploy" / "prefect" / "campaign-send" / "prefect.yaml").read_text())
    trigger = DeploymentEventTrigger.model_validate(document["deployments"][0]["triggers"][0])
    project = load_project(sqlite_project(tmp_path, ["orders"]))

    def resource(status: Status) -> Resource:
        planned = events.status_events(project, {}, {"warehouse.orders": status}, [], as_of=STALE_AS_OF)
        return Resource.model_validate(planned[0].resource)

    assert trigger.expect == {events.STATUS_EVENT}
    assert trigger.match.matches(resource(Status.OK))
    assert not trigger.match.matches(resource(Status.FAIL))


def test_shipped_automations_are_valid_and_name_their_blocks(tmp_path: Path) -> None:
    files = automations.automation_files(REPO / "deploy" / "prefect" / "automations")
    ids = {"custom-webhook/datahealth-pager": str(uuid4()), "custom-webhook/datahealth-owners": str(uuid4())}
    built = [automations.build_automation(f, automations.load_automation(f), ids) for f in files]
    assert sorted(a.name for a in built) == [
        "datahealth - notify owners",
        "datahealth - page on error incident",
    ]
    assert {str(a.actions[0].block_document_id) for a in built} == set(ids.values())  # type: ignore[union-attr]
    with pytest.raises(
        automations.AutomationFileError, match=r"actions\[0\]\.block: no block 'custom-webhook/"
    ):
        automations.build_automation(files[0], automations.load_automation(files[0]), {})
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: x\ntrigger: {type: event, posture: Sideways}\nactions: []\n")
    with pytest.raises(automations.AutomationFileError, match=r"broken.yaml: trigger"):
        automations.build_automation(broken, automations.load_automation(broken), {})
