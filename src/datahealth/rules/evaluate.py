"""Decides what is wrong after a run: findings per dataset, incident changes, statuses and scores.

`evaluate` is pure: it gets the run's results and an `EvaluationHistory` (read beforehand by
`store.queries.load_history`, a handful of queries for all datasets) and returns a `RunEvaluation`. The rules live in
their own modules: `freshness`, `anomaly`, `schema_diff`, check results from the checks stage, and
`incidents` for the lifecycle. This module runs them per dataset and makes one problem one finding:

- a dataset that cannot be observed gets one `error` finding (or "table disappeared" when it existed);
- a schema change swallows the failed Soda `schema` check (the same change, seen twice);
- a freshness breach swallows the volume drop and the windowed distinct-count drops it causes;
- a volume anomaly swallows generated row-count check failures and same-direction distinct-count
  anomalies of windowed profiles (fewer rows, fewer distinct values);
- `suppress:` patterns of the dataset drop findings entirely.
A dataset whose evaluation fails gets an `error` finding of its own; the other datasets are unaffected.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from datahealth.config.models import DatasetConfig
from datahealth.core.redaction import redact
from datahealth.core.results import (
    CheckOutcome,
    CheckResult,
    ColumnInfo,
    DatasetResult,
    ErrorKind,
    Status,
    StoredObservation,
    utc_now,
)
from datahealth.rules.anomaly.detector import DetectorSettings, Point
from datahealth.rules.anomaly.metrics import (
    ColumnPoint,
    MetricJudgement,
    anomaly_finding,
    judge_column,
    judge_volume,
)
from datahealth.rules.anomaly.significance import significant
from datahealth.rules.anomaly.training import incident_spans
from datahealth.rules.findings import Finding, FindingKind, Incident, RunEvaluation
from datahealth.rules.freshness import (
    FreshnessVerdict,
    evaluate_freshness,
    freshness_finding,
    last_change_from_history,
    load_due,
)
from datahealth.rules.incidents import (
    UNVERIFIED_REASON,
    UNVERIFIED_SINCE,
    Coverage,
    open_after,
    plan_changes,
)
from datahealth.rules.schema_diff import SchemaChange, diff_columns, schema_finding
from datahealth.rules.status import health_score, run_score, status_from_incidents
from datahealth.rules.streams import evaluate_stream, is_stream

log = logging.getLogger("datahealth.rules.evaluate")
_VOLUME_BOUND = ("distinct_count", "distinct_added")  # metrics that move with the number of rows


@dataclass(frozen=True)
class EvaluationHistory:
    """What evaluation needs from the history store, read before the run's results are written."""

    observations: Mapping[str, Sequence[StoredObservation]] = field(default_factory=dict)
    profiles: Mapping[str, Mapping[str, Sequence[ColumnPoint]]] = field(default_factory=dict)
    baselines: Mapping[str, tuple[ColumnInfo, ...]] = field(default_factory=dict)
    open_incidents: Sequence[Incident] = ()
    recently_resolved: Sequence[Incident] = ()  # a problem back within `anomaly.reopen_within` re-opens one
    active_incidents: Sequence[Incident] = ()  # open during the training window: their runs are not learnt


@dataclass
class DatasetVerdict:
    """One dataset's findings, what was evaluated (for resolving incidents) and notes on missing verdicts."""

    findings: list[Finding]
    coverage: Coverage
    notes: list[str] = field(default_factory=list)
    expected_rows: tuple[float, float] | None = None  # the volume detector's range, on the row-count scale


