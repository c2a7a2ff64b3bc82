"""Decides what is wrong after a run: statuses, findings (and, with incidents, what changed).

Pure over observations and history: the caller reads history first and writes the verdict afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence

from datahealth.config.models import DatasetConfig
from datahealth.durations import format_duration
from datahealth.findings import Finding, FindingKind, RunEvaluation
from datahealth.results import CheckOutcome, DatasetResult, Status
from datahealth.status import STATUS_SCORE, dataset_status


def findings_for_result(dataset: DatasetConfig, result: DatasetResult) -> list[Finding]:
    """The findings one dataset's result implies on its own (no history needed)."""
    obs = result.observation
    if not obs.ok:
        return [Finding(dataset.name, FindingKind.ERROR, obs.error_kind.value if obs.error_kind else "error", "error",
                        f"{dataset.name} could not be observed", obs.error or "")]
    findings: list[Finding] = []
    lag = obs.freshness_lag_seconds
    sla = dataset.sla
    if sla and lag is not None:
        limit, severity = None, None
        if sla.error_after and lag > sla.error_after.total_seconds():
            limit, severity = sla.error_after, dataset.severity
        elif sla.warn_after and lag > sla.warn_after.total_seconds():
            limit, severity = sla.warn_after, "warn"
        if limit is not None and severity is not None:
            findings.append(Finding(
                dataset.name, FindingKind.FRESHNESS, "sla", severity,
                f"{dataset.name} is stale: last updated {format_duration(lag)} ago",
                f"newest data {obs.last_updated:%Y-%m-%d %H:%M} UTC, SLA {format_duration(limit)}" if obs.last_updated else "",
                observed=format_duration(lag), expected=f"< {format_duration(limit)}",
                details={"lag_seconds": lag, "limit_seconds": limit.total_seconds()}))
    for check in result.checks:
        if check.outcome in (CheckOutcome.FAIL, CheckOutcome.WARN, CheckOutcome.ERROR):
            severity = "warn" if check.outcome == CheckOutcome.WARN else dataset.severity
            observed = None if check.observed_value is None else f"{check.observed_value:g}"
            findings.append(Finding(
                dataset.name, FindingKind.CHECK, check.name, "error" if check.outcome == CheckOutcome.ERROR else severity,
                f"{dataset.name}: check {check.name} {'errored' if check.outcome == CheckOutcome.ERROR else 'failed'}",
                check.message, observed=observed, expected=check.threshold,
                details={"check_type": check.check_type, "column": check.column, "origin": check.origin}))
    return findings


def evaluate(datasets: Sequence[DatasetConfig], results: Sequence[DatasetResult]) -> RunEvaluation:
    by_name = {d.name: d for d in datasets}
    statuses: dict[str, Status] = {}
    findings: list[Finding] = []
    for result in results:
        dataset = by_name[result.dataset]
        statuses[result.dataset] = dataset_status(dataset, result)
        findings.extend(findings_for_result(dataset, result))
    return RunEvaluation(statuses=statuses, scores={k: STATUS_SCORE[v] for k, v in statuses.items()}, findings=findings)
