"""The metric set: what Prometheus sees of datahealth, built from one `MetricsState`.

Every way out (the Pushgateway and the textfile at the end of a run, `serve-metrics` on each scrape)
turns the same state into the same families, so a dashboard panel or an alert rule never depends on
which way a user chose. Conventions (docs/metrics.md): base units, timestamps rather than ages (a dead
monitor's data keeps getting older in PromQL), labels `source`, `dataset`, `check`, `severity` only
(plus `column` on the opt-in null-ratio metric), every value bounded by the project's config.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from datahealth.core.results import CheckOutcome, Status
from datahealth.rules.status import HEALTH_SCORE_DEFINITION, RUN_SCORE_DEFINITION

PREFIX = "datahealth_"
STATUS_VALUE = {Status.OK: 0, Status.WARN: 1, Status.FAIL: 2, Status.UNKNOWN: 3}
CHECK_VALUE = {CheckOutcome.PASS: 0, CheckOutcome.WARN: 1, CheckOutcome.FAIL: 2, CheckOutcome.ERROR: 3}
SEVERITIES = ("warn", "error")

DATASET_LABELS = ("source", "dataset")


@dataclass(frozen=True)
class MetricSpec:
    """One metric family: its name, help text and labels (docs/metrics.md documents each)."""

    name: str
    help: str
    labels: tuple[str, ...] = ()


LAST_UPDATED = MetricSpec(
    "datahealth_dataset_last_updated_timestamp_seconds",
    "Unix time of the newest data in the dataset (newest known when the last observation failed).",
    DATASET_LABELS,
)
LAST_OBSERVED = MetricSpec(
    "datahealth_dataset_last_observed_timestamp_seconds",
    "Unix time the monitor last observed the dataset (successfully or not).",
    DATASET_LABELS,
)
FRESHNESS_SLA = MetricSpec(
    "datahealth_freshness_sla_seconds",
    "Freshness SLA: age of the newest data after which the dataset is warn or error.",
    (*DATASET_LABELS, "severity"),
)
ROWS = MetricSpec("datahealth_dataset_rows", "Rows in the dataset at its latest observation.", DATASET_LABELS)
DATASET_STATUS = MetricSpec(
    "datahealth_dataset_status",
    "Dataset status at its latest observation: 0 ok, 1 warn, 2 fail, 3 unknown (could not be observed or evaluated).",
    DATASET_LABELS,
)
HEALTH_SCORE = MetricSpec(
    "datahealth_dataset_health_score",
    f"Dataset health score, 0-100: {HEALTH_SCORE_DEFINITION}.",
    DATASET_LABELS,
)
SCHEMA_CHANGES = MetricSpec(
    "datahealth_dataset_schema_changes", "Schema changes found in the dataset's latest run.", DATASET_LABELS
)
CHECK_STATUS = MetricSpec(
    "datahealth_check_status",
    "Latest outcome of a check: 0 pass, 1 warn, 2 fail, 3 error; severity is what a failure means.",
    (*DATASET_LABELS, "check", "severity"),
)
INCIDENTS_OPEN = MetricSpec(
    "datahealth_incidents_open",
    "Open (unresolved, including acknowledged and snoozed) incidents.",
    (*DATASET_LABELS, "severity"),
)
NULL_RATIO = MetricSpec(
    "datahealth_column_null_ratio",
    "Share of NULLs in a column at its latest profile (opt-in: publish.prometheus.column_metrics).",
    (*DATASET_LABELS, "column"),
)
STREAM_LAG_SECONDS = MetricSpec(
    "datahealth_stream_lag_seconds",
    "Streams: age of the oldest message the consumer has not processed (0 when caught up).",
    DATASET_LABELS,
)
STREAM_LAG_MESSAGES = MetricSpec(
    "datahealth_stream_lag_messages",
    "Streams: messages produced but not yet processed by the consumer, all partitions.",
    DATASET_LABELS,
)
RUN_DURATION = MetricSpec("datahealth_run_duration_seconds", "Wall time of the latest monitoring run.")
RUN_FINISHED = MetricSpec(
    "datahealth_run_finished_timestamp_seconds",
    "Unix time the latest monitoring run finished, successful or not.",
)
RUN_LAST_SUCCESS = MetricSpec(
    "datahealth_run_last_success_timestamp_seconds",
    "Unix time the latest successful monitoring run finished.",
)
RUN_OBSERVED = MetricSpec("datahealth_run_datasets_observed", "Datasets the latest monitoring run looked at.")
RUN_FAILED = MetricSpec(
    "datahealth_run_datasets_failed",
    "Datasets the latest monitoring run could not observe or check (status unknown).",
)
RUN_HEALTH = MetricSpec(
    "datahealth_run_health_score",
    f"Health score of the latest monitoring run, 0-100: {RUN_SCORE_DEFINITION}.",
)
STALE_AFTER = MetricSpec(
    "datahealth_run_stale_after_seconds",
    "Age of the last successful run after which the monitor itself counts as stale.",
)

ALL_METRICS = (
    LAST_UPDATED,
    LAST_OBSERVED,
    FRESHNESS_SLA,
    ROWS,
    DATASET_STATUS,
    HEALTH_SCORE,
    SCHEMA_CHANGES,
    CHECK_STATUS,
    INCIDENTS_OPEN,
    NULL_RATIO,
    STREAM_LAG_SECONDS,
    STREAM_LAG_MESSAGES,
    RUN_DURATION,
    RUN_FINISHED,
    RUN_LAST_SUCCESS,
    RUN_OBSERVED,
    RUN_FAILED,
    RUN_HEALTH,
    STALE_AFTER,
)


@dataclass(frozen=True)
class DatasetState:
    """What the metrics say about one configured dataset (None: not known yet)."""

    dataset: str
    source: str
    severity: str
    sla_seconds: dict[str, float] = field(default_factory=dict)
    status: Status | None = None
    score: float | None = None
    rows: int | None = None
    last_updated: datetime | None = None
    last_observed: datetime | None = None
    schema_changes: int = 0
    checks: dict[str, CheckOutcome] = field(default_factory=dict)
    null_ratios: dict[str, float] = field(default_factory=dict)
    incidents_open: dict[str, int] = field(default_factory=dict)
    stream_lag_seconds: float | None = None
    stream_lag_messages: int | None = None


@dataclass(frozen=True)
class RunState:
    """The latest run, and when the monitor last succeeded (it may be an earlier run)."""

    finished_at: datetime
    duration_seconds: float
    datasets_observed: int
    datasets_failed: int
    health_score: float | None
    last_success_at: datetime | None

    @property
    def succeeded(self) -> bool:
        return run_succeeded(self.datasets_observed, self.datasets_failed)


@dataclass(frozen=True)
class MetricsState:
    datasets: list[DatasetState]
    run: RunState | None
    stale_after_seconds: float
    column_metrics: bool = False


def run_succeeded(datasets_observed: int, datasets_failed: int) -> bool:
    """A run fails when it could observe none of its datasets: then the monitor, not the data, is broken."""
    return datasets_observed == 0 or datasets_failed < datasets_observed


def metric_families(state: MetricsState, *, last_success: bool = True) -> list[Metric]:
    """Every family for `state`; `last_success=False` leaves that family out (see `prometheus.push_metrics`)."""
    families = {
        spec.name: GaugeMetricFamily(spec.name, spec.help, labels=list(spec.labels)) for spec in ALL_METRICS
    }

    def add(spec: MetricSpec, labels: Iterable[str], value: float | None) -> None:
        if value is not None:
            families[spec.name].add_metric(list(labels), float(value))

    for ds in sorted(state.datasets, key=lambda d: d.dataset):
        key = (ds.source, ds.dataset)
        add(LAST_UPDATED, key, _timestamp(ds.last_updated))
        add(LAST_OBSERVED, key, _timestamp(ds.last_observed))
        for severity in SEVERITIES:
            add(FRESHNESS_SLA, (*key, severity), ds.sla_seconds.get(severity))
            add(INCIDENTS_OPEN, (*key, severity), ds.incidents_open.get(severity, 0))
        add(ROWS, key, ds.rows)
        add(DATASET_STATUS, key, None if ds.status is None else STATUS_VALUE[ds.status])
        add(HEALTH_SCORE, key, ds.score)
        add(SCHEMA_CHANGES, key, ds.schema_changes if ds.status is not None else None)
        for check, outcome in sorted(ds.checks.items()):
            add(CHECK_STATUS, (*key, check, ds.severity), CHECK_VALUE[outcome])
        add(STREAM_LAG_SECONDS, key, ds.stream_lag_seconds)
        add(STREAM_LAG_MESSAGES, key, ds.stream_lag_messages)
        if state.column_metrics:
            for column, ratio in sorted(ds.null_ratios.items()):
                add(NULL_RATIO, (*key, column), ratio)
    run = state.run
    if run is not None:
        add(RUN_DURATION, (), run.duration_seconds)
        add(RUN_FINISHED, (), _timestamp(run.finished_at))
        add(RUN_OBSERVED, (), run.datasets_observed)
        add(RUN_FAILED, (), run.datasets_failed)
        add(RUN_HEALTH, (), run.health_score)
        add(RUN_LAST_SUCCESS, (), _timestamp(run.last_success_at))
    add(STALE_AFTER, (), state.stale_after_seconds)
    if not last_success:
        del families[RUN_LAST_SUCCESS.name]
    if not state.column_metrics:
        del families[NULL_RATIO.name]
    return list(families.values())


class FamiliesCollector(Collector):
    """Gives a registry the families `build` returns, called on every collection (each scrape)."""

    def __init__(self, build: Callable[[], list[Metric]]) -> None:
        self._build = build

    def collect(self) -> Iterator[Metric]:
        yield from self._build()


def registry_for(build: Callable[[], list[Metric]]) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(FamiliesCollector(build))
    return registry


def _timestamp(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()
