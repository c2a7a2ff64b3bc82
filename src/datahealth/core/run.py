"""Run-level types: what a run is asked to do (`RunOptions`) and what it returns (`RunSummary`).

They live below every package that reads them (the runner, publishers, the CLI, Prefect tasks), so none
of those has to import the runner to name them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from datahealth.core.results import Status


@dataclass(frozen=True)
class RunOptions:
    """What a run does besides observing: stages can be switched off per tier or per call."""

    profile: bool = True
    checks: bool = True
    publish: bool = True
    report: bool = False
    email: bool = False


@dataclass
class DatasetSummary:
    dataset: str
    status: str
    rows: int | None
    last_updated: str | None
    freshness_lag_seconds: float | None
    checks_failed: int
    error: str | None
    error_kind: str | None = None


@dataclass
class RunSummary:
    """What a run returns (and the flow's return value): JSON-serialisable."""

    run_id: str
    as_of: str
    started_at: str
    duration_seconds: float
    health_score: float
    counts: dict[str, int]
    datasets: list[DatasetSummary]
    warnings: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def errored(self) -> list[DatasetSummary]:
        return [d for d in self.datasets if d.status == Status.UNKNOWN.value]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunSummary:
        fields = dict(data)
        fields["datasets"] = [DatasetSummary(**d) for d in data.get("datasets", [])]
        return cls(**fields)
