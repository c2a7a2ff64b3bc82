"""A dataset's status (ok|warn|fail|error) and health score, derived from its open incidents.

Open incidents are the memory of what is wrong, so status follows them rather than one run's results:
a check failure found by the daily run keeps the dataset failing during the 15-minute metadata runs that
do not run checks, and an acknowledged incident still counts (acknowledging silences alerts, it does not
make the data healthy).

- error: the monitor could not observe or evaluate the dataset (an `error` incident);
- fail:  an open incident of severity error;
- warn:  an open incident of severity warn;
- ok:    nothing open.

The score starts at 100 and loses half of what is left for each open error-severity incident and 15 %
for each warning; a dataset the monitor cannot see scores 0. The run's score is the mean over its
datasets. `STATUS_SCORE` maps a bare status to a score for views that only have statuses (history charts).
"""

from __future__ import annotations

from collections.abc import Iterable

from datahealth.core.results import Status
from datahealth.rules.findings import Incident, IncidentStatus

STATUS_SCORE = {Status.OK: 100.0, Status.WARN: 85.0, Status.FAIL: 50.0, Status.ERROR: 0.0}
ERROR_WEIGHT = 0.5
WARN_WEIGHT = 0.15


def _is_monitor_error(incident: Incident) -> bool:
    return incident.kind == "error" or incident.details.get("outcome") == "error"


def status_from_incidents(incidents: Iterable[Incident]) -> Status:
    statuses = [Status.OK]
    for incident in incidents:
        if incident.status == IncidentStatus.RESOLVED:
            continue
        if _is_monitor_error(incident):
            statuses.append(Status.ERROR)
        elif incident.severity == "error":
            statuses.append(Status.FAIL)
        else:
            statuses.append(Status.WARN)
    return Status.worst(statuses)


def score_from_incidents(incidents: Iterable[Incident]) -> float:
    score = 100.0
    for incident in incidents:
        if incident.status == IncidentStatus.RESOLVED:
            continue
        if _is_monitor_error(incident):
            return 0.0
        score *= 1 - (ERROR_WEIGHT if incident.severity == "error" else WARN_WEIGHT)
    return round(score, 1)


def run_score(scores: Iterable[float]) -> float:
    """Mean of the datasets' scores; 100 for an empty run."""
    values = list(scores)
    return round(sum(values) / len(values), 1) if values else 100.0


def health_score(statuses: list[Status]) -> float:
    """Mean of per-status scores, for callers that only know statuses; 100 for an empty run."""
    return run_score(STATUS_SCORE[s] for s in statuses)
