"""Stream engines: one module per platform (Kafka, Kinesis, RabbitMQ) behind `StreamEngine`.

`open_engine(name, config, root)` returns the engine for a stream source's config; callers then ask it
(`describe`, `read`, `count_window`) and branch on its declared `capabilities`, never on its name.
Each module imports its client library (confluent-kafka, boto3, pika) only when an engine is opened.
docs/streams.md says what each one reads, with which permissions, and what it costs the broker.
"""

from __future__ import annotations

from pathlib import Path

from datahealth.config.models import (
    KafkaSourceConfig,
    KinesisSourceConfig,
    RabbitMqSourceConfig,
    StreamSourceConfig,
)
from datahealth.engines.streams.base import (
    PartitionReading,
    StreamCapabilities,
    StreamEngine,
    StreamReading,
    TopicMeta,
)
from datahealth.engines.streams.kafka import KafkaEngine, open_kafka
from datahealth.engines.streams.kinesis import KinesisEngine
from datahealth.engines.streams.rabbitmq import RabbitMqEngine


def open_engine(name: str, config: StreamSourceConfig, project_root: Path) -> StreamEngine:
    """The engine reading stream source `name` (connections open on first use where the client allows)."""
    if isinstance(config, KafkaSourceConfig):
        return open_kafka(name, config, project_root)
    if isinstance(config, KinesisSourceConfig):
        return KinesisEngine(name, config)
    if isinstance(config, RabbitMqSourceConfig):
        return RabbitMqEngine(name, config)
    raise TypeError(f"unsupported stream source config {type(config).__name__}")


__all__ = [
    "KafkaEngine",
    "KinesisEngine",
    "PartitionReading",
    "RabbitMqEngine",
    "StreamCapabilities",
    "StreamEngine",
    "StreamReading",
    "TopicMeta",
    "open_engine",
]
