"""The Prefect tasks: each wraps one `MonitorRun` step so the UI shows a task per source and dataset.

Tasks stay thin: the work is `MonitorRun.describe` / `MonitorRun.monitor`. What they add is Prefect's
part: readable run names (`observe warehouse.orders`), logs in the run's log, and retries for a source
that cannot be reached. Such a failure comes back from the engine as a result; the task raises it as
`SourceUnavailable` while attempts remain (Prefect retries with backoff) and returns the error result on
the last attempt, so an unreachable source never fails the flow.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.states import Completed, State

from datahealth.core.durations import format_duration
from datahealth.core.redaction import redact
from datahealth.core.results import CheckOutcome, DatasetResult, ErrorKind, TableMeta
from datahealth.core.wording import plural
from datahealth.orchestration.handles import RunHandle, resolve
from datahealth.sources import DatasetError, SourceUnavailable

UNREADABLE = "Unreadable"  # task run state names (docs/prefect.md): a problem, not a failed task
FAILING_CHECKS = "Failing checks"


class _ThreadTimeoutNotice(logging.Filter):
    """Drops Prefect's per-task notice that thread timeouts cannot interrupt blocking calls.

    Known and documented (docs/scaling.md): a dataset task's timeout ends it at the next Python
    instruction; a blocked query is ended by the source's `statement_timeout`. Repeated for every
    dataset it would bury the run's real warnings.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.WARNING and "running in a worker thread" in str(record.msg))


logging.getLogger("prefect.task_runs").addFilter(_ThreadTimeoutNotice())


def retry_if_unreachable(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's retry condition: only an unreachable source is worth another attempt."""
    try:
        state.result()
    except SourceUnavailable:
        return True
    except BaseException:
        return False
    return False


def _attempts_left() -> bool:
    context = TaskRunContext.get()
    if context is None or context.task_run is None:
        return False
    return context.task_run.run_count <= (context.task.retries or 0)


def _raise_while_attempts_left(errors: Iterable[str]) -> None:
    messages = list(errors)
    if messages and _attempts_left():
        raise SourceUnavailable(messages[0])


@task(
    name="describe",
    task_run_name="describe {source_name}",
    cache_policy=NO_CACHE,
    retry_condition_fn=retry_if_unreachable,
)
def describe_source(
    handle: RunHandle, source_name: str, datasets: list[str]
) -> dict[str, TableMeta | DatasetError]:
    """Read the catalog for all of a source's datasets (one query per schema)."""
    run = resolve(handle)
    catalog = run.describe(source_name, [run.project.dataset(name) for name in datasets])
    if catalog and all(isinstance(meta, SourceUnavailable) for meta in catalog.values()):
        _raise_while_attempts_left(str(meta) for meta in catalog.values())
    missing = sum(1 for meta in catalog.values() if isinstance(meta, DatasetError))
    get_run_logger().info(
        "%s: %d datasets described, %d not readable", source_name, len(catalog) - missing, missing
    )
    return catalog


@task(
    name="observe",
    task_run_name="observe {dataset}",
    cache_policy=NO_CACHE,
    retry_condition_fn=retry_if_unreachable,
)
def monitor_dataset(
    handle: RunHandle, dataset: str, meta: TableMeta | DatasetError
) -> DatasetResult | State[DatasetResult]:
    """Observe, profile and check one dataset; data problems come back as results, not exceptions.

    A dataset with a problem ends its task run `Completed` under a name that says so (`Unreadable`,
    `Failing checks`), so the UI's task list shows where to look without failing the flow.
    """
    run = resolve(handle)
    result = run.monitor(run.project.dataset(dataset), meta)
    obs = result.observation
    if obs.error_kind is ErrorKind.UNREACHABLE and isinstance(meta, TableMeta):
        _raise_while_attempts_left([obs.error or "source unreachable"])
    logger = get_run_logger()
    if obs.error:
        logger.warning("%s: %s error: %s", dataset, obs.error_kind, obs.error)
        return Completed(name=UNREADABLE, message=redact(f"{obs.error_kind}: {obs.error}"), data=result)
    lag = format_duration(obs.freshness_lag_seconds) if obs.freshness_lag_seconds is not None else "unknown"
    failing = failing_checks(result)
    logger.info(
        "%s: %s rows, last updated %s ago, %s failed%s",
        dataset,
        obs.row_count,
        lag,
        plural(len(failing), "check"),
        ": " + "; ".join(failing) if failing else "",
    )
    if failing:
        return Completed(name=FAILING_CHECKS, message=redact("; ".join(failing)), data=result)
    return result


def failing_checks(result: DatasetResult) -> list[str]:
    """`row_count: 0 (must be > 0)` for each failed or errored check, in the order they ran."""
    failed = []
    for check in result.checks:
        if check.outcome not in (CheckOutcome.FAIL, CheckOutcome.ERROR):
            continue
        text = check.name
        if check.observed_value is not None:
            text += f": {check.observed_value:g}"
        if check.threshold:
            text += f" ({check.threshold})"
        if check.outcome is CheckOutcome.ERROR:
            text += f" error: {check.message}" if check.message else " error"
        failed.append(text)
    return failed
