"""One incident row reads as the same `Incident` through every reader: evaluation, CLI, report, metrics.

The incident row mapping used to be written twice and had drifted: the report masked secrets in titles
and messages and tolerated a status it did not know, `datahealth incidents` and evaluation did neither.
Now every reader goes through `read.stored_incident`; this test reads one hostile row through all of them.
"""

from __future__ import annotations

import json

from typer.testing import CliRunner

from datahealth.cli import app
from datahealth.cli.incidents_cmd import incident_json
from datahealth.config import Project
from datahealth.core.redaction import register_secret
from datahealth.publish.prometheus.state import state_from_store
from datahealth.report.data import gather_report_data
from datahealth.rules.findings import IncidentStatus
from datahealth.store import HistoryStore, read
from datahealth.store.queries import load_history
from datahealth.store.tables import incident_events, incidents
from tests.store.read.conftest import DATASET, DAY, T0, record_run

SECRET = "drift-secret-8c1f2a"  # registered only after the row was written, like a rotated credential


def write_hostile_incident(store: HistoryStore) -> int:
    """An incident as an older version might have left it: a secret in its text, a status from the future."""
    with store.engine.begin() as conn:
        key = conn.execute(
            incidents.insert().values(
                fingerprint=f"{DATASET}|check|email.missing",
                dataset=DATASET,
                kind="check",
                subject=None,
                severity="error",
                status="escalated",
                title=f"{DATASET}: check failed (login {SECRET})",
                message=f"driver said {SECRET}",
                opened_at=T0,
                updated_at=T0 + DAY,
                last_seen_at=T0 + DAY,
                occurrences=2,
                details=["not", "an", "object"],
            )
        ).inserted_primary_key
        assert key is not None
        conn.execute(
            incident_events.insert().values(
                incident_id=key[0], at=T0, event="opened", details={"reason": "new"}
            )
        )
    register_secret(SECRET)
    return int(key[0])


def test_every_reader_sees_the_same_incident(project: Project, store: HistoryStore) -> None:
    record_run(store, T0 + DAY, 10)
    incident_id = write_hostile_incident(store)
    incident = read.get_incident(store, incident_id)
    assert incident is not None
    assert SECRET not in incident.title + incident.message and "***" in incident.title
    assert (incident.status, incident.subject, incident.details) == (IncidentStatus.OPEN, "", {})

    assert read.open_incidents(store) == [incident]
    assert read.list_incidents(store, status="all") == [incident]
    assert read.incidents_active_between(store, T0, T0 + 2 * DAY) == [incident]
    history = load_history(store, project.datasets, T0 + 2 * DAY)
    assert history.open_incidents == [incident] and history.active_incidents == [incident]
    report = gather_report_data(project, store)
    assert report.incidents == [incident]
    assert report.incident_events == {incident_id: ((T0, "opened"),)}
    [metrics] = state_from_store(project, store).datasets
    assert metrics.incidents_open == {"error": 1}

    runner = CliRunner()
    shown = runner.invoke(app, ["incidents", "show", str(incident_id), "-p", str(project.root), "-f", "json"])
    listed = runner.invoke(app, ["incidents", "list", "-p", str(project.root), "-f", "json"])
    assert shown.exit_code == 0 and listed.exit_code == 0
    document = json.loads(shown.output)
    assert document.pop("events") == [
        {
            "incident_id": incident_id,
            "at": T0.isoformat(),
            "event": "opened",
            "run_id": None,
            "details": {"reason": "new"},
        }
    ]
    assert document == json.loads(json.dumps(incident_json(incident), default=str))
    assert json.loads(listed.output) == [document]
    assert SECRET not in shown.output + listed.output
