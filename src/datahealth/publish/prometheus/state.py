"""Assembles the `MetricsState` from the history store, overlaid with the run being published (if any).

The history store is the source of truth for every dataset the project configures, so a run over a
subset (one tier, `-d 'warehouse.*'`) still publishes the whole picture, a restarted exporter serves
what the last runs saw, and a dataset removed from config simply stops appearing. The run being
published adds what the store may not hold yet: evaluation's verdict, incidents and the run itself.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from datahealth.config.models import Project
from datahealth.core.results import CheckOutcome, CheckResult, Observation, Status, utc_now
from datahealth.publish.context import PublishContext
from datahealth.publish.prometheus.metrics import DatasetState, MetricsState, RunState, run_succeeded
from datahealth.rules.findings import FindingKind
from datahealth.rules.status import health_score
from datahealth.rules.streams import stream_details
from datahealth.store import HistoryStore, read

DEFAULT_RUN_INTERVAL = timedelta(days=1)  # assumed when no tier has a schedule
_SCHEDULE_HORIZON_DAYS = 8  # long enough to see a weekend gap in a weekday schedule
_SAMPLE_FIRES = 50


@dataclass(frozen=True)
class Seen:
    """The parts of a dataset's latest observation that become metrics."""

    rows: int | None
    last_updated: datetime | None
    observed_at: datetime | None
    stream_lag_seconds: float | None = None
    stream_lag_messages: int | None = None


def _seen(
    rows: int | None, last_updated: datetime | None, observed_at: datetime | None, details: dict[str, Any]
) -> Seen:
    """A `Seen`, with a stream's consumer lag when the observation is of a stream."""
    stream = stream_details(details) or {}
    lag, behind = stream.get("lag_seconds"), stream.get("messages_behind")
    return Seen(
        rows,
        last_updated,
        observed_at,
        float(lag) if isinstance(lag, int | float) else None,
        int(behind) if isinstance(behind, int) else None,
    )


@dataclass
class Reading:
    """Raw per-dataset facts, first from the store, then corrected by the run being published."""

    seen: dict[str, Seen] = field(default_factory=dict)
    newest_data: dict[str, datetime] = field(default_factory=dict)
    statuses: dict[str, Status] = field(default_factory=dict)
    scores: dict[str, float] = field(default_factory=dict)
    checks: dict[str, dict[str, CheckOutcome]] = field(default_factory=dict)
    null_ratios: dict[str, dict[str, float]] = field(default_factory=dict)
    schema_changes: dict[str, int] = field(default_factory=dict)
    open_incidents: dict[str, tuple[str, str]] = field(
        default_factory=dict
    )  # fingerprint → (dataset, severity)
    run: RunState | None = None


# entry points ---------------------------------------------------------------------------------


def state_from_store(
    project: Project, store: HistoryStore, *, stale_after_seconds: float | None = None
) -> MetricsState:
    """The state `serve-metrics` exposes: the history store's latest word on every configured dataset."""
    config = project.config.publish.prometheus
    reading = read_store(store, column_metrics=config.column_metrics)
    stale = stale_after_seconds if stale_after_seconds is not None else stale_after_for(project, store)
    return build_state(project, reading, stale)


def state_for_run(context: PublishContext, now: datetime | None = None) -> MetricsState:
    """The state published at the end of a run: the store's, corrected by this run's own verdict."""
    config = context.project.config.publish.prometheus
    reading = read_store(context.store, column_metrics=config.column_metrics)
    at = now or utc_now()
    overlay_run(reading, context, at)
    return build_state(context.project, reading, stale_after_for(context.project, context.store, at))


# reading the store ----------------------------------------------------------------------------


def read_store(store: HistoryStore, *, column_metrics: bool) -> Reading:
    """Everything the metrics need through the read model: one batched query per kind of fact."""
    reading = Reading()
    with read.connect(store) as conn:
        latest = read.latest_observations(conn)
        for name, obs in latest.items():
            reading.seen[name] = _seen(obs.row_count, obs.last_updated, obs.observed_at, obs.details)
            reading.statuses[name] = obs.status
            reading.scores[name] = health_score([obs.status])
        unknown_age = [name for name, seen in reading.seen.items() if seen.last_updated is None]
        reading.newest_data = read.newest_data(conn, unknown_age)
        reading.checks = {
            name: worst_outcomes([(c.name, c.outcome) for c in checks])
            for name, checks in read.latest_checks(conn).items()
        }
        reading.schema_changes = _schema_changes(conn, {name: obs.run_id for name, obs in latest.items()})
        reading.open_incidents = {i.fingerprint: (i.dataset, i.severity) for i in read.open_incidents(conn)}
        if column_metrics:
            reading.null_ratios = {
                name: {c.column: float(c.null_ratio) for c in columns if c.null_ratio is not None}
                for name, columns in read.latest_profiles(conn).items()
            }
        reading.run = _run_state(conn)
    return reading


