"""Everything the report shows, read through the history store's read model in a few batched queries.

One query per kind of fact (runs, latest observations, observations, profiles, check results, latest
check sets, schema snapshots, findings, incidents with their events), never one per dataset, all on one
connection: a report over a thousand datasets with a month of history must gather in well under a
second. The large tables are read as plain tuples without their timestamp columns; rows are placed on
the time axis through their run id, which is cheaper than parsing a timestamp per row.

Works on an empty store and without incidents or findings (those features may not be in use): the
report then shows what it has.
"""

from __future__ import annotations

import contextlib
import gc
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from datahealth.config.models import DatasetConfig, Project
from datahealth.core.redaction import redact
from datahealth.core.results import Status, StoredObservation, as_utc, utc_now
from datahealth.report.axis import TimeAxis, build_axis
from datahealth.report.schema_log import SchemaLogEntry, diff_snapshots
from datahealth.rules.findings import SEVERITY_RANK, Incident, RunEvaluation
from datahealth.rules.status import health_score, run_score
from datahealth.rules.streams import stream_details
from datahealth.store import HistoryStore, read

UNKNOWN = Status.UNKNOWN.value  # also the status of a dataset never observed (it has no score)
STATUS_NAMES = tuple(s.value for s in Status)
FAILING = ("fail", "unknown")
ROW_COUNTING_CHECKS = ("missing", "invalid", "duplicate", "failed_rows")


@dataclass(frozen=True)
class CheckDetail:
    """A check's latest result (counts only: soda-core's open-source engine returns no failing rows)."""

    name: str
    check_type: str
    column: str | None
    outcome: str
    observed_value: float | None
    threshold: str | None
    message: str
    failing_rows: int | None

    @property
    def failing(self) -> bool:
        return self.outcome in FAILING


@dataclass(frozen=True)
class FindingView:
    dataset: str
    kind: str
    subject: str
    severity: str
    title: str
    message: str
    observed: str | None = None
    expected: str | None = None

    @classmethod
    def of(cls, finding: read.StoredFinding) -> FindingView:
        return cls(
            dataset=finding.dataset,
            kind=finding.kind,
            subject=finding.subject,
            severity=finding.severity,
            title=finding.title,
            message=finding.message,
            observed=finding.observed,
            expected=finding.expected,
        )


@dataclass
class DatasetHistory:
    """Per-dataset series, each indexed by the report's time axis (None where nothing was recorded)."""

    rows: list[int | None]
    lags: list[float | None]
    statuses: list[str | None]
    null_columns: list[str] = field(default_factory=list)
    null_ratios: list[list[float | None]] = field(default_factory=list)
    checks: list[tuple[str, str | None, list[str | None]]] = field(default_factory=list)
    anomalies: set[int] = field(default_factory=set)
    bands: dict[int, tuple[float, float]] = field(default_factory=dict)


@dataclass
class DatasetView:
    """One dataset as the report shows it: table row, detail header and history."""

    config: DatasetConfig
    status: str
    history: DatasetHistory
    as_of: datetime | None = None
    rows: int | None = None
    last_updated: datetime | None = None
    lag_seconds: float | None = None
    error: str | None = None
    error_kind: str | None = None
    checks: list[CheckDetail] = field(default_factory=list)
    schema_changes: list[SchemaLogEntry] = field(default_factory=list)
    findings: list[FindingView] = field(default_factory=list)
    open_incidents: int = 0
    score: float | None = None  # None while never observed
    stream: dict[str, Any] | None = None  # a topic/stream/queue's latest reading (rules/streams.py)

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def observed(self) -> bool:
        """Whether any observation exists (a never-observed dataset is `unknown` without a reason or score)."""
        return self.as_of is not None

    @property
    def rank(self) -> int:
        return Status(self.status).rank if self.status in Status._value2member_map_ else -1

    @property
    def checks_failed(self) -> int:
        return sum(1 for c in self.checks if c.failing)

    @property
    def last_schema_change(self) -> datetime | None:
        return self.schema_changes[-1].at if self.schema_changes else None

    @property
    def sla_warn_seconds(self) -> float | None:
        sla = self.config.sla
        return sla.warn_after.total_seconds() if sla and sla.warn_after else None

    @property
    def sla_error_seconds(self) -> float | None:
        sla = self.config.sla
        return sla.error_after.total_seconds() if sla and sla.error_after else None

    @property
    def lag_level(self) -> str:
        """ok | warn | fail: where the current lag stands against the SLA's age limits."""
        lag = self.lag_seconds
        if lag is None:
            return "ok"
        if self.sla_error_seconds is not None and lag > self.sla_error_seconds:
            return "fail"
        if self.sla_warn_seconds is not None and lag > self.sla_warn_seconds:
            return "warn"
        return "ok"

    @property
    def lag_ratio(self) -> float | None:
        limit = self.sla_error_seconds or self.sla_warn_seconds
        return None if self.lag_seconds is None or not limit else self.lag_seconds / limit

    @property
    def headline(self) -> str:
        """The one line that says what is wrong (for the worst-datasets list and the email)."""
        if self.error:
            return self.error.splitlines()[0][:300]
        if self.findings:
            worst = max(self.findings, key=lambda f: SEVERITY_RANK.get(f.severity, 0))
            return worst.title.removeprefix(f"{self.name}: ")
        failing = [c.name for c in self.checks if c.failing]
        if failing:
            return f"failing checks: {', '.join(failing[:5])}" + (
                f" and {len(failing) - 5} more" if len(failing) > 5 else ""
            )
        if self.lag_level != "ok":
            return "stale against its freshness SLA"
        return ""


