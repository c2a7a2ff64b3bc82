"""The records a run produces, from observation to check result: plain immutable data, no I/O.

Sources create `Observation`s, the profiler `Profile`s, the check runner `CheckResult`s; a
`DatasetResult` bundles them for one dataset in one run and is written to the history store once.
Times are timezone-aware UTC everywhere; naive timestamps read from engines are taken to be UTC.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """A dataset's health, worst last: the order is used to pick the worst of several.

    These words are the dataset's status only; an incident's severity is `warn` or `error`
    (`rules/findings.py`), so a report never shows "0 error" beside red `error` badges.
    `unknown`: the monitor could not observe or evaluate the dataset, or never has; unknown is not
    healthy (it was called `error` before; history written then is migrated, the old word still parses).
    """

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"

    @classmethod
    def _missing_(cls, value: object) -> Status | None:
        return cls.UNKNOWN if value == "error" else None  # run summaries stored before the rename

    @property
    def rank(self) -> int:
        return list(Status).index(self)

    @classmethod
    def worst(cls, statuses: list[Status]) -> Status:
        return max(statuses, key=lambda s: s.rank, default=cls.OK)


class ErrorKind(StrEnum):
    """Why a dataset could not be observed; lets reports group errors and operators know what to fix."""

    UNREACHABLE = "unreachable"
    MISSING = "missing"
    PERMISSION = "permission"
    CORRUPT = "corrupt"
    TIMEOUT = "timeout"
    QUERY = "query"
    CONFIG = "config"
    INTERNAL = "internal"


def as_utc(value: datetime | None) -> datetime | None:
    """Naive → UTC-aware; aware → converted to UTC."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    data_type: str
    nullable: bool | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "data_type": self.data_type, "nullable": self.nullable}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ColumnInfo:
        return cls(data["name"], data["data_type"], data.get("nullable"))


@dataclass(frozen=True)
class TableMeta:
    """What the catalog says about a table before any data is read."""

    columns: tuple[ColumnInfo, ...]
    estimated_rows: int | None = None
    kind: str = "table"
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Observation:
    """Cheap metadata about one dataset at one as-of time (or why it could not be read)."""

    dataset: str
    source: str
    as_of: datetime
    observed_at: datetime
    duration_seconds: float = 0.0
    row_count: int | None = None
    row_count_method: str | None = None
    last_updated: datetime | None = None
    last_updated_method: str | None = None
    columns: tuple[ColumnInfo, ...] = ()
    error: str | None = None
    error_kind: ErrorKind | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def freshness_lag_seconds(self) -> float | None:
        if self.last_updated is None:
            return None
        return (self.as_of - self.last_updated).total_seconds()


@dataclass(frozen=True)
class ColumnProfile:
    """Statistics of one column from the profile scan; `stats` keys are documented in docs/profiling.md."""

    column: str
    data_type: str
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Profile:
    dataset: str
    columns: tuple[ColumnProfile, ...]
    row_count: int
    duration_seconds: float = 0.0
    sampled: bool = False
    sample: str | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    distinct_method: str = "exact"
    queries: int = 1
    details: dict[str, Any] = field(default_factory=dict)


class CheckOutcome(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error"


@dataclass(frozen=True)
class CheckResult:
    """One check's verdict in our own terms (Soda's result mapped, or a check of our own)."""

    dataset: str
    name: str
    check_type: str
    outcome: CheckOutcome
    column: str | None = None
    observed_value: float | None = None
    threshold: str | None = None
    origin: str = "user"
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)


@dataclass
class DatasetResult:
    """Everything one run learned about one dataset; written to the history store in one transaction."""

    observation: Observation
    profile: Profile | None = None
    checks: list[CheckResult] = field(default_factory=list)
    stage_errors: dict[str, str] = field(default_factory=dict)

    @property
    def dataset(self) -> str:
        return self.observation.dataset

    @property
    def checks_failed(self) -> int:
        return sum(1 for c in self.checks if c.outcome in (CheckOutcome.FAIL, CheckOutcome.ERROR))


@dataclass(frozen=True)
class StoredObservation:
    """An observation as read back from history, with the status computed when it was written."""

    id: int
    run_id: str
    dataset: str
    source: str
    as_of: datetime
    status: Status
    row_count: int | None
    last_updated: datetime | None
    freshness_lag_seconds: float | None
    columns: tuple[ColumnInfo, ...]
    checks_failed: int
    error: str | None
    error_kind: str | None
    details: dict[str, Any]
    observed_at: datetime | None = None

    @property
    def reason(self) -> str | None:
        """Why the dataset errored or could not be verified: the observation's error or evaluation's reason."""
        return self.error or self.details.get("status_reason") or None
