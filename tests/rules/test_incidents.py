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
    unreachable = {"warehouse.orders": Coverage(observed=False, failures={"observe": "unreachable: refused"})}
    changes, open_ = run([], open_, T0 + timedelta(minutes=30), unreachable)
    assert [(c.event, c.reason) for c in changes] == [(IncidentEvent.UNVERIFIED, "unreachable: refused")]
    assert (
        len(open_) == 1 and open_[0].details["unverified_since"] == (T0 + timedelta(minutes=30)).isoformat()
    )
    assert run([], open_, T0 + timedelta(minutes=40), unreachable)[0] == []  # marked once, not every run
    not_in_run: dict[str, Coverage] = {}
    assert run([], open_, T0 + timedelta(minutes=45), not_in_run)[0] == []
    changes, _ = run([], open_, T0 + DAY)
    assert [c.event for c in changes] == [IncidentEvent.RESOLVED]


def _checks_run(passed: set[str], planned: set[str], failures: dict[str, str]) -> dict[str, Coverage]:
    return {
        "warehouse.orders": Coverage(
            checks=True,
            checks_passed=frozenset(passed),
            checks_clean=not failures,
            checks_planned=frozenset(planned),
            failures=failures,
        )
    }


def test_only_an_evaluated_passing_check_resolves() -> None:
    check = Finding(
        "warehouse.orders",
        FindingKind.CHECK,
        "country.invalid",
        "error",
        "invalid",
        details={"outcome": "fail"},
    )
    _, open_ = run([check], [], T0)
    rejected = _checks_run({"id.duplicate"}, {"id.duplicate", "contract"}, {"checks": "orders.yml: bad key"})
    changes, open_ = run([], open_, T0 + DAY, rejected)
    assert [(c.event, c.reason) for c in changes] == [(IncidentEvent.UNVERIFIED, "orders.yml: bad key")]
    errored = dataclasses.replace(
        check, message="not evaluated: connection lost", details={"outcome": "error"}
    )
    changes, open_ = run([errored], open_, T0 + 2 * DAY, rejected)
    assert changes == [] and open_[0].severity == "error" and open_[0].details["outcome"] == "fail"
    changes, open_ = run([check], open_, T0 + 3 * DAY)  # verified again: still failing, the mark goes
    assert changes[0].event == IncidentEvent.ONGOING and "unverified_since" not in open_[0].details
    passed = _checks_run({"country.invalid"}, {"country.invalid"}, {})
    changes, open_ = run([], open_, T0 + 4 * DAY, passed)
    assert [c.event for c in changes] == [IncidentEvent.RESOLVED] and open_ == []


def test_a_check_removed_from_a_clean_contract_resolves() -> None:
    check = Finding("warehouse.orders", FindingKind.CHECK, "country.invalid", "error", "invalid")
    _, open_ = run([check], [], T0)
    changes, _ = run([], open_, T0 + DAY, _checks_run({"id.duplicate"}, {"id.duplicate"}, {}))
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


def _anomaly(observed: str, key: str = "null_ratio:spike") -> Finding:
    return Finding(
        "warehouse.orders",
        FindingKind.ANOMALY,
        "column.country.null_ratio",
        "warn",
        f"null ratio {observed} is a spike",
        observed=observed,
        details={"change_key": key, "observed": observed},
    )


def test_an_incident_keeps_its_opening_title_and_evidence() -> None:
    _, open_ = run([_anomaly("4.9%")], [], T0)
    changes, open_ = run([_anomaly("22.4%")], open_, T0 + DAY)
    assert open_[0].title == "null ratio 4.9% is a spike" and open_[0].details["observed"] == "4.9%"
    assert changes[0].finding is not None and changes[0].finding.observed == "22.4%"  # the event's


def test_anomalies_resolve_after_n_clean_runs_and_come_back_to_the_same_incident() -> None:
    policy = {"warehouse.orders": Coverage(columns=True, resolve_after_runs=2, reopen_within=DAY)}
    _, open_ = run([_anomaly("30%")], [], T0, policy)
    changes, open_ = run([], open_, T0 + DAY, policy)
    assert [c.event for c in changes] == [IncidentEvent.ONGOING] and open_[0].details["clean_runs"] == 1
    changes, open_ = run([_anomaly("31%")], open_, T0 + 2 * DAY, policy)  # back in the band only once
    assert "clean_runs" not in open_[0].details
    run([], open_, T0 + 3 * DAY, policy)
    changes, open_ = run([], [dataclasses.replace(open_[0], details={"clean_runs": 1})], T0 + 4 * DAY, policy)
    [done] = changes
    assert done.event == IncidentEvent.RESOLVED and open_ == []
    back = plan_changes([_anomaly("29%")], [], policy, T0 + 4 * DAY + timedelta(hours=12), [done.incident])
    assert [(c.event, c.incident.id, c.incident.status) for c in back] == [
        (IncidentEvent.REOPENED, done.incident.id, IncidentStatus.OPEN)
    ]
    assert back[0].incident.resolved_at is None and "after it resolved" in back[0].reason
    much_later = plan_changes([_anomaly("29%")], [], policy, T0 + 9 * DAY, [done.incident])
    assert [c.event for c in much_later] == [IncidentEvent.OPENED]


def test_report_only_findings_raise_no_incident() -> None:
    quiet_finding = dataclasses.replace(_anomaly("1.5%"), details={"report_only": "too small"})
    assert plan_changes([quiet_finding], [], SEEN, T0) == []
