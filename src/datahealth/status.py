"""A dataset's status (ok|warn|fail|error) from what this run found.

Kept deliberately small and pure: freshness against the SLA's age limits and the check outcomes.
Incident-aware status (acknowledged, schedules) builds on this in `evaluation`.
"""

from __future__ import annotations

from datahealth.config.models import DatasetConfig
from datahealth.results import CheckOutcome, DatasetResult, Status

STATUS_SCORE = {Status.OK: 100.0, Status.WARN: 70.0, Status.FAIL: 30.0, Status.ERROR: 0.0}


def freshness_status(dataset: DatasetConfig, lag_seconds: float | None) -> Status:
    sla = dataset.sla
    if sla is None or lag_seconds is None:
        return Status.OK
    if sla.error_after is not None and lag_seconds > sla.error_after.total_seconds():
        return Status.FAIL if dataset.severity == "error" else Status.WARN
    if sla.warn_after is not None and lag_seconds > sla.warn_after.total_seconds():
        return Status.WARN
    return Status.OK


def checks_status(dataset: DatasetConfig, result: DatasetResult) -> Status:
    statuses = [Status.OK]
    for check in result.checks:
        if check.outcome == CheckOutcome.FAIL:
            statuses.append(Status.FAIL if dataset.severity == "error" else Status.WARN)
        elif check.outcome == CheckOutcome.WARN:
            statuses.append(Status.WARN)
        elif check.outcome == CheckOutcome.ERROR:
            statuses.append(Status.ERROR)
    return Status.worst(statuses)


def dataset_status(dataset: DatasetConfig, result: DatasetResult) -> Status:
    observation = result.observation
    if not observation.ok:
        return Status.ERROR
    return Status.worst([freshness_status(dataset, observation.freshness_lag_seconds), checks_status(dataset, result)])


def health_score(statuses: list[Status]) -> float:
    """Mean of per-dataset scores (ok 100, warn 70, fail 30, error 0); 100 for an empty run."""
    if not statuses:
        return 100.0
    return round(sum(STATUS_SCORE[s] for s in statuses) / len(statuses), 1)
