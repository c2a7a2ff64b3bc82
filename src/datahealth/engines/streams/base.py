"""What every stream engine answers, and the shape of the answer: one `StreamReading` per topic and consumer.

A stream engine (Kafka, Kinesis, RabbitMQ) reads a platform's admin and metadata APIs; it never consumes
or commits for the user's consumers. Where an age needs a message's timestamp it reads one record with
a private reader that never joins or commits to the user's group. What each platform can answer differs
and is declared once in `StreamCapabilities`, so the rest of datahealth (config validation, rules,
metrics, docs) asks the engine rather than its name.

Ages are measured against the run's as-of time (now for a scheduled run), so a reading is a pure
function of the broker's answers and that time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from datahealth.config.models import DatasetConfig
from datahealth.core.errors import DatasetError
from datahealth.engines.errors import ErrorHints


@dataclass(frozen=True)
class StreamCapabilities:
    """What a platform can tell without consuming (docs/streams.md has the table)."""

    messages_behind: bool  # a count of messages the consumer has not processed
    oldest_unconsumed_age: bool  # the timestamp of the oldest message the consumer has not processed
    newest_message_age: bool  # when the newest message was produced (silent producers)
    consumer_groups: bool  # consumers are named groups with committed positions
    window_counts: bool  # messages produced in a past window can be counted (reconciliation)
    counters: bool  # cumulative produced/consumed counts for rates between runs


@dataclass(frozen=True)
class PartitionReading:
    """One partition (Kafka), shard (Kinesis) or the queue itself (RabbitMQ)."""

    partition: str
    end_offset: int | None = None  # next offset to be written (Kafka high watermark)
    committed: int | None = None  # the consumer's committed position (None: never committed)
    behind: int | None = None  # messages waiting for the consumer
    oldest_unconsumed_at: datetime | None = None
    newest_message_at: datetime | None = None
    millis_behind: float | None = None  # Kinesis: how far the consumer's position is from the tip

    def to_dict(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "end_offset": self.end_offset,
            "committed": self.committed,
            "behind": self.behind,
            "oldest_unconsumed_at": _iso(self.oldest_unconsumed_at),
            "newest_message_at": _iso(self.newest_message_at),
            "millis_behind": self.millis_behind,
        }


@dataclass(frozen=True)
class StreamReading:
    """Everything one observation learned about a topic and its consumer, as of one moment."""

    platform: str
    topic: str
    consumer_group: str | None
    partitions: tuple[PartitionReading, ...] = ()
    messages_behind: int | None = None
    oldest_unconsumed_at: datetime | None = None  # None with messages_behind == 0: caught up
    caught_up: bool | None = None
    newest_message_at: datetime | None = None
    quiet_since: datetime | None = None  # nothing was produced after this (when the newest time is unknown)
    produced_total: int | None = None  # cumulative messages produced (end offsets, publish counter)
    consumed_total: int | None = None  # cumulative messages consumed (committed offsets, ack counter)
    consumers: int | None = None
    consumer_state: str | None = None
    requests: int = 0
    notes: tuple[str, ...] = ()
    extra: dict[str, Any] = field(default_factory=dict)

    def lag_seconds(self, as_of: datetime) -> float | None:
        """Age of the oldest unprocessed message at `as_of`: 0 when caught up, None when unknown."""
        if self.oldest_unconsumed_at is not None:
            return max(0.0, (as_of - self.oldest_unconsumed_at).total_seconds())
        if self.caught_up:
            return 0.0
        lags = [p.millis_behind for p in self.partitions if p.millis_behind is not None]
        return max(lags) / 1000.0 if lags else None

    def to_details(self, as_of: datetime) -> dict[str, Any]:
        """The observation's `details["stream"]`: what the rules, metrics and the report read back."""
        return {
            "platform": self.platform,
            "topic": self.topic,
            "consumer_group": self.consumer_group,
            "messages_behind": self.messages_behind,
            "lag_seconds": self.lag_seconds(as_of),
            "oldest_unconsumed_at": _iso(self.oldest_unconsumed_at),
            "caught_up": self.caught_up,
            "newest_message_at": _iso(self.newest_message_at),
            "quiet_since": _iso(self.quiet_since),
            "produced_total": self.produced_total,
            "consumed_total": self.consumed_total,
            "consumers": self.consumers,
            "consumer_state": self.consumer_state,
            "partition_count": len(self.partitions),
            "partitions": [p.to_dict() for p in self.partitions[:64]],
            "requests": self.requests,
            "notes": list(self.notes),
            **self.extra,
        }


@dataclass(frozen=True)
class TopicMeta:
    """What describing a topic found: its partitions (shards) and anything worth showing."""

    partitions: int
    details: dict[str, Any] = field(default_factory=dict)


class StreamEngine(ABC):
    """One platform's reader. Each source opens one (`open`), uses it for its datasets, then closes it."""

    name: str
    title: str
    capabilities: StreamCapabilities
    error_hints: ErrorHints = {}

    @abstractmethod
    def describe(self, datasets: Sequence[DatasetConfig]) -> dict[str, TopicMeta | DatasetError]:
        """Each dataset's topic, in as few metadata requests as the platform allows."""

    @abstractmethod
    def read(self, dataset: DatasetConfig, as_of: datetime, lookback_seconds: float) -> StreamReading:
        """The consumer's position and the topic's ends; `lookback_seconds` bounds a search for the newest
        message where the platform cannot point at it (Kinesis)."""

    def count_window(self, dataset: DatasetConfig, start: datetime, end: datetime) -> int:
        """Messages produced in [start, end) (reconciliation); only where `capabilities.window_counts`."""
        raise DatasetError(f"{self.title} cannot count the messages of a past window")

    def close(self) -> None:  # noqa: B027 - engines without connections need nothing
        """Release connections."""


def from_millis(value: float | int | None) -> datetime | None:
    """Milliseconds since the epoch (Kafka timestamps) → aware UTC; None or negative → None."""
    if value is None or value < 0:
        return None
    return datetime.fromtimestamp(value / 1000.0, UTC)


def to_millis(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()