@dataclass(frozen=True)
class RunInfo:
    run_id: str | None
    as_of: datetime | None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration_seconds: float | None = None
    tier: str | None = None
    status: str | None = None
    datasets_total: int = 0
    datasets_failed: int = 0
    warnings: tuple[str, ...] = ()

    @classmethod
    def of(cls, run: read.RunRecord) -> RunInfo:
        return cls(
            run_id=run.id,
            as_of=run.as_of,
            started_at=run.started_at,
            finished_at=run.finished_at,
            duration_seconds=run.duration_seconds,
            tier=run.tier,
            status=run.status,
            datasets_total=run.datasets_total,
            datasets_failed=run.datasets_failed,
            warnings=run.warnings,
        )


@dataclass
class ReportData:
    title: str
    project_name: str
    as_of: datetime
    generated_at: datetime
    window_start: datetime
    axis: TimeAxis
    datasets: list[DatasetView]
    incidents: list[Incident]
    run: RunInfo | None
    health_counts: list[dict[str, int]]
    health_scores: list[float | None]
    base_url: str | None = None
    incident_events: dict[int, tuple[tuple[datetime, str], ...]] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUS_NAMES, 0)
        for dataset in self.datasets:
            counts[dataset.status] += 1
        return counts

    @property
    def score(self) -> float | None:
        """The mean of the observed datasets' scores, as a run computes its health score."""
        scores = [d.score for d in self.datasets if d.score is not None]
        return run_score(scores) if scores else None

    def worst(self, limit: int = 10) -> list[DatasetView]:
        bad = [d for d in self.datasets if d.status != Status.OK.value and d.observed]
        return sorted(bad, key=_worst_first)[:limit]

    @property
    def open_incidents(self) -> list[Incident]:
        return sorted(
            (i for i in self.incidents if i.is_open),
            key=lambda i: (-SEVERITY_RANK.get(i.severity, 0), -i.opened_at.timestamp(), i.id),
        )

    @property
    def streams(self) -> list[DatasetView]:
        """Stream datasets with a reading, for the report's Streams section."""
        return [d for d in self.sorted_datasets() if d.stream is not None]

    @property
    def errored(self) -> list[DatasetView]:
        return [d for d in self.datasets if d.status == Status.UNKNOWN.value and d.observed]

    @property
    def findings(self) -> list[FindingView]:
        found = [f for d in self.datasets for f in d.findings]
        return sorted(found, key=lambda f: (-SEVERITY_RANK.get(f.severity, 0), f.dataset, f.kind, f.subject))

    def sorted_datasets(self) -> list[DatasetView]:
        """Worst first, then by name: the order the dataset table opens in."""
        return sorted(self.datasets, key=_worst_first)


def _worst_first(dataset: DatasetView) -> tuple[int, int, float, str]:
    return (-dataset.rank, -dataset.checks_failed, -(dataset.lag_ratio or 0.0), dataset.name)


