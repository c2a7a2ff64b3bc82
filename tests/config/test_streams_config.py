"""Stream sources, stream SLAs and reconcile entries in sla_config: what a platform cannot measure is a
validation error naming the file, key and fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from datahealth.config import ConfigError, load_project
from datahealth.config.models import CountLevels, DurationLevels, KafkaSourceConfig
from tests.support.projects import write_project

SOURCES = {
    "events": {"kind": "kafka", "bootstrap_servers": "127.0.0.1:9092"},
    "aws": {"kind": "kinesis", "region": "eu-west-1"},
    "mq": {"kind": "rabbitmq", "url": "amqp://guest:${MQ_PASSWORD}@127.0.0.1:5672/%2F"},
    "wh": {"kind": "sql", "url": "sqlite:///wh.db"},
}


def problems(tmp_path: Path, datasets: dict[str, Any], sources: dict[str, Any] | None = None) -> list[str]:
    write_project(tmp_path, sources or SOURCES, datasets)
    with pytest.raises(ConfigError) as raised:
        load_project(tmp_path, environ={"MQ_PASSWORD": "secret-password-1"})
    return [f"{i.key}: {i.message} | {i.fix}" for i in raised.value.issues]


def test_a_valid_stream_project_loads_with_levels(tmp_path: Path) -> None:
    write_project(
        tmp_path,
        SOURCES,
        {
            "events.clicks": {
                "consumer_group": "loader",
                "sla": {
                    "max_lag": {"warn": "5m", "error": "15m"},
                    "max_messages_behind": 1000,
                    "silent_after": "10m",
                },
            },
            "wh.events": {
                "timestamp_column": "ts",
                "reconcile": [{"against": "events.clicks", "tolerance": "0.5%"}],
            },
        },
    )
    project = load_project(tmp_path, environ={"MQ_PASSWORD": "secret-password-1"})
    sla = project.dataset("events.clicks").sla
    assert sla is not None
    assert sla.max_lag == DurationLevels(warn="5m", error="15m")  # type: ignore[arg-type]
    assert sla.max_messages_behind == CountLevels(error=1000)
    assert project.dataset("events.clicks").topic_name == "clicks"
    assert isinstance(project.config.sources["events"], KafkaSourceConfig)


def test_what_a_platform_cannot_measure_is_rejected(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "aws.clicks": {"consumer_group": "app", "sla": {"max_messages_behind": 10}},
            "mq.orders": {"sla": {"max_lag": "5m"}, "consumer_group": "x"},
            "events.clicks": {"sla": {"max_lag": "5m", "warn_after": "1h"}, "table": "clicks"},
            "wh.events": {"sla": {"silent_after": "5m"}},
        },
    )
    assert found == [
        "datasets.aws.clicks.sla.max_messages_behind: Kinesis does not count the records a consumer is behind "
        "(it reports milliseconds) | use max_lag",
        "datasets.mq.orders.sla.max_lag: RabbitMQ reports message ages and publish counts only through its "
        "management API | set management_url on the source, or use max_messages_behind",
        "datasets.mq.orders.consumer_group: RabbitMQ queues have no consumer groups: the queue's depth is what its "
        "consumers have not taken | remove consumer_group",
        "datasets.events.clicks.table: kafka datasets are read from the broker, not table | use topic: instead",
        "datasets.events.clicks.sla.warn_after: warn_after applies to tables and files | streams use max_lag, "
        "max_messages_behind and silent_after",
        "datasets.events.clicks.consumer_group: max_lag needs the consumer whose lag it limits | add "
        "consumer_group: the Kafka consumer group or the Kinesis consumer application",
        "datasets.wh.events.sla.silent_after: silent_after applies to streams (kafka, kinesis, rabbitmq sources) "
        "| use warn_after/error_after for tables and files",
    ]


def test_reconcile_entries_must_name_a_countable_other_side(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        {
            "mq.orders": {},
            "events.clicks": {},
            "wh.events": {
                "reconcile": [
                    {"against": "wh.nothing"},
                    {"against": "mq.orders"},
                    {"against": "events.clicks", "sum": "amount"},
                    {"against": "events.clicks", "period": "7h"},
                    {"against": "events.clicks", "tolerance": "a lot"},
                ]
            },
        },
    )
    assert any("reconcile[0].against: unknown dataset 'wh.nothing'" in p for p in found)
    assert any(
        "reconcile[1].against: RabbitMQ cannot count the messages of a past window" in p for p in found
    )
    assert any("reconcile[2]: a stream side is counted from offsets" in p for p in found)
    assert any("reconcile[3].period: must divide a day" in p for p in found)
    assert any("reconcile[4].tolerance: 'a lot' is not a tolerance" in p for p in found)


def test_a_kafka_source_needs_brokers_or_a_recording_and_masks_client_secrets(tmp_path: Path) -> None:
    found = problems(tmp_path, {"events.clicks": {}}, {"events": {"kind": "kafka"}})
    assert found == [
        "sources.events: set bootstrap_servers (host:port of the brokers) or replay (a recorded file) | "
        "see docs/configuration.md"
    ]
    found = problems(
        tmp_path, {"events.clicks": {}}, {"events": {"kind": "kafak", "bootstrap_servers": "x:1"}}
    )
    assert found[0].startswith("sources.events: unknown or missing source kind | set kind: sql")
    assert "kafka, kinesis or rabbitmq" in found[0]
