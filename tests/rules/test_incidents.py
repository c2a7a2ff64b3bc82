"""The pure incident lifecycle: open, ongoing (not re-alerted), changed, resolved, quiet periods, coverage."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from datahealth.core.results import Status
from datahealth.rules.findings import Finding, FindingKind, Incident, IncidentEvent, IncidentStatus
from datahealth.rules.incidents import Coverage, open_after, plan_changes, quiet
from datahealth.rules.status import health_score, run_score, status_from_incidents

T0 = datetime(2026, 10, 1, 7, 30, tzinfo=UTC)
DAY = timedelta(days=1)
SEEN = {"warehouse.orders": Coverage(checks=True, columns=True)}


def stale(severity: str = "warn", key: str = "warn") -> Finding:
    return Finding(
        "warehouse.orders",
        FindingKind.FRESHNESS,
        "sla",
        severity,
        "orders is stale",
        details={"change_key": key},
    )


def run(
    findings: list[Finding], open_: list[Incident], at: datetime, coverage: dict[str, Coverage] | None = None
) -> tuple[list, list[Incident]]:
    changes = plan_changes(findings, open_, SEEN if coverage is None else coverage, at)
    stored = []
    for number, change in enumerate(changes, start=100):  # what the store does: give new incidents ids
        if change.incident.id == 0:
            change = dataclasses.replace(change, incident=dataclasses.replace(change.incident, id=number))
        stored.append(change)
    return stored, open_after(open_, stored)


def test_open_ongoing_changed_resolved() -> None:
    changes, open_ = run([stale()], [], T0)
    assert [c.event for c in changes] == [IncidentEvent.OPENED] and open_[0].status == IncidentStatus.OPEN
    changes, open_ = run([stale()], open_, T0 + DAY)
    assert [c.event for c in changes] == [IncidentEvent.ONGOING]
    assert open_[0].occurrences == 2 and open_[0].updated_at == T0 and open_[0].last_seen_at == T0 + DAY
    changes, open_ = run([stale("error", "error")], open_, T0 + 2 * DAY)
    assert [(c.event, c.previous_severity, c.reason) for c in changes] == [
        (IncidentEvent.CHANGED, "warn", "severity warn → error")
    ]
    changes, open_ = run([], open_, T0 + 3 * DAY)
    assert [c.event for c in changes] == [IncidentEvent.RESOLVED] and open_ == []
    assert changes[0].incident.resolved_at == T0 + 3 * DAY and changes[0].incident.id == 100


def test_severity_going_down_is_not_an_alert() -> None:
    _, open_ = run([stale("error", "error")], [], T0)
    changes, open_ = run([stale("warn", "error")], open_, T0 + DAY)
    assert changes[0].event == IncidentEvent.ONGOING and open_[0].severity == "warn"


def test_a_different_problem_under_the_same_fingerprint_is_a_change() -> None:
    drop = Finding(
        "warehouse.orders",
        FindingKind.ANOMALY,
        "volume",
        "warn",
        "drop",
        details={"change_key": "rows_added:drop"},
    )
    spike = dataclasses.replace(drop, title="spike", details={"change_key": "rows_added:spike"})
    _, open_ = run([drop], [], T0)
    changes, _ = run([spike], open_, T0 + DAY)
    assert changes[0].event == IncidentEvent.CHANGED and changes[0].reason == "what is wrong changed"


def test_a_rule_not_evaluated_does_not_resolve() -> None:
    check = Finding("warehouse.orders", FindingKind.CHECK, "id.duplicate", "error", "duplicates")
    _, open_ = run([check], [], T0)
    metadata_only = {"warehouse.orders": Coverage(checks=False)}
    changes, open_ = run([], open_, T0 + timedelta(minutes=15), metadata_only)
    assert changes == [] and len(open_) == 1
    unreachable = {"warehouse.orders": Coverage(observed=False)}
    assert run([], open_, T0 + timedelta(minutes=30), unreachable)[0] == []
    not_in_run: dict[str, Coverage] = {}
    assert run([], open_, T0 + timedelta(minutes=45), not_in_run)[0] == []
    changes, _ = run([], open_, T0 + DAY)
    assert [c.event for c in changes] == [IncidentEvent.RESOLVED]


def test_monitor_errors_always_resolve_when_the_dataset_is_seen_again() -> None:
    error = Finding("warehouse.orders", FindingKind.ERROR, "observe", "error", "unreachable")
    _, open_ = run([error], [], T0)
    assert status_from_incidents(open_) == Status.UNKNOWN and health_score(open_) == 0.0
    changes, _ = run([], open_, T0 + DAY, {"warehouse.orders": Coverage(observed=False)})
    assert [c.event for c in changes] == [IncidentEvent.RESOLVED]


def test_acknowledged_incident_stays_quiet_then_reminds_when_the_time_runs_out() -> None:
    _, open_ = run([stale()], [], T0)
    acked = quiet(open_[0], T0 + timedelta(hours=1), duration=timedelta(hours=4), by="ana", snooze=False)
    assert acked.status == IncidentStatus.ACKNOWLEDGED and acked.is_quiet(T0 + timedelta(hours=3))
    assert not acked.is_quiet(T0 + timedelta(hours=6))
    changes, open_ = run([stale()], [acked], T0 + timedelta(hours=2))
    assert changes[0].event == IncidentEvent.ONGOING and open_[0].acknowledged_by == "ana"
    changes, open_ = run([stale()], open_, T0 + timedelta(hours=6))
    assert changes[0].event == IncidentEvent.CHANGED and "acknowledged period ended" in changes[0].reason
    assert open_[0].status == IncidentStatus.OPEN and open_[0].quiet_until is None


def test_ack_without_end_lasts_until_resolved_and_snooze_needs_a_duration() -> None:
    _, open_ = run([stale()], [], T0)
    acked = quiet(open_[0], T0, duration=None, by="ana", snooze=False)
    assert acked.is_quiet(T0 + timedelta(days=365))
    changes, _ = run([stale()], [acked], T0 + 30 * DAY)
    assert changes[0].event == IncidentEvent.ONGOING
    with pytest.raises(ValueError, match="snooze needs --for"):
        quiet(open_[0], T0, duration=None, by=None, snooze=True)
    resolved, _ = run([], open_, T0 + DAY)
    with pytest.raises(ValueError, match="is resolved"):
        quiet(resolved[0].incident, T0, duration=timedelta(hours=1), by=None, snooze=False)


def test_resolved_problem_that_returns_is_a_new_incident() -> None:
    changes, open_ = run([stale()], [], T0)
    _, open_ = run([], open_, T0 + DAY)
    changes, open_ = run([stale()], open_, T0 + 2 * DAY)
    assert changes[0].event == IncidentEvent.OPENED and open_[0].opened_at == T0 + 2 * DAY


def test_status_and_score_from_open_incidents() -> None:
    warn = Finding("a.b", FindingKind.ANOMALY, "volume", "warn", "x")
    error = Finding("a.b", FindingKind.CHECK, "c", "error", "y")
    _, open_ = run([warn, error], [], T0, {"a.b": Coverage()})
    assert status_from_incidents(open_) == Status.FAIL
    assert health_score(open_) == pytest.approx(100 * 0.5 * 0.85, abs=0.1)
    assert status_from_incidents(open_[:1] if open_[0].severity == "warn" else open_[1:]) == Status.WARN
    assert status_from_incidents([]) == Status.OK and run_score([]) == 100.0 and run_score([100, 50]) == 75.0