def gather_report_data(
    project: Project,
    store: HistoryStore,
    *,
    as_of: datetime | None = None,
    evaluation: RunEvaluation | None = None,
    run: RunInfo | None = None,
) -> ReportData:
    """Read the report's data for `project` from `store`, as of `as_of` (default: the newest run)."""
    config = project.config
    names = [d.name for d in project.datasets]
    with gc_paused(), read.connect(store) as conn:
        end = as_utc(as_of) or read.newest_as_of(conn) or utc_now()
        start = end - timedelta(days=config.publish.report.history_days)
        window_runs = [(r.id, r.as_of, r.tier) for r in read.runs_between(conn, start, end)]
        axis = build_axis(window_runs, start, end, config.publish.report.max_points)
        if run is None:
            latest = read.latest_run(conn, end)
            run = RunInfo.of(latest) if latest else None
        views = {d.name: DatasetView(d, UNKNOWN, _empty_history(len(axis))) for d in project.datasets}
        window = read.RunWindow(axis.shown_runs, start, end)
        _apply_latest_observations(read.latest_observations(conn, names, as_of=end), views)
        placed = _apply_observation_history(read.observation_points(conn, window), views, axis)
        _apply_expected_rows(read.expected_row_ranges(conn, window), placed)
        _apply_null_ratios(read.null_ratio_points(conn, window), placed, len(axis))
        _apply_check_history(read.check_points(conn, window), placed, len(axis))
        _apply_latest_checks(read.latest_checks(conn, names, as_of=end), views)
        _apply_schema_log(read.schema_log(conn, names, until=end), views)
        stored_findings = read.findings_between(conn, names, start, end)
        active = read.incidents_active_between(conn, start, end)
        timelines = read.timelines_active_between(conn, start, end)
    _apply_findings(stored_findings, views, axis, evaluation, run.run_id if run else None)
    incident_list, events = _incidents(active, timelines, set(names), evaluation, end)
    _apply_scores(views, incident_list, evaluation)
    datasets = [views[n] for n in names]
    counts, scores = _health_over_time(datasets, len(axis))
    return ReportData(
        title=config.publish.report.title,
        project_name=config.project.name,
        as_of=end,
        generated_at=utc_now(),
        window_start=start,
        axis=axis,
        datasets=datasets,
        incidents=incident_list,
        run=run,
        health_counts=counts,
        health_scores=scores,
        base_url=config.publish.report.base_url,
        incident_events=events,
    )


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Reading a large history creates hundreds of thousands of tuples, none of which can form a cycle;
    without this the cyclic collector walks the growing heap over and over (a third of the gather time).
    The same holds for the page built from them (`render_project_report` pauses it for both)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- observations ---------------------------------------------------------------------------------


def _apply_latest_observations(latest: dict[str, StoredObservation], views: dict[str, DatasetView]) -> None:
    for name, obs in latest.items():
        view = views.get(name)
        if view is None:
            continue
        view.status = obs.status.value
        view.as_of, view.rows = obs.as_of, obs.row_count
        view.last_updated, view.lag_seconds = obs.last_updated, obs.freshness_lag_seconds
        view.error, view.error_kind = obs.reason, obs.error_kind
        view.stream = stream_details(obs.details)


def _apply_expected_rows(ranges: dict[int, tuple[float, float]], placed: Placed) -> None:
    """The row-count band: the range the volume detector judged each run against, as the run recorded it."""
    for observation_id, band in ranges.items():
        spot = placed.get(observation_id)
        if spot is not None:
            spot[0].history.bands[spot[1]] = band


# Placed observations: observation id -> (its dataset's view, its axis index). Profiles and check results
# are placed through their observation id, so those big reads carry one integer instead of two strings.
# Each read is ordered by as-of time, so where several runs share an axis point the newest one's value
# stays (per kind: a metadata-only run after the daily one does not blank that point's profile).
Placed = dict[int, tuple[DatasetView, int]]


def _apply_observation_history(
    points: list[read.ObservationPoint], views: dict[str, DatasetView], axis: TimeAxis
) -> Placed:
    placed: Placed = {}
    run_index = axis.run_index
    for observation_id, run_id, dataset, status, row_count, lag in points:
        view, index = views.get(dataset), run_index.get(run_id)
        if view is None or index is None:
            continue
        history = view.history
        history.statuses[index], history.rows[index], history.lags[index] = status, row_count, lag
        placed[observation_id] = (view, index)
    return placed