def evaluate(
    datasets: Sequence[DatasetConfig],
    results: Sequence[DatasetResult],
    history: EvaluationHistory | None = None,
    *,
    as_of: datetime | None = None,
    checks_ran: bool = True,
) -> RunEvaluation:
    """Findings, incident changes, statuses and scores for a run's results (pure)."""
    history = history or EvaluationHistory()
    by_name = {d.name: d for d in datasets}
    findings: list[Finding] = []
    coverage: dict[str, Coverage] = {}
    notes: dict[str, list[str]] = {}
    expected_rows: dict[str, tuple[float, float]] = {}
    at = as_of or (results[0].observation.as_of if results else utc_now())
    for result in results:
        dataset = by_name.get(result.dataset)
        if dataset is None:
            continue
        try:
            verdict = evaluate_dataset(dataset, result, history, at, checks_ran=checks_ran)
        except Exception as exc:  # a bug in one rule must not lose the other datasets
            log.exception("evaluating %s failed", dataset.name)
            message = redact(f"{type(exc).__name__}: {exc}".splitlines()[0])
            verdict = DatasetVerdict(
                [
                    Finding(
                        dataset.name,
                        FindingKind.ERROR,
                        "evaluation",
                        "error",
                        f"{dataset.name} could not be evaluated",
                        message,
                        details={"error_kind": ErrorKind.INTERNAL.value, "change_key": "internal"},
                    )
                ],
                Coverage(observed=False),
            )
        findings.extend(verdict.findings)
        coverage[dataset.name] = verdict.coverage
        if verdict.notes:
            notes[dataset.name] = verdict.notes
        if verdict.expected_rows is not None:
            expected_rows[dataset.name] = verdict.expected_rows
    changes = plan_changes(findings, history.open_incidents, coverage, at, history.recently_resolved)
    still_open = open_after(history.open_incidents, changes)
    statuses: dict[str, Status] = {}
    scores: dict[str, float] = {}
    reasons: dict[str, str] = {}
    for name in coverage:
        mine = [i for i in still_open if i.dataset == name]
        statuses[name] = status_from_incidents(mine)
        scores[name] = health_score(mine)
        reason = status_reason([f for f in findings if f.dataset == name], mine)
        if reason:
            reasons[name] = reason
    return RunEvaluation(
        statuses=statuses,
        scores=scores,
        findings=findings,
        changes=changes,
        open_incidents=still_open,
        health_score=run_score(scores.values()),
        notes=notes,
        reasons=reasons,
        expected_rows=expected_rows,
    )


def status_reason(findings: Sequence[Finding], open_incidents: Sequence[Incident]) -> str | None:
    """Why a dataset could not be (fully) verified this run, in one line; None when nothing errored."""
    for finding in findings:
        if finding.kind == FindingKind.ERROR or finding.details.get("outcome") == "error":
            what = finding.message or finding.title
            return redact(what if finding.kind == FindingKind.ERROR else f"{finding.subject}: {what}")
    unverified = [i for i in open_incidents if UNVERIFIED_SINCE in i.details]
    if unverified:
        first = min(unverified, key=lambda i: str(i.details[UNVERIFIED_SINCE]))
        since = str(first.details[UNVERIFIED_SINCE])[:16].replace("T", " ")
        why = first.details.get(UNVERIFIED_REASON) or "not evaluated"
        return redact(f"could not verify {len(unverified)} open incident(s) since {since}: {why}")
    return None


def findings_for_result(dataset: DatasetConfig, result: DatasetResult) -> list[Finding]:
    """The findings one dataset's result implies without any history (freshness, checks, errors)."""
    return evaluate_dataset(dataset, result, EvaluationHistory(), result.observation.as_of).findings


