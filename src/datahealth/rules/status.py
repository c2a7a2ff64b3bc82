"""A dataset's status (ok|warn|fail|unknown) and THE health score, both derived from its open problems.

Open incidents are the memory of what is wrong, so status follows them rather than one run's results:
a check failure found by the daily run keeps the dataset failing during the 15-minute metadata runs that
do not run checks, and an acknowledged incident still counts (acknowledging silences alerts, it does not
make the data healthy). Each open incident is one problem at one level (`problem_status`):

- unknown: the monitor could not observe or evaluate the dataset (an `error`-kind incident, or a
  check that could not be evaluated);
- fail:  an open incident of severity error;
- warn:  an open incident of severity warn;
- ok:    nothing open.

`health_score` is the only score formula, used by evaluation, the report, Prometheus, the CLI and the
Prefect artifacts (the latter two through the run's summary): it starts at 100 and loses half of what
is left for each failing problem and 15 % for each warning; a dataset the monitor cannot see scores 0.
It takes open incidents, or bare statuses for views that have nothing else (history charts, metrics
read back from the store), and one incident of a level scores the same as that status. A run's score
(`run_score`) is the mean of its datasets' health scores.
"""

from __future__ import annotations

from collections.abc import Iterable

from datahealth.core.results import Status
from datahealth.rules.findings import Incident, IncidentStatus

ERROR_WEIGHT = 0.5  # share of the score a failing problem takes
WARN_WEIGHT = 0.15  # share of the score a warning takes

# The definition in words, for help texts (Prometheus HELP, CLI) and docs; it must match health_score.
HEALTH_SCORE_DEFINITION = (
    f"100, halved for each open failing incident (x{1 - ERROR_WEIGHT:g}), "
    f"x{1 - WARN_WEIGHT:g} for each open warning, 0 when unknown (not observed or not evaluated)"
)
RUN_SCORE_DEFINITION = "the mean of the run's dataset health scores"


def problem_status(incident: Incident) -> Status:
    """The status one incident stands for (OK once resolved)."""
    if incident.status == IncidentStatus.RESOLVED:
        return Status.OK
    if incident.kind == "error" or incident.details.get("outcome") == "error":
        return Status.UNKNOWN  # the monitor could not see the data: a monitor error, not a data failure
    return Status.FAIL if incident.severity == "error" else Status.WARN


def status_from_incidents(incidents: Iterable[Incident]) -> Status:
    return Status.worst([problem_status(i) for i in incidents])


def health_score(problems: Iterable[Incident | Status]) -> float:
    """The health score, 0-100, of one dataset with these open incidents (or statuses)."""
    score = 100.0
    for problem in problems:
        status = problem if isinstance(problem, Status) else problem_status(problem)
        if status == Status.UNKNOWN:
            return 0.0
        if status == Status.FAIL:
            score *= 1 - ERROR_WEIGHT
        elif status == Status.WARN:
            score *= 1 - WARN_WEIGHT
    return round(score, 1)


def run_score(scores: Iterable[float]) -> float:
    """A run's score: the mean of its datasets' health scores; 100 for an empty run."""
    values = list(scores)
    return round(sum(values) / len(values), 1) if values else 100.0
