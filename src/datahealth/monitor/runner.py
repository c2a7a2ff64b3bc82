"""One monitoring run, independent of Prefect: plan → describe → monitor each dataset → finish.

`MonitorRun` holds what a run shares (sources, per-source concurrency limits, the history store) and
exposes the steps as methods, so the Prefect flow maps them onto tasks and `run_monitor()` drives the
same steps with a thread pool for tests, benchmarks and the demo's backfill. Data problems are results,
never exceptions: every dataset ends with a `DatasetResult`, error or not.
"""

from __future__ import annotations

import contextlib
import dataclasses
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from datahealth.checks.emptiness import emptiness_check
from datahealth.checks.runner import checks_stage
from datahealth.config.models import DatasetConfig, Project
from datahealth.core.redaction import redact
from datahealth.core.results import DatasetResult, Status, TableMeta, utc_now
from datahealth.core.run import DatasetSummary, RunOptions, RunSummary
from datahealth.core.timeparse import parse_as_of
from datahealth.monitor.reconcile import reconcile_stage
from datahealth.monitor.selection import select_datasets
from datahealth.profiling.stage import observe_by_profile, profile_due, profile_into
from datahealth.publish import publish_run
from datahealth.publish.context import PublishContext
from datahealth.rules.evaluate import evaluate
from datahealth.rules.findings import RunEvaluation
from datahealth.sources import STREAM_KIND, DatasetError, open_source
from datahealth.sources.base import Source
from datahealth.sources.observe import error_observation, observe_dataset
from datahealth.store import HistoryStore, HistoryStoreError, liveness
from datahealth.store.incidents import record_evaluation
from datahealth.store.queries import load_history
from datahealth.store.repository import ResultToRecord

ProgressListener = Callable[[DatasetResult], None]
_listeners: list[ProgressListener] = []


def add_progress_listener(listener: ProgressListener) -> None:
    """Called with each finished dataset result (the CLI's progress bar listens here)."""
    _listeners.append(listener)