def evaluate_dataset(
    dataset: DatasetConfig,
    result: DatasetResult,
    history: EvaluationHistory,
    as_of: datetime,
    *,
    checks_ran: bool = True,
) -> DatasetVerdict:
    obs = result.observation
    baseline = history.baselines.get(dataset.name)
    if not obs.ok:
        if obs.error_kind == ErrorKind.MISSING and baseline:
            change = SchemaChange("table_disappeared", None, f"{len(baseline)} columns", None)
            return DatasetVerdict(
                [schema_finding(dataset.name, [change], dataset.severity, {"error": obs.error})],
                Coverage(observed=False, failures={"observe": obs.error or "table disappeared"}),
            )
        kind = obs.error_kind.value if obs.error_kind else "error"
        return DatasetVerdict(
            [
                Finding(
                    dataset.name,
                    FindingKind.ERROR,
                    "observe",
                    "error",
                    f"{dataset.name} could not be observed ({kind})",
                    obs.error or "",
                    details={"error_kind": kind, "change_key": kind},
                )
            ],
            Coverage(observed=False, failures={"observe": f"{kind}: {obs.error or 'no reason given'}"}),
        )
    past = [o for o in history.observations.get(dataset.name, ()) if o.as_of < as_of]
    if is_stream(obs):  # a topic, stream or queue: its consumer and producer, not rows (rules/streams.py)
        stream = evaluate_stream(dataset, obs, past, as_of)
        stream_notes = list(stream.notes)
        covered = Coverage(
            observed=True, freshness=stream.complete, schema=False, columns=True, checks=checks_ran
        )
        return DatasetVerdict(_suppress(dataset, stream.findings, stream_notes), covered, stream_notes)
    notes: list[str] = []
    findings: list[Finding] = []
    checks = list(result.checks)

    schema = _schema(dataset, result, baseline, checks)
    if schema is not None:
        findings.append(schema)

    freshness = _freshness(dataset, result, past, as_of)
    if freshness.note:
        notes.append(freshness.note)
    stale = None
    if freshness.breached:
        stale = freshness_finding(
            dataset.name, freshness, dataset.severity if freshness.level == "error" else "warn"
        )
        findings.append(stale)

    volume: MetricJudgement | None = None
    columns: list[MetricJudgement] = []
    if dataset.anomaly.enabled:
        settings = DetectorSettings.from_config(dataset.anomaly, _timezone(dataset))
        if dataset.anomaly.exclude_incident_runs:
            settings = settings.excluding(incident_spans(history.active_incidents, dataset.name))
        volume = _volume(dataset, result, past, as_of, settings)
        if volume is not None and volume.judgement.verdict == "insufficient_history":
            notes.append(f"volume: {volume.judgement.note}")
        if dataset.anomaly.columns and result.profile is not None:
            columns = _columns(dataset, result, history, as_of, settings)
    stale = _fold_freshness_checks(dataset, stale, checks)
    if stale is not None and stale not in findings:
        findings.append(stale)
    anomalies = _fold_anomalies(dataset, volume, columns, stale, schema, checks)
    from_checks = _check_findings(dataset, checks)
    findings.extend(_fold_into_missing_checks(anomalies, from_checks))
    findings.extend(from_checks)
    findings = _suppress(dataset, findings, notes)
    coverage = Coverage(
        observed=True,
        freshness=freshness.level != "unknown",
        schema=bool(obs.columns),
        volume=not dataset.anomaly.enabled or volume is not None,
        columns=result.profile is not None or not dataset.anomaly.enabled or not dataset.anomaly.columns,
        checks=checks_ran and "checks" not in result.stage_errors,
        resolve_after_runs=dataset.anomaly.resolve_after_runs,
        reopen_within=dataset.anomaly.reopen_within,
        **_stage_coverage(result, checks_ran),
    )
    return DatasetVerdict(findings, coverage, notes, _expected_rows(volume, obs.row_count))


def _expected_rows(volume: MetricJudgement | None, rows: int | None) -> tuple[float, float] | None:
    """The detector's expected range as a row count: a range of rows added starts at the count it was
    compared against (this run's count less the rows added)."""
    if volume is None or rows is None:
        return None
    low, high = volume.judgement.low, volume.judgement.high
    if low is None or high is None:
        return None
    if volume.metric == "rows_added":
        base = rows - volume.judgement.observed
        low, high = low + base, high + base
    return (max(0.0, float(low)), float(high))