def _apply_null_ratios(points: list[read.NullRatioPoint], placed: Placed, size: int) -> None:
    per_view: dict[int, tuple[DatasetView, dict[str, list[float | None]]]] = {}
    current, spot, columns = None, None, {}  # rows come grouped by observation: look each up once
    for observation_id, column, ratio in points:
        if observation_id != current:
            current, spot = observation_id, placed.get(observation_id)
            if spot is not None:
                columns = per_view.setdefault(id(spot[0]), (spot[0], {}))[1]
        if spot is None:
            continue
        series = columns.get(column)
        if series is None:
            series = columns[column] = [None] * size
        series[spot[1]] = ratio
    for view, found in per_view.values():
        view.history.null_columns = list(found)
        view.history.null_ratios = list(found.values())


def _apply_check_history(points: list[read.CheckPoint], placed: Placed, size: int) -> None:
    per_view: dict[int, tuple[DatasetView, dict[str, tuple[str, str | None, list[str | None]]]]] = {}
    current, spot, checks = None, None, {}  # rows come grouped by observation: look each up once
    for observation_id, name, column, outcome in points:
        if observation_id != current:
            current, spot = observation_id, placed.get(observation_id)
            if spot is not None:
                checks = per_view.setdefault(id(spot[0]), (spot[0], {}))[1]
        if spot is None:
            continue
        check = checks.get(name)
        if check is None:
            check = checks[name] = (name, column, [None] * size)
        check[2][spot[1]] = outcome
    for view, checks in per_view.values():
        view.history.checks = list(checks.values())


def _apply_latest_checks(latest: dict[str, list[read.StoredCheck]], views: dict[str, DatasetView]) -> None:
    """Each dataset's newest set of check results (a metadata-only run after it does not hide them)."""
    for name, checks in latest.items():
        view = views.get(name)
        if view is not None:
            view.checks = [_check_detail(c) for c in checks]


def _check_detail(check: read.StoredCheck) -> CheckDetail:
    details = check.details
    failing = details.get("failed_rows_count")
    if not isinstance(failing, int) or isinstance(failing, bool):  # the observed value counts rows for these
        counts_rows = check.check_type in ROW_COUNTING_CHECKS and check.observed_value is not None
        failing = int(check.observed_value or 0) if check.outcome in FAILING and counts_rows else None
    return CheckDetail(
        name=check.name,
        check_type=check.check_type,
        column=check.column,
        outcome=check.outcome,
        observed_value=check.observed_value,
        threshold=check.threshold,
        message=check.message,
        failing_rows=failing,
    )


def _apply_schema_log(log: dict[str, list[read.SchemaSnapshot]], views: dict[str, DatasetView]) -> None:
    for dataset, snapshots in log.items():
        if dataset in views and len(snapshots) > 1:
            views[dataset].schema_changes = diff_snapshots(
                [(s.as_of, [c.to_dict() for c in s.columns], s.accepted) for s in snapshots]
            )


# --- findings and incidents -----------------------------------------------------------------------


def _apply_findings(
    stored: list[read.StoredFinding],
    views: dict[str, DatasetView],
    axis: TimeAxis,
    evaluation: RunEvaluation | None,
    current_run: str | None,
) -> None:
    """Current findings per dataset (this run's evaluation, else the stored findings of its latest run),
    and the row-count anomalies to mark on its history."""
    latest_run: dict[str, str] = {}
    per_dataset: dict[str, list[tuple[str, FindingView]]] = defaultdict(list)
    for finding in stored:
        view = views.get(finding.dataset)
        if view is None:
            continue
        _mark_anomaly(
            view.history, axis.index(finding.run_id), finding.kind, finding.subject, finding.details
        )
        per_dataset[finding.dataset].append((finding.run_id, FindingView.of(finding)))
        latest_run[finding.dataset] = finding.run_id
    evaluated = set(evaluation.statuses) if evaluation else set()
    for name, view in views.items():
        if name in evaluated:
            continue
        run_id = latest_run.get(name)
        view.findings = [f for r, f in per_dataset.get(name, []) if r == run_id]
    if evaluation is None:
        return
    index = axis.index(current_run)
    for item in evaluation.findings:
        view = views.get(item.dataset)
        if view is None:
            continue
        view.findings.append(
            FindingView(
                dataset=item.dataset,
                kind=item.kind.value,
                subject=item.subject,
                severity=item.severity,
                title=redact(item.title),
                message=redact(item.message),
                observed=item.observed,
                expected=item.expected,
            )
        )
        _mark_anomaly(view.history, index, item.kind.value, item.subject, item.details)


_VOLUME_METRICS = ("row_count", "rows_added")


