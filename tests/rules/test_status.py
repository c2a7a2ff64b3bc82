"""Status and the one health-score formula, from open incidents or bare statuses."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from datahealth.core.results import Status
from datahealth.rules.findings import Incident, IncidentStatus
from datahealth.rules.status import health_score, problem_status, run_score, status_from_incidents

T0 = datetime(2026, 10, 1, 7, 30, tzinfo=UTC)


def incident(
    severity: str = "warn",
    kind: str = "check",
    status: IncidentStatus = IncidentStatus.OPEN,
    **details: Any,
) -> Incident:
    return Incident(
        1, f"a.b|{kind}|x", "a.b", kind, "x", severity, status, "t", "m", T0, T0, T0, details=details
    )


@pytest.mark.parametrize(
    ("problem", "status"),
    [
        (incident("warn"), Status.WARN),
        (incident("error"), Status.FAIL),
        (incident("error", kind="error"), Status.UNKNOWN),
        (incident("error", outcome="error"), Status.UNKNOWN),  # a check that errored: the monitor's fault
        (incident("error", status=IncidentStatus.RESOLVED), Status.OK),
        (incident("warn", status=IncidentStatus.ACKNOWLEDGED), Status.WARN),  # acknowledged still counts
    ],
)
def test_one_incident_scores_like_the_status_it_stands_for(problem: Incident, status: Status) -> None:
    assert problem_status(problem) == status == status_from_incidents([problem])
    assert health_score([problem]) == health_score([status])


def test_score_halves_per_failure_loses_15_percent_per_warning_and_is_zero_when_unknown() -> None:
    assert health_score([]) == health_score([Status.OK]) == 100.0
    assert health_score([Status.FAIL, Status.FAIL]) == 25.0
    assert health_score([incident("error"), incident("warn"), incident("warn")]) == round(50 * 0.85 * 0.85, 1)
    assert health_score([incident("warn"), incident("error", kind="error")]) == 0.0
    assert status_from_incidents([incident("warn"), incident("error")]) == Status.FAIL


def test_run_score_is_the_mean_of_the_datasets_scores() -> None:
    assert run_score([]) == 100.0
    assert run_score([health_score([Status.FAIL]), health_score([Status.OK])]) == 75.0
