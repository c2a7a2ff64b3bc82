"""Everything the report shows, read from the history store in a few batched queries.

One query per table (runs, latest observations, observations, profiles, check results, latest check
sets, schema snapshots, findings, incidents with their events), never one per dataset: a report over a
thousand datasets with a month of history must gather in well under a second. The large tables are
read without their timestamp columns; rows are placed on the time axis through their run id, which is
cheaper than parsing a timestamp per row.

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

import sqlalchemy as sa

from datahealth.config.models import DatasetConfig, Project
from datahealth.core.redaction import redact
from datahealth.core.results import Status, as_utc, utc_now
from datahealth.report.axis import TimeAxis, build_axis
from datahealth.report.schema_log import SchemaLogEntry, diff_snapshots
from datahealth.rules.findings import SEVERITY_RANK, Incident, IncidentStatus, RunEvaluation
from datahealth.rules.status import health_score, run_score
from datahealth.store import HistoryStore
from datahealth.store.tables import (
    check_results,
    findings,
    incident_events,
    incidents,
    observations,
    profiles,
    runs,
    schema_snapshots,
)

UNKNOWN = "unknown"
STATUS_NAMES = (*(s.value for s in Status), UNKNOWN)
SAMPLE_ROWS_SHOWN = 10
SAMPLE_COLUMNS_SHOWN = 20
SAMPLE_VALUE_CHARS = 200
FAILING = ("fail", "error")
ROW_COUNTING_CHECKS = ("missing", "invalid", "duplicate", "failed_rows")


@dataclass(frozen=True)
class CheckDetail:
    """A check's latest result. `sample_rows` is filled only for datasets that opted in (`share_samples`)."""

    name: str
    check_type: str
    column: str | None
    outcome: str
    observed_value: float | None
    threshold: str | None
    message: str
    failing_rows: int | None
    sample_columns: list[str]
    sample_rows: list[list[str]] | None

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

    @property
    def name(self) -> str:
        return self.config.name

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
        bad = [d for d in self.datasets if d.status not in (Status.OK.value, UNKNOWN)]
        return sorted(bad, key=_worst_first)[:limit]

    @property
    def open_incidents(self) -> list[Incident]:
        return sorted(
            (i for i in self.incidents if i.is_open),
            key=lambda i: (-SEVERITY_RANK.get(i.severity, 0), -i.opened_at.timestamp(), i.id),
        )

    @property
    def errored(self) -> list[DatasetView]:
        return [d for d in self.datasets if d.status == Status.ERROR.value]

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
    with _gc_paused(), store.engine.connect() as conn:
        end = as_utc(as_of) or _newest_as_of(conn) or utc_now()
        start = end - timedelta(days=config.publish.report.history_days)
        window_runs = [
            (r.id, as_utc(r.as_of) or end, r.tier)
            for r in conn.execute(
                sa.select(runs.c.id, runs.c.as_of, runs.c.tier).where(
                    runs.c.as_of >= start, runs.c.as_of <= end
                )
            )
        ]
        axis = build_axis(window_runs, start, end, config.publish.report.max_points)
        if run is None:
            run = _latest_run(conn, end)
        names = [d.name for d in project.datasets]
        views = {d.name: DatasetView(d, UNKNOWN, _empty_history(len(axis))) for d in project.datasets}
        _apply_latest_observations(conn, views, end)
        placed = _apply_observation_history(conn, views, axis, start, end)
        _apply_null_ratios(conn, placed, axis, start, end)
        _apply_check_history(conn, placed, axis, start, end)
        _apply_latest_checks(conn, views, end)
        _apply_schema_log(conn, views, end)
        _apply_findings(conn, views, axis, start, end, evaluation, run.run_id if run else None)
        incident_list, events = _read_incidents(conn, start, end, set(names), evaluation)
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
def _gc_paused() -> Iterator[None]:
    """Reading a large history creates hundreds of thousands of tuples, none of which can form a cycle;
    without this the cyclic collector walks the growing heap over and over (a third of the gather time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


# --- runs -----------------------------------------------------------------------------------------


def _newest_as_of(conn: sa.Connection) -> datetime | None:
    return as_utc(conn.execute(sa.select(sa.func.max(runs.c.as_of))).scalar())


def _latest_run(conn: sa.Connection, end: datetime) -> RunInfo | None:
    row = (
        conn.execute(
            sa.select(runs)
            .where(runs.c.as_of <= end)
            .order_by(runs.c.finished_at.is_(None), runs.c.as_of.desc(), runs.c.started_at.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    summary = row["summary"] or {}
    return RunInfo(
        run_id=row["id"],
        as_of=as_utc(row["as_of"]),
        started_at=as_utc(row["started_at"]),
        finished_at=as_utc(row["finished_at"]),
        duration_seconds=row["duration_seconds"],
        tier=row["tier"],
        status=row["status"],
        datasets_total=row["datasets_total"] or 0,
        datasets_failed=row["datasets_failed"] or 0,
        warnings=tuple(redact(w) for w in summary.get("warnings", []) if isinstance(w, str)),
    )


# --- observations ---------------------------------------------------------------------------------


def _apply_latest_observations(conn: sa.Connection, views: dict[str, DatasetView], end: datetime) -> None:
    newest = (
        sa.select(sa.func.max(observations.c.id).label("id"))
        .where(observations.c.as_of <= end)
        .group_by(observations.c.dataset)
        .subquery()
    )
    query = sa.select(
        observations.c.dataset,
        observations.c.status,
        observations.c.as_of,
        observations.c.row_count,
        observations.c.last_updated,
        observations.c.freshness_lag_seconds,
        observations.c.error,
        observations.c.error_kind,
    ).join(newest, observations.c.id == newest.c.id)
    for row in conn.execute(query):
        view = views.get(row.dataset)
        if view is None:
            continue
        view.status = row.status if row.status in STATUS_NAMES else UNKNOWN
        view.as_of, view.rows = as_utc(row.as_of), row.row_count
        view.last_updated, view.lag_seconds = as_utc(row.last_updated), row.freshness_lag_seconds
        view.error = redact(row.error) if row.error else None
        view.error_kind = row.error_kind


# Placed observations: observation id -> (its dataset's view, its axis index). Profiles and check results
# are placed through their observation id, so those big reads carry one integer instead of two strings.
# Each read is ordered by as-of time, so where several runs share an axis point the newest one's value
# stays (per kind: a metadata-only run after the daily one does not blank that point's profile).
Placed = dict[int, tuple[DatasetView, int]]


_MAX_LISTED_RUNS = 5000  # beyond this, select the runs by time in SQL instead of listing their ids


def _in_window(table: sa.Table, axis: TimeAxis, start: datetime, end: datetime) -> sa.ColumnElement[bool]:
    """Rows of the runs the axis shows, found through the table's run_id index (not a scan of all history)."""
    if len(axis.shown_runs) <= _MAX_LISTED_RUNS:
        return table.c.run_id.in_(axis.shown_runs)
    return table.c.run_id.in_(sa.select(runs.c.id).where(runs.c.as_of >= start, runs.c.as_of <= end))