def _mark_anomaly(
    history: DatasetHistory, index: int | None, kind: str, subject: str, details: dict[str, Any]
) -> None:
    """Volume anomalies become markers on the row-count chart, with the detector's expected range where it
    gave one (a range of rows added is moved onto the row-count scale: it starts at the count the
    detector compared against)."""
    metric = details.get("metric")
    is_volume = metric in _VOLUME_METRICS if metric else subject in ("volume", "row_count", "rows")
    if index is None or kind != "anomaly" or not is_volume:
        return
    history.anomalies.add(index)
    low, high = details.get("low"), details.get("high")
    if isinstance(details.get("expected_range"), list | tuple) and len(details["expected_range"]) == 2:
        low, high = details["expected_range"]
    if not (isinstance(low, int | float) and isinstance(high, int | float)):
        return
    if metric == "rows_added":
        rows, added = history.rows[index], details.get("observed")
        if rows is None or not isinstance(added, int | float):
            return
        low, high = low + rows - added, high + rows - added
    history.bands[index] = (float(low), float(high))


def _incidents(
    active: list[Incident],
    timelines: dict[int, list[read.IncidentEventRecord]],
    datasets: set[str],
    evaluation: RunEvaluation | None,
    end: datetime,
) -> tuple[list[Incident], dict[int, tuple[tuple[datetime, str], ...]]]:
    """The project's incidents open now or active during the window, with their events; the run's own
    open incidents are added when the store does not have them yet."""
    found = {i.id: i for i in active if i.dataset in datasets}
    for incident in evaluation.open_incidents if evaluation else ():
        if incident.id not in found and incident.dataset in datasets:
            found[incident.id] = replace(
                incident,
                title=redact(incident.title),
                message=redact(incident.message),
                opened_at=as_utc(incident.opened_at) or end,
            )
    ordered = sorted(found.values(), key=lambda i: (i.opened_at, i.id))
    events = {i: tuple((e.at, e.event) for e in timeline) for i, timeline in timelines.items() if i in found}
    return ordered, events


def _apply_scores(
    views: dict[str, DatasetView], incident_list: Sequence[Incident], evaluation: RunEvaluation | None
) -> None:
    """Each dataset's score: the run's own where it evaluated the dataset, else from its open incidents
    (as evaluation scores them), else from its status alone (no incident history)."""
    open_by_dataset: dict[str, list[Incident]] = defaultdict(list)
    for incident in incident_list:
        if incident.is_open:
            open_by_dataset[incident.dataset].append(incident)
    scores = evaluation.scores if evaluation else {}
    for name, view in views.items():
        view.open_incidents = len(open_by_dataset.get(name, ()))
        if name in scores:
            view.score = scores[name]
        elif not view.observed:  # never observed: unknown, and no score to average
            view.score = None
        elif open_by_dataset.get(name) and view.status != Status.UNKNOWN.value:
            view.score = health_score(open_by_dataset[name])
        else:
            view.score = health_score([Status(view.status)])


# --- derived --------------------------------------------------------------------------------------


def _empty_history(size: int) -> DatasetHistory:
    return DatasetHistory(rows=[None] * size, lags=[None] * size, statuses=[None] * size)


def _health_over_time(
    datasets: Sequence[DatasetView], size: int
) -> tuple[list[dict[str, int]], list[float | None]]:
    """Status counts and score at each axis point, carrying each dataset's last known status forward
    (a metadata tier that observes a subset must not make the others vanish from the chart)."""
    counts = [dict.fromkeys(STATUS_NAMES, 0) for _ in range(size)]
    for dataset in datasets:
        current: str | None = None
        for index, status in enumerate(dataset.history.statuses):
            current = status or current
            if current in counts[index]:
                counts[index][current] += 1
    scores: list[float | None] = []
    for point in counts:
        statuses = [Status(s) for s, n in point.items() for _ in range(n)]
        scores.append(run_score(health_score([s]) for s in statuses) if statuses else None)
    return counts, scores


def routing_severity(view: DatasetView, incidents_: Iterable[Incident] = ()) -> str:
    """The severity to route a dataset's report lines by: its worst open incident or finding."""
    severities = [i.severity for i in incidents_ if i.dataset == view.name and i.is_open]
    severities += [f.severity for f in view.findings]
    if view.status in (Status.FAIL.value, Status.UNKNOWN.value):
        severities.append("error")
    return max(severities, key=lambda s: SEVERITY_RANK.get(s, 0), default="warn")
