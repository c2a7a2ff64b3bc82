"""Where datasets live: `SqlSource` (SQLAlchemy warehouses) and `LakeSource` (files via DuckDB)."""

from __future__ import annotations

from pathlib import Path

from datahealth.config.models import (
    KafkaSourceConfig,
    KinesisSourceConfig,
    LakeSourceConfig,
    RabbitMqSourceConfig,
    SourceConfig,
    SqlSourceConfig,
)
from datahealth.sources.base import DatasetError, Measurement, Source, SourceUnavailable
from datahealth.sources.lake import LakeSource
from datahealth.sources.sql import SqlSource
from datahealth.sources.stream import STREAM_KIND, StreamSource


def open_source(name: str, config: SourceConfig, project_root: Path) -> SqlSource | LakeSource | StreamSource:
    """Create the source object for a config entry; connections open lazily on first use."""
    if isinstance(config, SqlSourceConfig):
        return SqlSource(name, config, project_root)
    if isinstance(config, LakeSourceConfig):
        return LakeSource(name, config, project_root)
    if isinstance(config, KafkaSourceConfig | KinesisSourceConfig | RabbitMqSourceConfig):
        return StreamSource(name, config, project_root)
    raise TypeError(f"unsupported source config {type(config).__name__}")


__all__ = [
    "DatasetError",
    "LakeSource",
    "Measurement",
    "Source",
    "SourceUnavailable",
    "STREAM_KIND",
    "SqlSource",
    "StreamSource",
    "open_source",
]
