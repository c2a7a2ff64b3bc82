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
from datahealth.sources.observe import error_observation, observation_from, observe_dataset
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


_UNREADABLE = frozenset({ErrorKind.UNREACHABLE, ErrorKind.MISSING, ErrorKind.PERMISSION, ErrorKind.CORRUPT})
"""Failures of the fused statement that say the table could not be read: they are the observation's.
A timeout is not among them: `profile.timeout` limits the profile, and the cheap observation may still
finish (the dataset is then a timeout error that keeps its row count, as without fusion)."""


def observe_by_profile(
    source: Source, dataset: DatasetConfig, meta: TableMeta, as_of: datetime
) -> DatasetResult | None:
    """Observe and profile in ONE scan (row count and `max(ts)` from the profile's statement).

    None when the profile cannot stand in for observing (a sample, a window, a lake: see `fusable`).
    When the statement fails because the table could not be read (unreachable, missing, permission,
    corrupt), the dataset gets an error observation, as a failed observation would. When the profile
    timed out or only its own computations failed, the dataset is observed on its own and the profile's
    error is kept on the result."""
    if not isinstance(source, SqlSource) or not fusable(source, dataset, meta):
        return None
    started = time.perf_counter()
    try:
        profile, measurement = profile_and_measure(source, dataset, meta, as_of)
    except Exception as exc:
        error = _dataset_error(dataset, exc)
        if error.kind in _UNREADABLE:
            return DatasetResult(error_observation(dataset, as_of, error, time.perf_counter() - started))
        result = DatasetResult(observe_dataset(source, dataset, meta, as_of))
        if result.observation.ok:
            _record_failure(result, dataset, error)
        return result
    observation = observation_from(dataset, meta, as_of, measurement, time.perf_counter() - started)
    return DatasetResult(observation, profile=profile)


def _dataset_error(dataset: DatasetConfig, exc: Exception) -> DatasetError:
    if isinstance(exc, DatasetError):
        return exc
    return DatasetError(f"profiling {dataset.name} failed: {type(exc).__name__}: {exc}", ErrorKind.INTERNAL)


def _record_failure(result: DatasetResult, dataset: DatasetConfig, exc: Exception) -> None:
    error = _dataset_error(dataset, exc)
    message = redact(str(error).splitlines()[0] if str(error) else type(error).__name__)
    result.stage_errors["profile"] = message
    if error.kind == ErrorKind.TIMEOUT:
        result.observation = dataclasses.replace(
            result.observation, error=message, error_kind=ErrorKind.TIMEOUT
        )
