"""Turns a source's catalog entry and measurement into one dataset's `Observation`.

The measurement comes from `Source.measure()` or, when the dataset is profiled in the same run, from
the profile's own scan (`profiling/stage.py`): then observing costs no statement of its own.
"""

from __future__ import annotations

import time
from datetime import datetime

from datahealth.config.models import DatasetConfig
from datahealth.core.redaction import redact
from datahealth.core.results import ErrorKind, Observation, TableMeta, utc_now
from datahealth.sources.base import DatasetError, Measurement, Source


def error_observation(
    dataset: DatasetConfig, as_of: datetime, error: BaseException, duration: float = 0.0
) -> Observation:
    """An observation recording why the dataset could not be observed (one line, secrets masked)."""
    kind = error.kind if isinstance(error, DatasetError) else ErrorKind.INTERNAL
    message = str(error) if isinstance(error, DatasetError) else f"{type(error).__name__}: {error}"
    return Observation(
        dataset=dataset.name,
        source=dataset.source,
        as_of=as_of,
        observed_at=utc_now(),
        duration_seconds=duration,
        error=redact(message.splitlines()[0] if message else type(error).__name__),
        error_kind=kind,
    )


def observe_dataset(
    source: Source, dataset: DatasetConfig, meta: TableMeta | DatasetError, as_of: datetime
) -> Observation:
    """Measure one dataset; any failure becomes an error observation instead of an exception."""
    started = time.perf_counter()
    if isinstance(meta, DatasetError):
        return error_observation(dataset, as_of, meta)
    try:
        measurement = source.measure(dataset, meta, as_of)
    except DatasetError as exc:
        return error_observation(dataset, as_of, exc, time.perf_counter() - started)
    return observation_from(dataset, meta, as_of, measurement, time.perf_counter() - started)


def observation_from(
    dataset: DatasetConfig, meta: TableMeta, as_of: datetime, measurement: Measurement, duration: float
) -> Observation:
    """The observation of a measurement, whether `measure()` took it or the profile's scan did."""
    details = dict(meta.details)
    if measurement.details:
        details.update(measurement.details)
    details["queries"] = measurement.queries
    if meta.kind != "table":
        details["kind"] = meta.kind
    return Observation(
        dataset=dataset.name,
        source=dataset.source,
        as_of=as_of,
        observed_at=utc_now(),
        duration_seconds=duration,
        row_count=measurement.row_count,
        row_count_method=measurement.row_count_method,
        last_updated=measurement.last_updated,
        last_updated_method=measurement.last_updated_method,
        columns=meta.columns,
        details=details,
    )