def remove_progress_listener(listener: ProgressListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


class MonitorRun:
    """The shared state of one run. Thread-safe: dataset steps run concurrently."""

    def __init__(
        self,
        project: Project,
        datasets: Sequence[DatasetConfig],
        as_of: datetime,
        *,
        store: HistoryStore | None = None,
        options: RunOptions = RunOptions(),
        tier: str | None = None,
        flow_run_id: str | None = None,
        run_id: str | None = None,
    ) -> None:
        self.project = project
        self.datasets = list(datasets)
        self.as_of = as_of
        self.options = options
        self.tier = tier
        self.started_at = utc_now()
        self._started = time.perf_counter()
        self._owns_store = store is None
        self.store = store or HistoryStore.open(project.config.history.url, project.root)
        # a run that died left its row `running` and maybe a claimed delivery: say so, once, and mark it
        self.warnings: list[str] = (
            [] if run_id else [r.describe() for r in liveness.mark_interrupted(self.store)]
        )
        # `run_id` attaches to a run another process started (a Dask worker monitoring its datasets)
        self.run_id = run_id or self.store.start_run(
            as_of,
            tier=tier,
            selection=[d.name for d in self.datasets],
            flow_run_id=flow_run_id,
            datasets_total=len(self.datasets),
            owner=liveness.owner(),
        )
        self._sources: dict[str, Source] = {}
        self._limits: dict[str, threading.BoundedSemaphore] = {}
        self._lock = threading.Lock()
        self.flow_run_url: str | None = None
        self.evaluation: RunEvaluation | None = None
        self.artifacts: dict[str, str] = {}  # what publishers produced, e.g. {"report": path or URL}

    @classmethod
    def plan(
        cls,
        project: Project,
        patterns: Sequence[str] | None = None,
        tier: str | None = None,
        as_of: str | datetime | None = None,
        **kwargs: Any,
    ) -> MonitorRun:
        return cls(project, select_datasets(project, patterns, tier), parse_as_of(as_of), tier=tier, **kwargs)

    # sources ------------------------------------------------------------------------------------

    def source(self, name: str) -> Source:
        with self._lock:
            if name not in self._sources:
                self._sources[name] = open_source(name, self.project.config.sources[name], self.project.root)
                self._limits[name] = threading.BoundedSemaphore(
                    self.project.config.sources[name].max_concurrency
                )
            return self._sources[name]

    def limit(self, source_name: str) -> threading.BoundedSemaphore:
        self.source(source_name)
        return self._limits[source_name]

    def by_source(self) -> dict[str, list[DatasetConfig]]:
        grouped: dict[str, list[DatasetConfig]] = defaultdict(list)
        for dataset in self.datasets:
            grouped[dataset.source].append(dataset)
        return dict(grouped)

    # steps --------------------------------------------------------------------------------------

    def describe(
        self, source_name: str, datasets: Sequence[DatasetConfig]
    ) -> dict[str, TableMeta | DatasetError]:
        """Catalog metadata for all of a source's datasets in this run (batched per schema)."""
        try:
            source = self.source(source_name)
            with self.limit(source_name):
                return source.describe(datasets)
        except DatasetError as exc:
            return {d.name: exc for d in datasets}
        except Exception as exc:  # a driver bug must not take the run down
            error = DatasetError(f"describing {source_name} failed: {type(exc).__name__}: {exc}")
            return {d.name: error for d in datasets}

    def monitor(self, dataset: DatasetConfig, meta: TableMeta | DatasetError) -> DatasetResult:
        """Observe one dataset, then profile and check it when the run asks for it."""
        try:
            source = self.source(dataset.source)
            profiling = self._profile_due(dataset, meta)
            with self.limit(dataset.source):
                fused = (
                    observe_by_profile(source, dataset, meta, self.as_of)
                    if profiling and isinstance(meta, TableMeta)
                    else None
                )
                result = fused or DatasetResult(observe_dataset(source, dataset, meta, self.as_of))
            if result.observation.ok and isinstance(meta, TableMeta) and meta.kind != STREAM_KIND:
                # streams have no rows to profile or check; a fused result was profiled already
                self._run_stages(source, dataset, meta, result, profile=profiling and fused is None)
        except Exception as exc:  # contain anything unexpected to this dataset
            result = DatasetResult(error_observation(dataset, self.as_of, exc))
        for listener in list(_listeners):
            listener(result)
        return result

    def _profile_due(self, dataset: DatasetConfig, meta: TableMeta | DatasetError) -> bool:
        """Whether this run profiles the dataset (then observing may ride on the profile's scan)."""
        return (
            self.options.profile
            and isinstance(meta, TableMeta)
            and meta.kind != STREAM_KIND
            and profile_due(dataset, self.store, self.as_of)
        )

    def _run_stages(
        self, source: Source, dataset: DatasetConfig, meta: TableMeta, result: DatasetResult, *, profile: bool
    ) -> None:
        """Profile and check stages; each stage's failure is recorded on the result, not raised."""
        # --- profile stage (issue 3) ---
        if profile:
            with self.limit(dataset.source):
                profile_into(result, source, dataset, meta, self.as_of)
        # --- checks stage (issue 4) ---
        if self.options.checks:
            with self.limit(
                dataset.source
            ):  # one Soda scan per dataset, within the source's concurrency limit
                checks_stage(self.project, dataset, source, meta, self.as_of, self.store, result)
        if self.options.checks and dataset.reconcile:  # did every event arrive? (monitor/reconcile.py)
            reconcile_stage(self.project, dataset, self.as_of, result, self.source, self.limit)
        if self.options.checks or result.profile is not None:  # an empty table or window is a finding
            emptiness = emptiness_check(dataset, result, checks_ran=self.options.checks)
            if emptiness is not None:
                result.checks.append(emptiness)

    def failed_result(self, dataset: DatasetConfig, error: BaseException) -> DatasetResult:
        """The result for a dataset whose task died outside `monitor` (timeout, cancelled worker)."""
        return DatasetResult(error_observation(dataset, self.as_of, error))

    def finish(self, results: Sequence[DatasetResult]) -> RunSummary:
        """Evaluate, store every result once, record incident changes, then publish; returns the summary."""
        evaluation = self.evaluate(results)
        for result in results:
            _note_expected_rows(result, evaluation)
        self.store.record_dataset_results(
            self.run_id,
            [
                ResultToRecord(
                    result, evaluation.statuses[result.dataset], evaluation.reasons.get(result.dataset)
                )
                for result in results
            ],
        )
        evaluation = record_evaluation(self.store, self.run_id, self.as_of, evaluation)  # fills incident ids
        summary = self._summary(results, evaluation)
        if self.options.publish:
            context = PublishContext(
                project=self.project,
                store=self.store,
                run_id=self.run_id,
                as_of=self.as_of,
                datasets=self.datasets,
                results=results,
                evaluation=evaluation,
                summary=summary,
                options=self.options,
                flow_run_url=self.flow_run_url,
            )
            summary.warnings.extend(publish_run(context))
            self.artifacts = dict(context.artifacts)
        self.store.finish_run(
            self.run_id,
            status="completed",
            datasets_failed=len(summary.errored),
            duration_seconds=summary.duration_seconds,
            health_score=summary.health_score,
            summary={"counts": summary.counts, "warnings": summary.warnings},
        )
        try:  # history retention: a real prune at most once a day (HistoryStore.prune_expired)
            self.store.prune_expired(self.project.config.history.retention_days, self.as_of)
        except HistoryStoreError as exc:  # the run is recorded; pruning can wait for the next one
            summary.warnings.append(f"history retention: {exc}")
        self.evaluation = evaluation
        return summary

    def evaluate(self, results: Sequence[DatasetResult]) -> RunEvaluation:
        """Statuses, findings and incident changes for this run's results (reads history once, then pure)."""
        history = load_history(self.store, self.datasets, self.as_of)
        return evaluate(self.datasets, results, history, as_of=self.as_of, checks_ran=self.options.checks)

    def _summary(self, results: Sequence[DatasetResult], evaluation: RunEvaluation) -> RunSummary:
        """The run's summary; statuses and the health score are evaluation's (from open incidents)."""
        statuses = evaluation.statuses
        datasets = []
        for result in sorted(results, key=lambda r: r.dataset):
            obs = result.observation
            datasets.append(
                DatasetSummary(
                    dataset=obs.dataset,
                    status=statuses[obs.dataset].value,
                    rows=obs.row_count,
                    last_updated=obs.last_updated.isoformat() if obs.last_updated else None,
                    freshness_lag_seconds=obs.freshness_lag_seconds,
                    checks_failed=result.checks_failed,
                    error=obs.error or evaluation.reasons.get(obs.dataset),
                    error_kind=obs.error_kind.value if obs.error_kind else None,
                )
            )
        counts = {s.value: 0 for s in Status}
        for status in statuses.values():
            counts[status.value] += 1
        return RunSummary(
            run_id=self.run_id,
            as_of=self.as_of.isoformat(),
            started_at=self.started_at.isoformat(),
            duration_seconds=round(time.perf_counter() - self._started, 3),
            health_score=evaluation.health_score,
            counts=counts,
            datasets=datasets,
            warnings=list(self.warnings),
        )

    def fail(self, exc: BaseException) -> None:
        """Record that the run stopped on an error of the monitor itself, so no row stays `running`."""
        reason = redact(f"{type(exc).__name__}: {exc}".splitlines()[0])
        with contextlib.suppress(Exception):  # the store itself may be what failed
            self.store.finish_run(
                self.run_id,
                status="failed",
                datasets_failed=0,
                duration_seconds=time.perf_counter() - self._started,
                summary={"error": reason},
            )

    def close(self) -> None:
        with self._lock:
            for source in self._sources.values():
                source.close()
            self._sources.clear()
        if self._owns_store:
            self.store.close()


def run_monitor(
    project: Project,
    patterns: Sequence[str] | None = None,
    *,
    tier: str | None = None,
    as_of: str | datetime | None = None,
    options: RunOptions = RunOptions(),
    store: HistoryStore | None = None,
    max_workers: int = 8,
) -> RunSummary:
    """Run every step in this process with a thread pool (no Prefect): tests, benchmarks, the demo backfill."""
    run = MonitorRun.plan(project, patterns, tier, as_of, options=options, store=store)
    try:
        with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="datahealth") as pool:
            grouped = run.by_source()
            catalogs = dict(
                zip(grouped, pool.map(lambda item: run.describe(*item), grouped.items()), strict=True)
            )
            results = list(pool.map(lambda d: run.monitor(d, catalogs[d.source][d.name]), run.datasets))
        return run.finish(results)
    except Exception as exc:
        run.fail(exc)
        raise
    finally:
        run.close()


def _note_expected_rows(result: DatasetResult, evaluation: RunEvaluation) -> None:
    """Keep the volume detector's expected range with the observation, so the report's row-count band is
    the range the detector judged each run against (not one the page would have to recompute)."""
    expected = evaluation.expected_rows.get(result.dataset)
    if expected is not None:
        details = {**result.observation.details, "expected_rows": [round(v, 3) for v in expected]}
        result.observation = dataclasses.replace(result.observation, details=details)
