"""A profile's time limit: which one applies, and the error a profile that exceeded it becomes.

A profile is the one query datahealth sends that reads every row, so it is the one that must never run
away on a busy warehouse. The engine enforces the limit (`SqlEngine.time_limit`: PostgreSQL's
transaction-local `statement_timeout`, a watchdog interrupting DuckDB and SQLite); the query then fails
and the profile becomes a timeout error for that dataset.
"""

from __future__ import annotations

from datahealth.config.models import DatasetConfig
from datahealth.core.durations import format_duration
from datahealth.core.errors import DatasetError
from datahealth.core.results import ErrorKind


def timeout_seconds(dataset: DatasetConfig, source_default: float | None) -> float | None:
    """The dataset's `profile.timeout`, else its source's `statement_timeout`."""
    if dataset.profile.timeout is not None:
        return dataset.profile.timeout.total_seconds()
    return source_default


def timeout_error(dataset: DatasetConfig, seconds: float | None) -> DatasetError:
    if not seconds:
        limit = "its time limit"
    else:
        limit = f"{seconds * 1000:.0f}ms" if seconds < 1 else format_duration(seconds)
    return DatasetError(
        f"profiling {dataset.name} timed out after {limit} (profile.timeout or the source's "
        "statement_timeout); the query was cancelled",
        ErrorKind.TIMEOUT,
    )
