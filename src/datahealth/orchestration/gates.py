"""Quality gates: a downstream flow stops, skips or waits while its input datasets are unhealthy.

The gate reads the history store the monitor writes (each dataset's newest observation), so it costs
one query and never touches the warehouse. An input is unhealthy when its status is at least
`fail_on` (fail by default: a late or failing table), when it has never been observed, or when its
newest observation is older than `max_age` (the monitor itself stopped looking). Public entry points
are re-exported by `datahealth.prefect`.
"""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from prefect import Task, get_run_logger
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, State

from datahealth.config import load_project
from datahealth.config.models import Project
from datahealth.core.results import Status, StoredObservation, utc_now
from datahealth.store import HistoryStore
from datahealth.store.read.observations import latest_observations

OnUnhealthy = Literal["fail", "skip", "wait"]
SKIPPED_STATE = "Skipped"


class UnhealthyInputs(RuntimeError):
    """Raised by the gate (`on_unhealthy="fail"`): the message names each unhealthy dataset and why."""


@dataclass(frozen=True)
class GateVerdict:
    """What the gate saw: per dataset, why it is unhealthy (an empty dict means all are healthy)."""

    datasets: tuple[str, ...]
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def describe(self) -> str:
        if self.healthy:
            return f"{len(self.datasets)} input datasets healthy"
        listed = "; ".join(f"{name}: {why}" for name, why in sorted(self.problems.items()))
        return f"{len(self.problems)} of {len(self.datasets)} input datasets unhealthy: {listed}"


def judge(
    datasets: Sequence[str],
    observations: Mapping[str, StoredObservation],
    now: datetime,
    *,
    fail_on: Status = Status.FAIL,
    max_age: timedelta | None = None,
) -> GateVerdict:
    """The verdict on the newest observations; pure, so every rule is tested without a store."""
    problems = {}
    for name in datasets:
        obs = observations.get(name)
        if obs is None:
            problems[name] = "never observed by datahealth"
        elif obs.status.rank >= fail_on.rank:
            detail = f" ({obs.error})" if obs.error else ""
            problems[name] = f"status {obs.status.value} as of {obs.as_of:%Y-%m-%d %H:%M} UTC{detail}"
        elif max_age is not None and now - obs.as_of > max_age:
            problems[name] = f"not checked since {obs.as_of:%Y-%m-%d %H:%M} UTC (older than {max_age})"
    return GateVerdict(tuple(datasets), problems)


def resolve_datasets(project: Project, patterns: Sequence[str]) -> list[str]:
    """Dataset names matching the patterns (globs on `<source>.<dataset>`); a pattern matching none is an
    error, so a typo never opens the gate."""
    names = sorted(project.config.datasets)
    chosen: list[str] = []
    for pattern in patterns:
        matched = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
        if not matched:
            raise ValueError(
                f"quality gate: {pattern!r} matches no dataset in {project.root}; known: {', '.join(names)}"
            )
        chosen += [n for n in matched if n not in chosen]
    return chosen


def check_inputs(
    datasets: Sequence[str],
    project_dir: str | Path = ".",
    *,
    fail_on: Status = Status.FAIL,
    max_age: timedelta | None = None,
) -> GateVerdict:
    """One look at the history store: the verdict on `datasets` (names or globs) right now."""
    project = load_project(project_dir)
    names = resolve_datasets(project, datasets)
    store = HistoryStore.open(project.config.history.url, project.root)
    try:
        observations = latest_observations(store, names)
    finally:
        store.close()
    return judge(names, observations, utc_now(), fail_on=fail_on, max_age=max_age)


def wait_for_healthy(
    datasets: Sequence[str],
    project_dir: str | Path = ".",
    *,
    timeout: timedelta = timedelta(minutes=30),
    poll_every: timedelta = timedelta(minutes=1),
    fail_on: Status = Status.FAIL,
    max_age: timedelta | None = None,
    on_poll: Callable[[GateVerdict], None] | None = None,
) -> GateVerdict:
    """Look until every input is healthy or `timeout` has passed; returns the last verdict (never raises
    for unhealthy data, so the caller decides: fail, skip or go on)."""
    deadline = time.monotonic() + timeout.total_seconds()
    while True:
        verdict = check_inputs(datasets, project_dir, fail_on=fail_on, max_age=max_age)
        if verdict.healthy or time.monotonic() >= deadline:
            return verdict
        if on_poll is not None:
            on_poll(verdict)
        time.sleep(max(0.0, min(poll_every.total_seconds(), deadline - time.monotonic())))


def _require_healthy(
    datasets: list[str],
    project_dir: str = ".",
    on_unhealthy: OnUnhealthy = "fail",
    wait_minutes: float = 30.0,
    poll_seconds: float = 60.0,
    fail_on: Status = Status.FAIL,
    max_age_minutes: float | None = None,
) -> GateVerdict | State[GateVerdict]:
    """A Prefect task for downstream flows: go on only when the input datasets are healthy.

    `on_unhealthy`: `fail` raises `UnhealthyInputs` (the task and, when called directly, the flow fail);
    `skip` ends the task `Completed` named `Skipped` and returns the verdict (check `.healthy`);
    `wait` looks again every `poll_seconds` for up to `wait_minutes`, then fails as `fail` does.
    """
    logger = get_run_logger()
    max_age = timedelta(minutes=max_age_minutes) if max_age_minutes is not None else None
    if on_unhealthy == "wait":
        verdict = wait_for_healthy(
            datasets,
            project_dir,
            timeout=timedelta(minutes=wait_minutes),
            poll_every=timedelta(seconds=poll_seconds),
            fail_on=fail_on,
            max_age=max_age,
            on_poll=lambda v: logger.info("waiting: %s", v.describe()),
        )
    else:
        verdict = check_inputs(datasets, project_dir, fail_on=fail_on, max_age=max_age)
    if verdict.healthy:
        logger.info(verdict.describe())
        return verdict
    if on_unhealthy == "skip":
        logger.warning("skipping: %s", verdict.describe())
        return Completed(name=SKIPPED_STATE, message=verdict.describe(), data=verdict)
    raise UnhealthyInputs(verdict.describe())


class _GateTask(Task[..., GateVerdict | State[GateVerdict]]):
    """A task whose direct call returns the verdict even when it ended in a named state (`Skipped`).

    Prefect hands a task's returned `State` back as is to a direct caller; futures and `return_state`
    callers already get the verdict through `.result()`, so only the plain call is unwrapped.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        outcome = super().__call__(*args, **kwargs)
        if isinstance(outcome, State) and not kwargs.get("return_state"):
            return outcome.result()
        return outcome


require_healthy = _GateTask(
    _require_healthy,
    name="require-healthy",
    task_run_name="require healthy {datasets}",
    cache_policy=NO_CACHE,
)