def _stage_coverage(result: DatasetResult, checks_ran: bool) -> dict[str, Any]:
    """Which checks were evaluated (only those resolve) and why the others (or the profile) were not."""
    profile_error = result.stage_errors.get("profile")
    if not checks_ran:
        return {"failures": {"columns": profile_error}} if profile_error else {}
    evaluated = frozenset(c.name for c in result.checks if c.outcome != CheckOutcome.ERROR)
    errored = [c for c in result.checks if c.outcome == CheckOutcome.ERROR]
    failures: dict[str, str] = {f"check:{c.name}": c.message or "not evaluated" for c in errored}
    general = result.stage_errors.get("checks") or next(
        (c.message for c in errored if c.check_type in ("contract", "checks") and c.message), None
    )
    if general or errored:
        failures["checks"] = general or errored[0].message or "checks were not evaluated"
    if profile_error:
        failures["columns"] = profile_error
    return {
        "checks_passed": evaluated,
        "checks_clean": not errored and "checks" not in result.stage_errors,
        "checks_planned": frozenset(c.name for c in result.checks),
        "failures": failures,
    }


def _timezone(dataset: DatasetConfig) -> str:
    return dataset.sla.expected_by.timezone if dataset.sla and dataset.sla.expected_by else "UTC"


def _schema(
    dataset: DatasetConfig,
    result: DatasetResult,
    baseline: tuple[ColumnInfo, ...] | None,
    checks: list[CheckResult],
) -> Finding | None:
    """Changes against the accepted baseline; a failed Soda schema check is folded in (removed from `checks`)."""
    obs = result.observation
    if not baseline or not obs.columns:
        return None
    changes = diff_columns(baseline, obs.columns)
    if not changes:
        return None
    extra: dict[str, Any] = {}
    for key in ("files_with_other_schema", "schema_variants"):
        if key in obs.details:
            extra[key] = obs.details[key]
    folded = [c for c in checks if c.check_type == "schema" and c.outcome != CheckOutcome.PASS]
    if folded:
        extra["soda_schema_check"] = [
            {"name": c.name, "outcome": c.outcome.value, "message": c.message} for c in folded
        ]
        for check in folded:
            checks.remove(check)
    additive = all(c.kind == "column_added" for c in changes)  # readers of existing columns are unaffected
    return schema_finding(dataset.name, changes, "warn" if additive else dataset.severity, extra)


def _freshness(
    dataset: DatasetConfig, result: DatasetResult, past: Sequence[StoredObservation], as_of: datetime
) -> FreshnessVerdict:
    obs = result.observation
    last_updated, method = obs.last_updated, obs.last_updated_method
    if last_updated is None and dataset.sla is not None:
        last_updated = last_change_from_history(
            obs.row_count, as_of, [(o.as_of, o.row_count) for o in past if o.error is None]
        )
        method = "row_count_history" if last_updated else None
    return evaluate_freshness(dataset.sla, last_updated, method, as_of)


def _volume(
    dataset: DatasetConfig,
    result: DatasetResult,
    past: Sequence[StoredObservation],
    as_of: datetime,
    settings: DetectorSettings,
) -> MetricJudgement | None:
    obs = result.observation
    if obs.row_count is None:
        return None
    history = [
        Point(o.as_of, float(o.row_count)) for o in past if o.error is None and o.row_count is not None
    ]
    due = load_due(dataset.sla, as_of - dataset.anomaly.period, as_of)
    return judge_volume(history, Point(as_of, float(obs.row_count)), settings, load_due=due)


