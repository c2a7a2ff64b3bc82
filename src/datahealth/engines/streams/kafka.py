"""Kafka: consumer-group lag in messages and in time, from the admin API and a private reader.

What is read, per topic and consumer group (docs/streams.md):
- the partitions (one metadata request per source for all of a run's topics);
- each partition's low and high watermark (two `ListOffsets` requests per topic);
- the group's committed offsets and its state and members (`OffsetFetch`, `DescribeGroups`);
- the timestamps of two records per partition: the first one the group has not processed (the age SLAs
  are written in) and the newest one (a silent producer). A private consumer reads them by partition
  assignment: it never subscribes, never joins the user's group, never commits, and reads one record.

Messages behind = high watermark − committed offset, per partition. Counting a past window (for
`reconcile:`) asks `ListOffsets` by timestamp, checks the answer against the records on either side,
and falls back to a binary search over record timestamps where a broker answers wrongly.

`confluent-kafka` is imported when a client is created, so the command line starts fast. The wire
protocol is behind `KafkaClient`; `replay.ReplayKafkaClient` answers the same questions from a
recorded file (the demo's topic).
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from datahealth.config.models import DatasetConfig, KafkaSourceConfig
from datahealth.core.errors import DatasetError, SourceUnavailable
from datahealth.core.results import ErrorKind
from datahealth.engines.errors import ErrorHints, classify
from datahealth.engines.streams.base import (
    PartitionReading,
    StreamCapabilities,
    StreamEngine,
    StreamReading,
    TopicMeta,
    from_millis,
    to_millis,
)
from datahealth.engines.streams.replay import ReplayKafkaClient

log = logging.getLogger("datahealth.streams.kafka")
_ACTIVE_STATES = ("stable", "preparing_rebalance", "completing_rebalance")

KAFKA_HINTS: ErrorHints = {
    ErrorKind.UNREACHABLE: ("transport failure", "all brokers down", "failed to resolve", "_transport"),
    ErrorKind.MISSING: ("unknown topic", "unknown_topic"),
    ErrorKind.PERMISSION: ("authorization failed", "authentication", "sasl", "_authorization"),
}


class KafkaClient(Protocol):
    """The questions the engine asks a cluster; answered over the wire or from a recording."""

    def partitions(self, topics: Sequence[str]) -> dict[str, int | None]:
        """Partition count per topic (None: the topic does not exist)."""
        ...

    def watermarks(self, topic: str, partitions: Sequence[int]) -> dict[int, tuple[int, int]]:
        """(low, high) watermark per partition: the first retained and the next offset to be written."""
        ...

    def committed(self, group: str, topic: str, partitions: Sequence[int]) -> dict[int, int | None]:
        """The group's committed offset per partition (None: never committed)."""
        ...

    def group(self, group: str) -> tuple[str | None, int | None]:
        """The group's state and its number of members."""
        ...

    def timestamps(self, topic: str, positions: Mapping[int, int]) -> dict[int, datetime | None]:
        """The timestamp of the record at each (partition → offset), read without committing anything."""
        ...

    def offsets_for_time(self, topic: str, partitions: Sequence[int], at: datetime) -> dict[int, int]:
        """Per partition, the first offset whose timestamp is at or after `at` (the high watermark if none)."""
        ...

    @property
    def requests(self) -> int: ...

    def close(self) -> None: ...


