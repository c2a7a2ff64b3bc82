"""Errors confined to one dataset or one source: the run records them and goes on.

They live in `core` because every layer raises them: engines (a missing database file, an unsupported
sample), sources (a missing table), the profiler and the checks.
"""

from __future__ import annotations

from datahealth.core.results import ErrorKind


class DatasetError(Exception):
    """A failure confined to one dataset (missing table, corrupt file, timeout): the run goes on."""

    def __init__(self, message: str, kind: ErrorKind = ErrorKind.QUERY) -> None:
        super().__init__(message)
        self.kind = kind


class SourceUnavailable(DatasetError):
    """The whole source cannot be reached; every dataset on it gets this error."""

    def __init__(self, message: str) -> None:
        super().__init__(message, ErrorKind.UNREACHABLE)