def _columns(
    dataset: DatasetConfig,
    result: DatasetResult,
    history: EvaluationHistory,
    as_of: datetime,
    settings: DetectorSettings,
) -> list[MetricJudgement]:
    profile = result.profile
    assert profile is not None
    past = history.profiles.get(dataset.name, {})
    significance = dataset.anomaly.significance
    judged: list[MetricJudgement] = []
    for column in profile.columns:
        stats = column.stats
        current = ColumnPoint(
            as_of,
            profile.row_count,
            _int(stats.get("null_count")),
            _float(stats.get("null_ratio")),
            _int(stats.get("distinct_count")),
            profile.window_start is not None,
        )
        for item in judge_column(column.column, past.get(column.column, ()), current, settings):
            if item.judgement.is_anomaly:
                worth, why = significant(item.metric, item.judgement, significance, profile.row_count)
                if worth and item.follows_rows and significance.distinct_follows_rows:
                    worth, why = (
                        False,
                        "the distinct count moved with the row count (distinct values per row as usual)",
                    )
                item = item if worth else dataclasses.replace(item, report_only=why)
            judged.append(item)
    return judged


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _fold_anomalies(
    dataset: DatasetConfig,
    volume: MetricJudgement | None,
    columns: list[MetricJudgement],
    stale: Finding | None,
    schema: Finding | None,
    checks: list[CheckResult],
) -> list[Finding]:
    """Anomaly findings, one per problem: consequences are listed under their cause instead."""
    changed = {
        name
        for change in (schema.details.get("changes", []) if schema else [])
        for name in (change.get("column"), change.get("before"))
        if name
    }
    severity = dataset.anomaly.severity
    findings: list[Finding] = []
    volume_direction = (
        volume.judgement.direction if volume is not None and volume.judgement.is_anomaly else None
    )
    cause: Finding | None = None
    if volume_direction == "drop" and stale is not None:
        assert volume is not None
        _relate(stale, anomaly_finding(dataset.name, volume, severity))
        cause = stale
    elif volume_direction is not None:
        assert volume is not None
        cause = anomaly_finding(dataset.name, volume, severity)
        findings.append(cause)
        for check in [
            c
            for c in checks
            if c.origin == "generated"
            and c.check_type == "row_count"
            and c.outcome in (CheckOutcome.FAIL, CheckOutcome.WARN)
        ]:
            checks.remove(check)
            _relate(cause, _check_finding(dataset, check))
    consequence = volume_direction or ("drop" if stale is not None else None)
    for item in columns:
        if not item.judgement.is_anomaly:
            continue
        finding = anomaly_finding(dataset.name, item, severity)
        if schema is not None and item.column in changed:
            _relate(schema, finding)  # a column whose type changed has different statistics, of course
        elif cause is not None and item.metric in _VOLUME_BOUND and item.judgement.direction == consequence:
            _relate(cause, finding)
        else:
            findings.append(finding)
    return findings


def _fold_freshness_checks(
    dataset: DatasetConfig, stale: Finding | None, checks: list[CheckResult]
) -> Finding | None:
    """A failing contract `freshness` check and the SLA breach are one cause: one freshness finding.

    The checks are removed from `checks`; with an SLA breach they are listed under it, without one the
    first failing check becomes the freshness finding (so both feed the same `freshness:sla` incident).
    """
    failing = [
        c
        for c in checks
        if c.check_type == "freshness" and c.outcome in (CheckOutcome.FAIL, CheckOutcome.WARN)
    ]
    for check in failing:
        checks.remove(check)
    if not failing:
        return stale
    names = [c.name for c in failing]
    if stale is None:
        first = failing[0]
        severity = "warn" if all(c.outcome == CheckOutcome.WARN for c in failing) else dataset.severity
        stale = Finding(
            dataset.name,
            FindingKind.FRESHNESS,
            "sla",
            severity,
            f"{dataset.name}: stale (check {first.name} failed)",
            first.message,
            observed=None if first.observed_value is None else f"{first.observed_value:g}",
            expected=first.threshold,
            details={"change_key": f"check:{severity}", "freshness_checks": names},
        )
        failing = failing[1:]
    else:
        stale.details["freshness_checks"] = names
    for check in failing:
        _relate(stale, _check_finding(dataset, check))
    return stale


def _fold_into_missing_checks(anomalies: list[Finding], checks: list[Finding]) -> list[Finding]:
    """A null spike and the failing `missing` check on the same column are one cause: the check keeps it."""
    missing = {
        f.details.get("column"): f
        for f in checks
        if f.details.get("check_type") == "missing" and f.details.get("outcome") in ("fail", "warn")
    }
    kept = []
    for finding in anomalies:
        column = finding.details.get("column")
        metric = str(finding.details.get("metric") or "")
        if column in missing and metric.startswith("null"):
            _relate(missing[column], finding)
        else:
            kept.append(finding)
    return kept


