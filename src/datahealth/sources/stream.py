"""Streams as datasets: a Kafka topic, Kinesis stream or RabbitMQ queue and the consumer that drains it.

A stream dataset is observed like a table (describe, then measure), but what is measured is the
consumer's position against the stream's ends: messages waiting, the age of the oldest one, the newest
message's time and the cumulative counters the rules turn into rates. All of it is read through the
platform's engine (`engines/streams/`), which never consumes or commits for the user's consumers. The
reading goes into the observation's `details["stream"]`, where rules, metrics and the report find it.
Streams have no rows or columns to profile or check: the run skips those stages for them.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from datahealth.config.models import DatasetConfig, StreamSourceConfig
from datahealth.core.errors import DatasetError
from datahealth.core.results import ErrorKind, TableMeta
from datahealth.engines.base import SqlEngine
from datahealth.engines.streams import StreamEngine, TopicMeta, open_engine
from datahealth.sources.base import Measurement

STREAM_KIND = "stream"
"""`TableMeta.kind` of every stream dataset: the run observes it but neither profiles nor checks it."""

DEFAULT_LOOKBACK = timedelta(hours=1)


def lookback(dataset: DatasetConfig) -> timedelta:
    """How far back to look for the newest message where a platform must search for it: the silent_after
    limit (so "silent" is decided exactly), otherwise an hour."""
    silent = dataset.sla.silent_after if dataset.sla else None
    levels = [v for v in (silent.warn, silent.error) if v is not None] if silent else []
    return max(levels) if levels else DEFAULT_LOOKBACK


class StreamSource:
    """A stream source: one engine (one admin connection) shared by its datasets, one call at a time."""

    def __init__(self, name: str, config: StreamSourceConfig, project_root: Path) -> None:
        self.name = name
        self.config = config
        self.dialect: str = config.kind
        self.project_root = project_root
        self._engine: StreamEngine | None = None
        self._lock = threading.Lock()

    @property
    def engine(self) -> StreamEngine:
        if self._engine is None:
            self._engine = open_engine(self.name, self.config, self.project_root)
        return self._engine

    @property
    def backend(self) -> SqlEngine:
        """Streams have no SQL engine: nothing profiles or checks them (the run skips those stages)."""
        raise DatasetError(
            f"{self.name} is a {self.config.kind} source: it has no SQL to run", ErrorKind.CONFIG
        )

    def describe(self, datasets: Sequence[DatasetConfig]) -> dict[str, TableMeta | DatasetError]:
        with self._lock:
            try:
                found = self.engine.describe(datasets)
            except DatasetError as exc:
                return {d.name: exc for d in datasets}
        return {name: _table_meta(self.config.kind, meta) for name, meta in found.items()}

    def measure(self, dataset: DatasetConfig, meta: TableMeta, as_of: datetime) -> Measurement:
        with self._lock:
            reading = self.engine.read(dataset, as_of, lookback(dataset).total_seconds())
        return Measurement(
            row_count=None,
            row_count_method=None,
            last_updated=reading.newest_message_at,
            last_updated_method="newest_message" if reading.newest_message_at else None,
            queries=reading.requests,
            details={"stream": reading.to_details(as_of)},
        )

    def count_window(self, dataset: DatasetConfig, start: datetime, end: datetime) -> int:
        """Messages produced in [start, end): the stream side of a reconciliation."""
        if not self.engine.capabilities.window_counts:
            raise DatasetError(
                f"{self.engine.title} cannot count the messages of a past window", ErrorKind.CONFIG
            )
        with self._lock:
            return self.engine.count_window(dataset, start, end)

    def close(self) -> None:
        with self._lock:
            if self._engine is not None:
                self._engine.close()
                self._engine = None


def _table_meta(kind: str, meta: TopicMeta | DatasetError) -> TableMeta | DatasetError:
    if isinstance(meta, DatasetError):
        return meta
    return TableMeta((), None, STREAM_KIND, {"platform": kind, **meta.details})
