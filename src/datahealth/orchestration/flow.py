"""The `data_health` flow: the deployments in prefect.yaml point at it (through flows/data_health.py).

The flow only orchestrates: every step is a `MonitorRun` method, so the same run works without Prefect
(`datahealth run --no-prefect`). Data problems never fail the flow; it fails only when the monitor
itself cannot work (config invalid, history store unreachable).
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from datahealth.config import load_project
from datahealth.runner import MonitorRun, RunOptions
from datahealth.orchestration.tasks import describe_source, monitor_dataset


def _run_name() -> str:
    params = flow_run.parameters or {}
    tier = params.get("tier") or "all"
    as_of = params.get("as_of")
    return f"data-health {tier}" + (f" as of {as_of}" if as_of else "")


@flow(name="data-health", flow_run_name=_run_name, task_runner=ThreadPoolTaskRunner(max_workers=8))
def data_health(project_dir: str = ".", datasets: list[str] | None = None, tier: str | None = None,
                as_of: str | None = None, publish: bool = True) -> dict[str, Any]:
    """Observe, profile and check the selected datasets, store the results, evaluate and publish them."""
    logger = get_run_logger()
    project = load_project(project_dir)
    tier_config = project.config.tiers.get(tier) if tier else None
    options = RunOptions(
        profile=tier_config.profile if tier_config else True,
        checks=tier_config.checks if tier_config else True,
        publish=publish,
        report=bool(tier_config.report) if tier_config else publish,
    )
    run = MonitorRun.plan(project, datasets, tier, as_of, options=options, flow_run_id=str(flow_run.id or ""))
    try:
        logger.info("Monitoring %d datasets as of %s", len(run.datasets), run.as_of.isoformat())
        catalogs = {name: describe_source.submit(run, name, members) for name, members in run.by_source().items()}
        futures = [(d, monitor_dataset.submit(run, d, catalogs[d.source])) for d in run.datasets]
        results = []
        for dataset, future in futures:
            outcome = future.result(raise_on_failure=False)
            results.append(run.failed_result(dataset, outcome) if isinstance(outcome, BaseException) else outcome)
        summary = run.finish(results)
    finally:
        run.close()
    for item in summary.datasets:
        if item.error:
            logger.warning("%s: %s", item.dataset, item.error)
    logger.info("Health %.1f: %s", summary.health_score, ", ".join(f"{k} {v}" for k, v in summary.counts.items()))
    return summary.to_dict()
