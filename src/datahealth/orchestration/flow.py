"""The `data_health` flow: the deployments in prefect.yaml point at it (through flows/data_health.py).

The flow only orchestrates: every step is a `MonitorRun` method, so the same run works without Prefect
(`datahealth run --no-prefect`). Data problems never fail the flow: an unreachable source, a missing
table or a failed check are results, recorded and shown. It fails only when the monitor itself cannot
work: invalid config, an unknown tier or empty selection, an unreachable history store, and, when
`project.fail_run_on_monitor_error` is set, an internal error or a publisher that could not deliver.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from prefect import flow, get_run_logger
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run
from prefect.states import Completed, Failed, State
from prefect.task_runners import TaskRunner

from datahealth.config import load_project
from datahealth.config.models import DatasetConfig, Project, ProjectSettings
from datahealth.core.results import DatasetResult, ErrorKind, Status, TableMeta
from datahealth.core.run import RunSummary
from datahealth.core.timeparse import parse_as_of
from datahealth.monitor.runner import MonitorRun
from datahealth.orchestration import engine_log, events, handles, planning, scaling
from datahealth.orchestration.artifacts import publish_artifacts, state_message
from datahealth.orchestration.dispatch import SourceWindows
from datahealth.orchestration.failures import MonitorError, explain
from datahealth.orchestration.tasks import describe_source, monitor_dataset
from datahealth.sources import DatasetError

# a worker's engine would log the failure the flow explained once more, under a traceback
engine_log.install()


def _run_name() -> str:
    params = flow_run.parameters or {}
    name = f"data-health {params.get('tier') or 'all'}"
    if int(params.get("shards") or 1) > 1:
        name += f" shard {int(params.get('shard') or 0) + 1}/{params['shards']}"
    as_of = params.get("as_of")
    return name + (f" as of {as_of}" if as_of else "")


@flow(name="data-health", flow_run_name=_run_name)
def data_health(
    project_dir: str = ".",
    datasets: list[str] | None = None,
    tier: str | None = None,
    as_of: str | None = None,
    publish: bool = True,
    shard: int = 0,
    shards: int = 1,
    task_runner: str | None = None,
) -> dict[str, Any]:
    """Observe, profile and check the selected datasets, store the results, evaluate and publish them.

    `datasets` are glob patterns on `<source>.<dataset>`; `tier` picks the tier's datasets and stages;
    `shard`/`shards` split the selection so several workers share it; `task_runner` is `threads` or `dask`.
    """
    # Prefect unwraps a returned state: callers (and `state.result()`) get the summary dict
    try:
        return _monitor(project_dir, datasets, tier, as_of, publish, shard, shards, task_runner)  # type: ignore[return-value]
    except Exception as exc:  # the monitor itself broke: one line says why, the traceback is for DEBUG
        return _failed(exc)  # type: ignore[return-value]


def _monitor(
    project_dir: str,
    datasets: list[str] | None,
    tier: str | None,
    as_of: str | None,
    publish: bool,
    shard: int,
    shards: int,
    task_runner: str | None,
) -> State[Any]:
    logger = get_run_logger()
    project = load_project(project_dir)
    settings = project.config.project
    kind = scaling.task_runner_kind(task_runner, settings)
    chosen = planning.shard_datasets(planning.select_for_run(project, datasets, tier), shard, shards)
    options = planning.run_options(project, tier, publish)
    run = MonitorRun(
        project,
        chosen,
        parse_as_of(as_of),
        options=options,
        tier=tier,
        flow_run_id=str(flow_run.id or "") or None,
    )
    run.flow_run_url = _flow_run_url(project)
    handle = handles.register(run)
    try:
        if settings.source_concurrency_limits:
            created = scaling.ensure_concurrency_limits(scaling.source_limits(project, list(run.by_source())))
            if created:
                logger.info("Created concurrency limits: %s", ", ".join(created))
        logger.info(
            "Monitoring %d datasets as of %s on %s (stages: %s)",
            len(run.datasets),
            run.as_of.isoformat(),
            kind,
            _stages(run),
        )
        with scaling.make_task_runner(kind, settings) as runner:
            results = _monitor_all(runner, handle, run, settings)
        before = events.previous_statuses(run.store, [d.name for d in run.datasets], run.as_of)
        summary = run.finish(results)
        _emit_events(run, before)
    except Exception as exc:  # the monitor itself broke: record it, so no row stays `running`
        run.fail(exc)
        raise
    finally:
        handles.unregister(handle)
        run.close()
    keys = publish_artifacts(
        project,
        summary,
        run.evaluation,
        run.artifacts.get("report_url") or run.artifacts.get("report"),
        tier=tier,
        shard=shard,
        shards=shards,
    )
    _log_summary(summary, keys)
    problems = _monitor_problems(summary)
    if problems and settings.fail_run_on_monitor_error:
        return _failed(MonitorError("the monitor itself failed: " + "; ".join(problems)))
    # the run's final state message is what the UI's run list shows: the data's health in one line
    # Prefect unwraps a returned state: callers (and `state.result()`) get the summary dict
    return Completed(message=state_message(summary), data=summary.to_dict())


def _failed(exc: BaseException) -> State[Any]:
    """The run's end when the monitor itself failed: a Failed state whose message is the reason and fix.

    Prefect logs the returned state's message as one line; raising would log the whole traceback.
    """
    reason = explain(exc)
    get_run_logger().debug("the monitor failed: %s", reason, exc_info=exc)
    engine_log.mark_explained(flow_run.id)
    return Failed(message=reason)


def _monitor_all(
    runner: TaskRunner[Any], handle: handles.RunHandle, run: MonitorRun, settings: ProjectSettings
) -> list[DatasetResult]:
    """Describe each source, then monitor each of its datasets; every dataset ends with a result."""
    grouped = run.by_source()
    config = run.project.config.sources
    slots = scaling.SourceSlots(settings.source_concurrency_limits)
    try:
        # sorted: every flow run reserves sources in the same order, so two never wait on each other
        limits = {source: slots.reserve(source, config[source].max_concurrency) for source in sorted(grouped)}
        return _dispatch(runner, handle, run, settings, grouped, limits, slots)
    finally:
        slots.release_all()


def _dispatch(
    runner: TaskRunner[Any],
    handle: handles.RunHandle,
    run: MonitorRun,
    settings: ProjectSettings,
    grouped: dict[str, list[DatasetConfig]],
    limits: dict[str, int],
    slots: scaling.SourceSlots,
) -> list[DatasetResult]:
    delays = [settings.task_retry_delay.total_seconds() * 2**i for i in range(settings.task_retries)]
    windows = SourceWindows(runner, limits)
    remaining = {source: len(members) for source, members in grouped.items()}
    observe = {
        source: monitor_dataset.with_options(
            tags=[scaling.source_tag(source)],
            retries=settings.task_retries,
            retry_delay_seconds=delays,
            timeout_seconds=settings.task_timeout.total_seconds(),
        )
        for source in grouped
    }
    for source, members in grouped.items():
        describe = describe_source.with_options(
            tags=[scaling.source_tag(source)], retries=settings.task_retries, retry_delay_seconds=delays
        )
        params = {"handle": handle, "source_name": source, "datasets": [d.name for d in members]}
        windows.add(source, None, partial(runner.submit, describe, params))
    results: list[DatasetResult] = []
    while (finished := windows.finished()) is not None:
        source, dataset, future = finished
        if dataset is None:  # the source's catalog: now its datasets can go
            catalog = _catalog(future, source, grouped[source])
            for member in grouped[source]:
                params = {"handle": handle, "dataset": member.name, "meta": catalog[member.name]}
                windows.add(source, member, partial(runner.submit, observe[source], params))
            continue
        remaining[source] -= 1
        if remaining[source] == 0:
            slots.release(source)
        outcome = future.result(raise_on_failure=False)
        if isinstance(outcome, DatasetResult):
            results.append(outcome)
        else:
            results.append(run.failed_result(dataset, _task_error(dataset, future, outcome, settings)))
    return results


def _catalog(
    future: PrefectFuture[Any], source: str, members: list[DatasetConfig]
) -> dict[str, TableMeta | DatasetError]:
    outcome = future.result(raise_on_failure=False)
    if isinstance(outcome, dict):
        return outcome
    error = DatasetError(
        f"describing {source} failed: {type(outcome).__name__}: {outcome}", ErrorKind.INTERNAL
    )
    return {d.name: error for d in members}


def _task_error(
    dataset: DatasetConfig, future: PrefectFuture[Any], outcome: Any, settings: ProjectSettings
) -> BaseException:
    """Why a dataset task produced no result: a timeout reads as one, anything else as an internal error."""
    state = future.state
    if state.name == "TimedOut":
        limit = format(settings.task_timeout.total_seconds(), "g")
        return DatasetError(
            f"monitoring {dataset.name} exceeded the task timeout of {limit}s", ErrorKind.TIMEOUT
        )
    if isinstance(outcome, BaseException):
        return outcome
    return RuntimeError(f"task ended in state {state.name}: {state.message or 'no result'}")


def _emit_events(run: MonitorRun, before: dict[str, Status]) -> None:
    """Incident changes and status changes as Prefect events (docs/prefect.md), for Automations."""
    if run.evaluation is None:
        return
    related = events.flow_run_related(str(flow_run.id or "") or None, flow_run.name or None)
    planned = events.incident_events(run.project, run.evaluation.changes, related)
    planned += events.status_events(
        run.project, before, run.evaluation.statuses, related, as_of=run.as_of.isoformat()
    )
    sent = events.emit(planned)
    if sent:
        get_run_logger().info("Emitted %d datahealth events", sent)


def _stages(run: MonitorRun) -> str:
    options = run.options
    stages = ["observe"] + [
        name
        for name, on in (
            ("profile", options.profile),
            ("checks", options.checks),
            ("publish", options.publish),
            ("report", options.report),
            ("email", options.email),
        )
        if on
    ]
    return ", ".join(stages)


def _flow_run_url(project: Project) -> str | None:
    """The run's page in the UI: under `publish.prefect_ui_url` when set, else what Prefect reports."""
    base = project.config.publish.prefect_ui_url
    if base and flow_run.id:
        return f"{base.rstrip('/')}/runs/flow-run/{flow_run.id}"
    url = flow_run.ui_url or ""  # `None/flow-runs/...` when the server has no UI URL (a temporary server)
    return url if url.startswith(("http://", "https://")) else None


def _monitor_problems(summary: RunSummary) -> list[str]:
    """Errors that are the monitor's fault, not the data's: internal errors and publishers that failed."""
    problems = [
        f"{d.dataset}: {d.error}" for d in summary.datasets if d.error_kind == ErrorKind.INTERNAL.value
    ]
    return problems + [f"publisher {w}" for w in summary.warnings]


def _log_summary(summary: RunSummary, keys: dict[str, str]) -> None:
    logger = get_run_logger()
    for item in summary.datasets:
        if item.error:
            logger.warning("%s: %s", item.dataset, item.error)
    for warning in summary.warnings:
        logger.warning("monitor warning: %s", warning)
    logger.info(
        "Health %.1f/100: %s; artifacts: %s",
        summary.health_score,
        ", ".join(f"{v} {k}" for k, v in summary.counts.items()),
        ", ".join(keys.values()),
    )