def _schema_changes(conn: sa.Connection, latest_runs: dict[str, str]) -> dict[str, int]:
    """Schema-change findings of each dataset's latest run."""
    counts = dict.fromkeys(latest_runs, 0)
    for finding in read.run_findings(conn, list(latest_runs.values()), kind=FindingKind.SCHEMA_CHANGE.value):
        if latest_runs.get(finding.dataset) == finding.run_id:
            counts[finding.dataset] += 1
    return counts


def _run_state(conn: sa.Connection) -> RunState | None:
    latest = read.last_finished_run(conn)
    if latest is None or latest.finished_at is None:
        return None
    return RunState(
        finished_at=latest.finished_at,
        duration_seconds=float(latest.duration_seconds or 0.0),
        datasets_observed=latest.datasets_total,
        datasets_failed=latest.datasets_failed,
        health_score=latest.health_score,
        last_success_at=read.last_success_at(conn),
    )


def worst_outcomes(rows: list[tuple[str, str]]) -> dict[str, CheckOutcome]:
    """One outcome per check name (the worst), so two checks sharing a name never make duplicate series."""
    order = list(CheckOutcome)
    result: dict[str, CheckOutcome] = {}
    for name, raw in rows:
        try:
            outcome = CheckOutcome(raw)
        except ValueError:
            continue
        if name not in result or order.index(outcome) > order.index(result[name]):
            result[name] = outcome
    return result


# the run being published ----------------------------------------------------------------------


def overlay_run(reading: Reading, context: PublishContext, now: datetime) -> None:
    """Correct the store's reading with this run: its results, evaluation's verdict, incidents, run totals."""
    evaluation = context.evaluation
    for result in context.results:
        name = result.dataset
        _overlay_observation(reading, result.observation)
        if name in evaluation.statuses:
            reading.statuses[name] = evaluation.statuses[name]
        if name in evaluation.scores:
            reading.scores[name] = evaluation.scores[name]
        reading.schema_changes[name] = sum(
            1 for f in evaluation.findings_for(name) if f.kind == FindingKind.SCHEMA_CHANGE
        )
        if result.checks:
            reading.checks[name] = _check_outcomes(result.checks)
        if result.profile is not None:
            ratios = {
                c.column: float(c.stats["null_ratio"])
                for c in result.profile.columns
                if c.stats.get("null_ratio") is not None
            }
            reading.null_ratios[name] = ratios
    for change in evaluation.changes:
        incident = change.incident
        if incident.is_open:
            reading.open_incidents[incident.fingerprint] = (incident.dataset, incident.severity)
        else:
            reading.open_incidents.pop(incident.fingerprint, None)
    for incident in evaluation.open_incidents:
        reading.open_incidents[incident.fingerprint] = (incident.dataset, incident.severity)
    summary = context.summary
    observed, failed = len(summary.datasets), len(summary.errored)
    previous_success = reading.run.last_success_at if reading.run else None
    reading.run = RunState(
        finished_at=now,
        duration_seconds=summary.duration_seconds,
        datasets_observed=observed,
        datasets_failed=failed,
        health_score=summary.health_score,
        last_success_at=now if run_succeeded(observed, failed) else previous_success,
    )


def _overlay_observation(reading: Reading, obs: Observation) -> None:
    reading.seen[obs.dataset] = _seen(obs.row_count, obs.last_updated, obs.observed_at, obs.details)
    if obs.last_updated is not None:
        newest = reading.newest_data.get(obs.dataset)
        reading.newest_data[obs.dataset] = (
            obs.last_updated if newest is None else max(newest, obs.last_updated)
        )


def _check_outcomes(checks: list[CheckResult]) -> dict[str, CheckOutcome]:
    return worst_outcomes([(c.name, c.outcome.value) for c in checks])


# assembling the state -------------------------------------------------------------------------