class KafkaEngine(StreamEngine):
    name = "kafka"
    title = "Kafka"
    capabilities = StreamCapabilities(
        messages_behind=True,
        oldest_unconsumed_age=True,
        newest_message_age=True,
        consumer_groups=True,
        window_counts=True,
        counters=True,
    )
    error_hints = KAFKA_HINTS

    def __init__(self, client: KafkaClient, source_name: str) -> None:
        self.client = client
        self.source_name = source_name
        self._partitions: dict[str, int] = {}

    def _context(self, action: str) -> str:
        return f"{action} on Kafka source {self.source_name}"

    def describe(self, datasets: Sequence[DatasetConfig]) -> dict[str, TopicMeta | DatasetError]:
        topics = sorted({d.topic_name for d in datasets})
        try:
            counts = self.client.partitions(topics)
        except DatasetError as exc:
            return {d.name: exc for d in datasets}
        except Exception as exc:  # the driver's own errors
            error = classify(exc, self._context("reading topic metadata"), KAFKA_HINTS)
            if error.kind in (ErrorKind.UNREACHABLE, ErrorKind.TIMEOUT):
                error = SourceUnavailable(str(error))
            return {d.name: error for d in datasets}
        result: dict[str, TopicMeta | DatasetError] = {}
        for dataset in datasets:
            count = counts.get(dataset.topic_name)
            if count is None:
                result[dataset.name] = DatasetError(
                    f"topic {dataset.topic_name} not found in {self.source_name} (or no permission to see it)",
                    ErrorKind.MISSING,
                )
            else:
                self._partitions[dataset.topic_name] = count
                result[dataset.name] = TopicMeta(count, {"partitions": count})
        return result

    def read(self, dataset: DatasetConfig, as_of: datetime, lookback_seconds: float) -> StreamReading:
        topic, group = dataset.topic_name, dataset.consumer_group
        try:
            return self._read(topic, group, as_of)
        except DatasetError:
            raise
        except Exception as exc:
            raise classify(exc, self._context(f"reading topic {topic}"), KAFKA_HINTS) from None

    def _partition_ids(self, topic: str) -> list[int]:
        if topic not in self._partitions:
            count = self.client.partitions([topic]).get(topic)
            if count is None:
                raise DatasetError(f"topic {topic} not found in {self.source_name}", ErrorKind.MISSING)
            self._partitions[topic] = count
        return list(range(self._partitions[topic]))

    def _read(self, topic: str, group: str | None, as_of: datetime) -> StreamReading:
        ids = self._partition_ids(topic)
        marks = self.client.watermarks(topic, ids)
        committed = self.client.committed(group, topic, ids) if group else {}
        state, members = self.client.group(group) if group else (None, None)
        waiting: dict[int, int] = {}  # partition → first offset the group has not processed
        newest: dict[int, int] = {}
        behind: dict[int, int] = {}
        for p in ids:
            low, high = marks[p]
            if high > low:
                newest[p] = high - 1
            if group:
                done = committed.get(p)
                position = max(low if done is None else done, low)
                behind[p] = max(0, high - position)
                if behind[p] > 0:
                    waiting[p] = position
        oldest_ts = self.client.timestamps(topic, waiting) if waiting else {}
        newest_ts = self.client.timestamps(topic, newest) if newest else {}
        partitions = tuple(
            PartitionReading(
                partition=str(p),
                end_offset=marks[p][1],
                committed=committed.get(p),
                behind=behind.get(p) if group else None,
                oldest_unconsumed_at=oldest_ts.get(p),
                newest_message_at=newest_ts.get(p),
            )
            for p in ids
        )
        oldest = [t for t in oldest_ts.values() if t is not None]
        newest_times = [t for t in newest_ts.values() if t is not None]
        total_behind = sum(behind.values()) if group else None
        ever_committed = any(committed.get(p) is not None for p in ids)
        notes = []
        if group and not ever_committed:
            notes.append(f"consumer group {group} has no committed offset on {topic}")
        return StreamReading(
            platform=self.name,
            topic=topic,
            consumer_group=group,
            partitions=partitions,
            messages_behind=total_behind,
            oldest_unconsumed_at=min(oldest) if oldest else None,
            caught_up=None if total_behind is None else total_behind == 0,
            newest_message_at=max(newest_times) if newest_times else None,
            produced_total=sum(marks[p][1] for p in ids),
            consumed_total=sum(c for c in committed.values() if c is not None) if ever_committed else None,
            consumers=members,
            consumer_state=state,
            requests=self.client.requests,
            notes=tuple(notes),
        )

    def count_window(self, dataset: DatasetConfig, start: datetime, end: datetime) -> int:
        topic = dataset.topic_name
        try:
            ids = self._partition_ids(topic)
            marks = self.client.watermarks(topic, ids)
            first = self._first_offsets(topic, ids, marks, start)
            after = self._first_offsets(topic, ids, marks, end)
        except DatasetError:
            raise
        except Exception as exc:
            raise classify(exc, self._context(f"counting topic {topic}"), KAFKA_HINTS) from None
        return sum(max(0, after[p] - first[p]) for p in ids)

    def _first_offsets(
        self, topic: str, ids: list[int], marks: dict[int, tuple[int, int]], at: datetime
    ) -> dict[int, int]:
        """First offset at or after `at` per partition: the broker's answer when the records around it
        agree, otherwise a binary search over record timestamps (log2(n) one-record reads)."""
        answered = self.client.offsets_for_time(topic, ids, at)
        result: dict[int, int] = {}
        for p in ids:
            low, high = marks[p]
            candidate = min(max(answered.get(p, high), low), high)
            if self._is_first_at(topic, p, candidate, low, high, at):
                result[p] = candidate
            else:
                result[p] = self._bisect(topic, p, low, high, at)
        return result

    def _is_first_at(self, topic: str, p: int, offset: int, low: int, high: int, at: datetime) -> bool:
        wanted = {}
        if offset < high:
            wanted["at"] = offset
        if offset > low:
            wanted["before"] = offset - 1
        times = {key: self._timestamp(topic, p, off) for key, off in wanted.items()}
        at_ok = "at" not in times or (times["at"] is not None and times["at"] >= at)
        before_ok = "before" not in times or (times["before"] is not None and times["before"] < at)
        return at_ok and before_ok

    def _bisect(self, topic: str, p: int, low: int, high: int, at: datetime) -> int:
        lo, hi = low, high
        while lo < hi:
            mid = (lo + hi) // 2
            stamp = self._timestamp(topic, p, mid)
            if stamp is not None and stamp >= at:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def _timestamp(self, topic: str, p: int, offset: int) -> datetime | None:
        return self.client.timestamps(topic, {p: offset}).get(p)

    def close(self) -> None:
        self.client.close()


