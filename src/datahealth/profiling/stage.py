"""The run's profile stage: is a profile due for this dataset, and turning its outcome into the result.

Kept out of `runner.py` so the runner stays a list of stages: this module decides `every: daily`
against the history store, and records a failure on the result instead of raising it. A timeout also
turns the dataset's observation into an error observation, because a profile that cannot finish is a
problem someone has to act on (a slow or overloaded source), not a detail.

When a SQL dataset is profiled over its whole table, observing rides on the profile's statement
(`observe_by_profile`): one scan gives the row count, `max(timestamp_column)` and every column's stats.
"""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime, timedelta

from datahealth.config.models import DatasetConfig
from datahealth.core.redaction import redact
from datahealth.core.results import DatasetResult, ErrorKind, TableMeta
from datahealth.profiling.profiler import fusable, profile_and_measure, profile_dataset
from datahealth.sources.base import DatasetError, Source
from datahealth.sources.observe import observation_from, observe_dataset
from datahealth.sources.sql import SqlSource
from datahealth.store import HistoryStore, read


def profile_due(dataset: DatasetConfig, store: HistoryStore, as_of: datetime) -> bool:
    """`every: run` → always; `every: daily` → unless a profile exists for the same UTC day as `as_of`."""
    if not dataset.profile.enabled:
        return False
    if dataset.profile.every == "run":
        return True
    moment = as_of.astimezone(UTC) if as_of.tzinfo else as_of.replace(tzinfo=UTC)
    day_start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return not read.profiled_between(store, dataset.name, day_start, day_start + timedelta(days=1))


def profile_into(
    result: DatasetResult, source: Source, dataset: DatasetConfig, meta: TableMeta, as_of: datetime
) -> None:
    """Profile the dataset onto `result`; a failure lands in `result.stage_errors['profile']`."""
    try:
        result.profile = profile_dataset(source, dataset, meta, as_of, row_hint=result.observation.row_count)
    except Exception as exc:  # one dataset's profile must never take the run down
        _record_failure(result, dataset, exc)


def observe_by_profile(
    source: Source, dataset: DatasetConfig, meta: TableMeta, as_of: datetime
) -> DatasetResult | None:
    """Observe and profile in ONE scan (row count and `max(ts)` from the profile's statement).

    None when the profile cannot stand in for observing (a sample, a window, a lake: see `fusable`) or
    when the fused profile failed: the caller then observes on its own, so a dataset whose profile times
    out still gets its row count and freshness, and the profile's error is kept on the result."""
    if not isinstance(source, SqlSource) or not fusable(source, dataset, meta):
        return None
    started = time.perf_counter()
    try:
        profile, measurement = profile_and_measure(source, dataset, meta, as_of)
    except Exception as exc:  # observe separately; the profile's failure is recorded by the caller
        result = DatasetResult(observe_dataset(source, dataset, meta, as_of))
        if result.observation.ok:
            _record_failure(result, dataset, exc)
        return result
    observation = observation_from(dataset, meta, as_of, measurement, time.perf_counter() - started)
    return DatasetResult(observation, profile=profile)


def _record_failure(result: DatasetResult, dataset: DatasetConfig, exc: Exception) -> None:
    error = (
        exc
        if isinstance(exc, DatasetError)
        else DatasetError(f"profiling {dataset.name} failed: {type(exc).__name__}: {exc}", ErrorKind.INTERNAL)
    )
    message = redact(str(error).splitlines()[0] if str(error) else type(error).__name__)
    result.stage_errors["profile"] = message
    if error.kind == ErrorKind.TIMEOUT:
        result.observation = dataclasses.replace(
            result.observation, error=message, error_kind=ErrorKind.TIMEOUT
        )