def build_state(project: Project, reading: Reading, stale_after_seconds: float) -> MetricsState:
    """One `DatasetState` per configured dataset; datasets no longer configured are left out."""
    incident_counts: dict[str, dict[str, int]] = {}
    for dataset, severity in reading.open_incidents.values():
        per_dataset = incident_counts.setdefault(dataset, {})
        per_dataset[severity] = per_dataset.get(severity, 0) + 1
    states = []
    for ds in project.datasets:
        seen = reading.seen.get(ds.name)
        sla: dict[str, float] = {}
        if ds.sla is not None and ds.sla.warn_after is not None:
            sla["warn"] = ds.sla.warn_after.total_seconds()
        if ds.sla is not None and ds.sla.error_after is not None:
            sla["error"] = ds.sla.error_after.total_seconds()
        last_updated = seen.last_updated if seen and seen.last_updated else reading.newest_data.get(ds.name)
        states.append(
            DatasetState(
                dataset=ds.name,
                source=ds.source,
                severity=ds.severity,
                sla_seconds=sla,
                status=reading.statuses.get(ds.name),
                score=reading.scores.get(ds.name),
                rows=seen.rows if seen else None,
                last_updated=last_updated,
                last_observed=seen.observed_at if seen else None,
                schema_changes=reading.schema_changes.get(ds.name, 0),
                checks=reading.checks.get(ds.name, {}),
                null_ratios=reading.null_ratios.get(ds.name, {}),
                incidents_open=incident_counts.get(ds.name, {}),
                stream_lag_seconds=seen.stream_lag_seconds if seen else None,
                stream_lag_messages=seen.stream_lag_messages if seen else None,
            )
        )
    return MetricsState(
        datasets=states,
        run=reading.run,
        stale_after_seconds=stale_after_seconds,
        column_metrics=project.config.publish.prometheus.column_metrics,
    )


def stale_after(
    project: Project, now: datetime | None = None, tiers_run: Collection[str] | None = None
) -> float:
    """Seconds after the last success at which the monitor is stale: configured, or twice the schedule's gap.

    The gap is the longest wait between two runs of the most frequently scheduled tier over the next
    eight days, so a weekday-only schedule is not called stale on a Sunday. Given `tiers_run` (the tiers
    the history store saw run lately), only those count: a tier nobody deployed, such as the demo
    project's every-minute realtime tier after `datahealth demo`, must not call the monitor stale two
    minutes later. When none of them has run (runs by hand, the demo), the slowest schedule's gap counts.
    """
    configured = project.config.publish.prometheus.stale_after
    if configured is not None:
        return configured.total_seconds()
    at = now or utc_now()
    gaps = {
        name: gap
        for name, tier in project.config.tiers.items()
        if tier.schedule
        for gap in [_longest_gap(tier.schedule, tier.timezone, at)]
        if gap is not None
    }
    if tiers_run is None:
        chosen = list(gaps.values())
    else:
        ran = [gap for name, gap in gaps.items() if name in tiers_run]
        chosen = ran or ([max(gaps.values())] if gaps else [])
    return 2 * (min(chosen) if chosen else DEFAULT_RUN_INTERVAL).total_seconds()


def stale_after_for(project: Project, store: HistoryStore, now: datetime | None = None) -> float:
    """`stale_after` for the tiers the store saw run within the schedule horizon."""
    at = now or utc_now()
    tiers = read.tiers_run_since(store, at - timedelta(days=_SCHEDULE_HORIZON_DAYS))
    return stale_after(project, at, tiers)


def _longest_gap(schedule: str, timezone: str, now: datetime) -> timedelta | None:
    """The longest wait between two fires: among the next few fires, and across each of the next eight
    midnights (which is where nights and weekends fall) without walking every fire of a busy schedule."""
    from croniter import croniter

    start = now.astimezone(ZoneInfo(timezone))
    try:
        cron = croniter(schedule, start)
        fires = [cron.get_next(datetime) for _ in range(_SAMPLE_FIRES)]
        gaps = [later - earlier for earlier, later in zip(fires, fires[1:], strict=False)]
        midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
        for day in range(1, _SCHEDULE_HORIZON_DAYS + 1):
            first = croniter(schedule, midnight + timedelta(days=day, seconds=-1)).get_next(datetime)
            gaps.append(first - croniter(schedule, first).get_prev(datetime))
    except (ValueError, KeyError, ArithmeticError):
        return None  # an invalid schedule is reported by `datahealth validate`, not here
    return max(gaps, default=None)