class ConfluentKafkaClient:
    """The cluster over the wire: one AdminClient, plus a private consumer for record timestamps."""

    def __init__(self, config: KafkaSourceConfig) -> None:
        from confluent_kafka.admin import AdminClient

        self.timeout = config.timeout.total_seconds()
        timeout_ms = max(1000, int(self.timeout * 1000))
        self._settings: dict[str, Any] = {
            **{str(k): v for k, v in config.client_config.items()},
            "bootstrap.servers": config.bootstrap_servers,
            "client.id": "datahealth",
            "socket.timeout.ms": timeout_ms,
            "socket.connection.setup.timeout.ms": timeout_ms,
            "logger": log,
        }
        self._admin = AdminClient(dict(self._settings))
        self._consumer: Any = None
        self._lock = threading.Lock()
        self._requests = 0

    @property
    def requests(self) -> int:
        return self._requests

    def _count(self, n: int = 1) -> None:
        with self._lock:
            self._requests += n

    def partitions(self, topics: Sequence[str]) -> dict[str, int | None]:
        metadata = self._admin.list_topics(timeout=self.timeout)
        self._count()
        found: dict[str, int | None] = {}
        for topic in topics:
            entry = metadata.topics.get(topic)
            found[topic] = None if entry is None or entry.error is not None else len(entry.partitions)
        return found

    def watermarks(self, topic: str, partitions: Sequence[int]) -> dict[int, tuple[int, int]]:
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import OffsetSpec

        low = self._list_offsets({TopicPartition(topic, p): OffsetSpec.earliest() for p in partitions})
        high = self._list_offsets({TopicPartition(topic, p): OffsetSpec.latest() for p in partitions})
        return {p: (max(0, low[p][0]), max(0, high[p][0])) for p in partitions}

    def _list_offsets(self, request: dict[Any, Any]) -> dict[int, tuple[int, int]]:
        futures = self._admin.list_offsets(request, request_timeout=self.timeout)
        self._count()
        return {
            tp.partition: (info.offset, info.timestamp)
            for tp, future in futures.items()
            for info in [future.result(timeout=self.timeout)]
        }

    def committed(self, group: str, topic: str, partitions: Sequence[int]) -> dict[int, int | None]:
        from confluent_kafka import ConsumerGroupTopicPartitions, TopicPartition

        request = ConsumerGroupTopicPartitions(group, [TopicPartition(topic, p) for p in partitions])
        futures = self._admin.list_consumer_group_offsets([request], request_timeout=self.timeout)
        self._count()
        answer = futures[group].result(timeout=self.timeout)
        offsets: dict[int, int | None] = dict.fromkeys(partitions)
        for tp in answer.topic_partitions:
            if tp.topic == topic and tp.error is None and tp.offset >= 0:
                offsets[tp.partition] = tp.offset
        return offsets

    def group(self, group: str) -> tuple[str | None, int | None]:
        futures = self._admin.describe_consumer_groups([group], request_timeout=self.timeout)
        self._count()
        try:
            described = futures[group].result(timeout=self.timeout)
        except Exception:  # a group that never existed: no state, no members
            return None, 0
        state = getattr(described.state, "name", str(described.state)).lower()
        members = len(described.members or [])
        if members == 0 and state in _ACTIVE_STATES:
            return state, None  # an active group lists no members: some brokers leave them out; unknown
        return state, members

    def timestamps(self, topic: str, positions: Mapping[int, int]) -> dict[int, datetime | None]:
        """Assign the wanted positions to a private consumer and read one record from each."""
        import time

        from confluent_kafka import TopicPartition

        consumer = self._reader()
        found: dict[int, datetime | None] = dict.fromkeys(positions)
        consumer.assign([TopicPartition(topic, p, off) for p, off in positions.items()])
        self._count(len(positions))
        try:
            pending = set(positions)
            deadline = time.monotonic() + self.timeout
            while pending and time.monotonic() < deadline:
                message = consumer.poll(min(1.0, max(0.05, deadline - time.monotonic())))
                if message is None or message.error() is not None:
                    continue
                p = message.partition()
                if p in pending and message.offset() >= positions[p]:
                    found[p] = from_millis(message.timestamp()[1])
                    pending.discard(p)
        finally:
            consumer.unassign()
        return found

    def _reader(self) -> Any:
        """A consumer that only ever reads by assignment: its own throwaway group id, no commits, small
        fetches (so reading one record costs about one record), never subscribed."""
        if self._consumer is None:
            from confluent_kafka import Consumer

            self._consumer = Consumer(
                {
                    **self._settings,
                    "group.id": f"datahealth-reader-{uuid.uuid4().hex}",
                    "enable.auto.commit": False,
                    "enable.auto.offset.store": False,
                    "auto.offset.reset": "earliest",
                    "fetch.max.bytes": 1_048_576,
                    "max.partition.fetch.bytes": 65_536,
                    "fetch.wait.max.ms": 100,
                }
            )
        return self._consumer

    def offsets_for_time(self, topic: str, partitions: Sequence[int], at: datetime) -> dict[int, int]:
        from confluent_kafka import TopicPartition
        from confluent_kafka.admin import OffsetSpec

        spec = OffsetSpec.for_timestamp(to_millis(at))
        answer = self._list_offsets({TopicPartition(topic, p): spec for p in partitions})
        return {p: offset for p, (offset, _) in answer.items() if offset >= 0}

    def close(self) -> None:
        if self._consumer is not None:
            self._consumer.close()  # never committed anything: closing only drops the connection
            self._consumer = None


def open_kafka(name: str, config: KafkaSourceConfig, project_root: Path) -> KafkaEngine:
    """The engine for a Kafka source: over the wire, or from a recording (`replay:`)."""
    if config.replay is not None:
        path = Path(config.replay).expanduser()
        return KafkaEngine(ReplayKafkaClient(path if path.is_absolute() else project_root / path), name)
    try:
        return KafkaEngine(ConfluentKafkaClient(config), name)
    except ImportError:
        raise DatasetError(
            "Kafka sources need confluent-kafka: pip install 'datahealth[kafka]'", ErrorKind.CONFIG
        ) from None
