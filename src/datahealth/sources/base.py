"""The contract every source implements: describe tables from the catalog, then measure each one.

Two phases keep the expensive part small. `describe()` answers for many datasets at once from
metadata (one catalog query per schema, never one per table). `measure()` then issues at most one
data query per dataset (row count and newest timestamp together), or none where metadata suffices.
Sources only read: connections are opened read-only where the driver allows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from datahealth.config.models import DatasetConfig
from datahealth.core.errors import DatasetError, SourceUnavailable
from datahealth.core.results import TableMeta
from datahealth.engines.base import SqlEngine


@dataclass(frozen=True)
class Measurement:
    row_count: int | None
    row_count_method: str | None
    last_updated: datetime | None
    last_updated_method: str | None
    queries: int = 0
    details: dict[str, Any] | None = None


class Source(Protocol):
    """A place datasets live in. Implementations: `SqlSource` (SQLAlchemy) and `LakeSource` (DuckDB over files)."""

    name: str
    dialect: str

    @property
    def backend(self) -> SqlEngine:
        """The engine whose SQL reads it (the lake's is DuckDB)."""
        ...

    def describe(self, datasets: Sequence[DatasetConfig]) -> dict[str, TableMeta | DatasetError]:
        """Catalog metadata for each dataset, keyed by dataset name; a missing table maps to a DatasetError."""
        ...

    def measure(self, dataset: DatasetConfig, meta: TableMeta, as_of: datetime) -> Measurement:
        """Row count and last-updated time with at most one query against the data."""
        ...

    def close(self) -> None: ...


__all__ = ["DatasetError", "Measurement", "Source", "SourceUnavailable"]