def _tuples(conn: sa.Connection, query: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """All rows as the driver's plain tuples. For the few hundred thousand profile and check rows of a
    large report, building SQLAlchemy Row objects costs more than the query; these columns (ints, text,
    floats) need no result processing."""
    result = conn.execute(query)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def _apply_observation_history(
    conn: sa.Connection, views: dict[str, DatasetView], axis: TimeAxis, start: datetime, end: datetime
) -> Placed:
    query = (
        sa.select(
            observations.c.id,
            observations.c.run_id,
            observations.c.dataset,
            observations.c.status,
            observations.c.row_count,
            observations.c.freshness_lag_seconds,
        )
        .where(_in_window(observations, axis, start, end))
        .order_by(observations.c.as_of, observations.c.id)
    )
    placed: Placed = {}
    run_index = axis.run_index
    for observation_id, run_id, dataset, status, row_count, lag in _tuples(conn, query):
        view, index = views.get(dataset), run_index.get(run_id)
        if view is None or index is None:
            continue
        history = view.history
        history.statuses[index], history.rows[index], history.lags[index] = status, row_count, lag
        placed[observation_id] = (view, index)
    return placed


def _apply_null_ratios(
    conn: sa.Connection, placed: Placed, axis: TimeAxis, start: datetime, end: datetime
) -> None:
    query = (
        sa.select(profiles.c.observation_id, profiles.c.column_name, profiles.c.null_ratio)
        .where(_in_window(profiles, axis, start, end))
        .order_by(profiles.c.as_of, profiles.c.observation_id, profiles.c.id)
    )
    per_view: dict[int, tuple[DatasetView, dict[str, list[float | None]]]] = {}
    current, spot, columns = None, None, {}  # rows come grouped by observation: look each up once
    for observation_id, column, ratio in _tuples(conn, query):
        if observation_id != current:
            current, spot = observation_id, placed.get(observation_id)
            if spot is not None:
                columns = per_view.setdefault(id(spot[0]), (spot[0], {}))[1]
        if spot is None:
            continue
        series = columns.get(column)
        if series is None:
            series = columns[column] = [None] * len(axis)
        series[spot[1]] = ratio
    for view, found in per_view.values():
        view.history.null_columns = list(found)
        view.history.null_ratios = list(found.values())


def _apply_check_history(
    conn: sa.Connection, placed: Placed, axis: TimeAxis, start: datetime, end: datetime
) -> None:
    query = (
        sa.select(
            check_results.c.observation_id,
            check_results.c.name,
            check_results.c.column_name,
            check_results.c.outcome,
        )
        .where(_in_window(check_results, axis, start, end))
        .order_by(check_results.c.as_of, check_results.c.id)
    )
    per_view: dict[int, tuple[DatasetView, dict[str, tuple[str, str | None, list[str | None]]]]] = {}
    for observation_id, name, column, outcome in _tuples(conn, query):
        spot = placed.get(observation_id)
        if spot is None:
            continue
        view, index = spot
        entry = per_view.get(id(view))
        if entry is None:
            entry = per_view[id(view)] = (view, {})
        check = entry[1].get(name)
        if check is None:
            check = entry[1][name] = (name, column, [None] * len(axis))
        check[2][index] = outcome
    for view, checks in per_view.values():
        view.history.checks = list(checks.values())


def _apply_latest_checks(conn: sa.Connection, views: dict[str, DatasetView], end: datetime) -> None:
    """Each dataset's newest set of check results (a metadata-only run after it does not hide them)."""
    newest = (
        sa.select(
            check_results.c.dataset, sa.func.max(check_results.c.observation_id).label("observation_id")
        )
        .where(check_results.c.as_of <= end)
        .group_by(check_results.c.dataset)
        .subquery()
    )
    query = (
        sa.select(
            check_results.c.dataset,
            check_results.c.name,
            check_results.c.check_type,
            check_results.c.column_name,
            check_results.c.outcome,
            check_results.c.observed_value,
            check_results.c.threshold,
            check_results.c.message,
            check_results.c.details,
        )
        .join(
            newest,
            sa.and_(
                check_results.c.dataset == newest.c.dataset,  # lets the dataset index narrow it
                check_results.c.observation_id == newest.c.observation_id,
            ),
        )
        .order_by(check_results.c.id)
    )
    for row in conn.execute(query):
        view = views.get(row.dataset)
        if view is not None:
            view.checks.append(_check_detail(row, view.config.share_samples))


def _check_detail(row: Any, share_samples: bool) -> CheckDetail:
    details = row.details if isinstance(row.details, dict) else {}
    samples = details.get("sample_rows")
    samples = [s for s in samples if isinstance(s, dict)] if isinstance(samples, list) else []
    columns: list[str] = []
    for sample in samples:
        columns.extend(str(k) for k in sample if str(k) not in columns)
    columns = columns[:SAMPLE_COLUMNS_SHOWN]
    shown = None
    if share_samples and samples:
        shown = [[_sample_value(sample.get(c)) for c in columns] for sample in samples[:SAMPLE_ROWS_SHOWN]]
    failing = details.get("failed_rows_count")
    if not isinstance(failing, int) or isinstance(
        failing, bool
    ):  # the observed value counts rows only for these
        counts_rows = row.check_type in ROW_COUNTING_CHECKS and row.observed_value is not None
        failing = int(row.observed_value) if row.outcome in FAILING and counts_rows else None
    return CheckDetail(
        name=row.name,
        check_type=row.check_type,
        column=row.column_name,
        outcome=row.outcome,
        observed_value=row.observed_value,
        threshold=row.threshold,
        message=redact(row.message or ""),
        failing_rows=failing,
        sample_columns=columns,
        sample_rows=shown,
    )


def _sample_value(value: Any) -> str:
    text = "NULL" if value is None else redact(value)
    return text if len(text) <= SAMPLE_VALUE_CHARS else text[:SAMPLE_VALUE_CHARS] + "…"


def _apply_schema_log(conn: sa.Connection, views: dict[str, DatasetView], end: datetime) -> None:
    query = (
        sa.select(
            schema_snapshots.c.dataset,
            schema_snapshots.c.as_of,
            schema_snapshots.c.columns,
            schema_snapshots.c.accepted,
        )
        .where(schema_snapshots.c.as_of <= end)
        .order_by(schema_snapshots.c.dataset, schema_snapshots.c.as_of, schema_snapshots.c.id)
    )
    grouped: dict[str, list[tuple[datetime, list[dict[str, Any]], bool]]] = defaultdict(list)
    for dataset, at, columns, accepted in conn.execute(query):
        if dataset in views:
            grouped[dataset].append(
                (as_utc(at) or end, columns if isinstance(columns, list) else [], bool(accepted))
            )
    for dataset, snapshots in grouped.items():
        if len(snapshots) > 1:
            views[dataset].schema_changes = diff_snapshots(snapshots)


# --- findings and incidents -----------------------------------------------------------------------


def _apply_findings(
    conn: sa.Connection,
    views: dict[str, DatasetView],
    axis: TimeAxis,
    start: datetime,
    end: datetime,
    evaluation: RunEvaluation | None,
    current_run: str | None,
) -> None:
    """Current findings per dataset (this run's evaluation, else the stored findings of its latest run),
    and the row-count anomalies to mark on its history."""
    latest_run: dict[str, str] = {}
    query = (
        sa.select(
            findings.c.run_id,
            findings.c.dataset,
            findings.c.kind,
            findings.c.subject,
            findings.c.severity,
            findings.c.message,
            findings.c.details,
        )
        .where(findings.c.dataset.in_(list(views)), findings.c.as_of >= start, findings.c.as_of <= end)
        .order_by(findings.c.id)
    )  # dataset first: served by ix_findings_dataset_as_of, not a table scan
    stored: dict[str, list[tuple[str, FindingView]]] = defaultdict(list)
    for row in conn.execute(query):
        view = views.get(row.dataset)
        if view is None:
            continue
        details = row.details if isinstance(row.details, dict) else {}
        _mark_anomaly(view.history, axis.index(row.run_id), row.kind, row.subject or "", details)
        finding = FindingView(
            dataset=row.dataset,
            kind=row.kind,
            subject=row.subject or "",
            severity=row.severity,
            title=redact(details.get("title") or row.message),
            message=redact(row.message),
            observed=_text(details.get("observed")),
            expected=_text(details.get("expected")),
        )
        stored[row.dataset].append((row.run_id, finding))
        latest_run[row.dataset] = row.run_id
    evaluated = set(evaluation.statuses) if evaluation else set()
    for name, view in views.items():
        if name in evaluated:
            continue
        run_id = latest_run.get(name)
        view.findings = [f for r, f in stored.get(name, []) if r == run_id]
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


def _read_incidents(
    conn: sa.Connection, start: datetime, end: datetime, datasets: set[str], evaluation: RunEvaluation | None
) -> tuple[list[Incident], dict[int, tuple[tuple[datetime, str], ...]]]:
    """Incidents open now or active during the window, and their events; the run's own open incidents
    are added when the store does not have them yet."""
    active = sa.and_(
        incidents.c.opened_at <= end,
        sa.or_(incidents.c.status != "resolved", incidents.c.resolved_at >= start),
    )
    events: dict[int, list[tuple[datetime, str]]] = defaultdict(list)
    event_query = (
        sa.select(incident_events.c.incident_id, incident_events.c.at, incident_events.c.event)
        .join(incidents, incidents.c.id == incident_events.c.incident_id)
        .where(active)
        .order_by(incident_events.c.at, incident_events.c.id)
    )
    for incident_id, at, event in conn.execute(event_query):
        events[incident_id].append((as_utc(at) or end, event))
    found: dict[int, Incident] = {}
    for row in conn.execute(sa.select(incidents).where(active).order_by(incidents.c.opened_at)).mappings():
        if row["dataset"] not in datasets:
            continue
        opened = as_utc(row["opened_at"]) or end
        status = row["status"] if row["status"] in IncidentStatus._value2member_map_ else IncidentStatus.OPEN
        found[row["id"]] = Incident(
            id=row["id"],
            fingerprint=row["fingerprint"],
            dataset=row["dataset"],
            kind=row["kind"],
            subject=row["subject"] or "",
            severity=row["severity"],
            status=IncidentStatus(status),
            title=redact(row["title"]),
            message=redact(row["message"] or ""),
            opened_at=opened,
            updated_at=as_utc(row["updated_at"]) or opened,
            last_seen_at=as_utc(row["last_seen_at"]) or opened,
            resolved_at=as_utc(row["resolved_at"]),
            occurrences=row["occurrences"] or 1,
            quiet_until=as_utc(row["quiet_until"]),
            acknowledged_by=row["acknowledged_by"],
            details=row["details"] if isinstance(row["details"], dict) else {},
        )
    for incident in evaluation.open_incidents if evaluation else ():
        if incident.id not in found and incident.dataset in datasets:
            found[incident.id] = replace(
                incident,
                title=redact(incident.title),
                message=redact(incident.message),
                opened_at=as_utc(incident.opened_at) or end,
            )
    ordered = sorted(found.values(), key=lambda i: (i.opened_at, i.id))
    return ordered, {i: tuple(e) for i, e in events.items() if i in found}


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
        elif view.status == UNKNOWN:
            view.score = None
        elif open_by_dataset.get(name) and view.status != Status.ERROR.value:
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
    counts = [dict.fromkeys(STATUS_NAMES[:-1], 0) for _ in range(size)]
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


def _text(value: Any) -> str | None:
    return None if value is None else redact(value)


def routing_severity(view: DatasetView, incidents_: Iterable[Incident] = ()) -> str:
    """The severity to route a dataset's report lines by: its worst open incident or finding."""
    severities = [i.severity for i in incidents_ if i.dataset == view.name and i.is_open]
    severities += [f.severity for f in view.findings]
    if view.status in (Status.FAIL.value, Status.ERROR.value):
        severities.append("error")
    return max(severities, key=lambda s: SEVERITY_RANK.get(s, 0), default="warn")