def _relate(cause: Finding, consequence: Finding) -> None:
    """List a consequence under its cause's details (the finding itself is not raised)."""
    cause.details.setdefault("related", []).append(
        {
            "kind": consequence.kind.value,
            "subject": consequence.subject,
            "title": consequence.title,
            "observed": consequence.observed,
            "expected": consequence.expected,
        }
    )


def _check_findings(dataset: DatasetConfig, checks: Sequence[CheckResult]) -> list[Finding]:
    """One finding per failing check; checks that errored for the same reason (a lost source, a rejected
    contract) are one finding about the checks, not one incident per check."""
    by_reason: dict[str, list[CheckResult]] = {}
    for check in checks:
        if check.outcome == CheckOutcome.ERROR:
            by_reason.setdefault(check.message, []).append(check)
    alone = {reason for reason, errored in by_reason.items() if len(errored) == 1}
    findings = [
        _check_finding(dataset, c)
        for c in checks
        if c.outcome in (CheckOutcome.FAIL, CheckOutcome.WARN)
        or (c.outcome == CheckOutcome.ERROR and c.message in alone)
    ]
    findings = _fold_duplicates(findings, checks)
    for reason, errored in by_reason.items():
        if len(errored) > 1:
            findings.append(_checks_not_evaluated(dataset, reason, errored))
    return findings


def _fold_duplicates(findings: list[Finding], checks: Sequence[CheckResult]) -> list[Finding]:
    """Failing `duplicate` checks that count the same duplicated rows (one per key column) are one cause.

    The group's finding is the generated primary-key check when it is among them (else the first by
    name); the others are listed under it.
    """
    counts = {c.name: c.observed_value for c in checks if c.check_type == "duplicate"}
    origin = {c.name: c.details.get("switch") for c in checks}
    groups: dict[float, list[Finding]] = {}
    for finding in findings:
        count = counts.get(finding.subject)
        if (
            finding.details.get("check_type") == "duplicate"
            and count
            and finding.details.get("outcome") != "error"
        ):
            groups.setdefault(count, []).append(finding)
    for group in groups.values():
        if len(group) < 2:
            continue
        group.sort(key=lambda f: (origin.get(f.subject) != "primary_key_duplicates", f.subject))
        cause = group[0]
        for other in group[1:]:
            findings.remove(other)
            _relate(cause, other)
        cause.details["duplicate_checks"] = [f.subject for f in group]
    return findings


def _checks_not_evaluated(dataset: DatasetConfig, reason: str, errored: Sequence[CheckResult]) -> Finding:
    names = [c.name for c in errored]
    return Finding(
        dataset.name,
        FindingKind.CHECK,
        "checks",
        "error",
        f"{dataset.name}: {len(names)} checks could not be evaluated",
        reason.removeprefix("not evaluated: ") or "not evaluated",
        details={"check_type": "checks", "outcome": "error", "change_key": "error", "checks": names},
    )


def _check_finding(dataset: DatasetConfig, check: CheckResult) -> Finding:
    errored = check.outcome == CheckOutcome.ERROR
    severity = "error" if errored else ("warn" if check.outcome == CheckOutcome.WARN else dataset.severity)
    observed = None if check.observed_value is None else f"{check.observed_value:g}"
    return Finding(
        dataset.name,
        FindingKind.CHECK,
        check.name,
        severity,
        f"{dataset.name}: check {check.name} {'errored' if errored else 'failed'}",
        check.message,
        observed=observed,
        expected=check.threshold,
        details={
            "check_type": check.check_type,
            "column": check.column,
            "origin": check.origin,
            "outcome": check.outcome.value,
            "change_key": check.outcome.value,
        },
    )


def _suppress(dataset: DatasetConfig, findings: list[Finding], notes: list[str]) -> list[Finding]:
    if not dataset.suppress:
        return findings
    kept = []
    for finding in findings:
        key = f"{finding.kind.value}:{finding.subject}"
        if any(fnmatch.fnmatchcase(key, pattern) for pattern in dataset.suppress):
            notes.append(f"suppressed by config: {key}")
        else:
            kept.append(finding)
    return kept
