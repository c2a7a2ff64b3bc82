"""The Kafka engine over a recorded cluster: lag, ages and window counts from exact answers, so the
direct `ListOffsets`-by-timestamp path is taken (the Tansu tests take the fallback search)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from datahealth.config.models import DatasetConfig, KafkaSourceConfig
from datahealth.core.errors import DatasetError
from datahealth.engines.streams import open_engine
from datahealth.engines.streams.kafka import KafkaEngine
from datahealth.engines.streams.replay import FORMAT, Segment

DAY = datetime(2026, 10, 19, tzinfo=UTC)


def record(path: Path, committed: list[int | None], members: int = 1) -> Path:
    partitions = [
        {"low": 0, "segments": [Segment(0, 100, DAY, DAY + timedelta(days=1)).to_dict()]},
        {
            "low": 10,
            "segments": [Segment(10, 50, DAY + timedelta(hours=12), DAY + timedelta(days=1)).to_dict()],
        },
    ]
    data = {
        "format": FORMAT,
        "topics": {"clicks": {"partitions": partitions}},
        "groups": {"loader": {"state": "stable", "members": members, "offsets": {"clicks": committed}}},
    }
    path.write_text(json.dumps(data))
    return path


def engine(path: Path) -> KafkaEngine:
    opened = open_engine("events", KafkaSourceConfig(kind="kafka", replay=str(path)), path.parent)
    assert isinstance(opened, KafkaEngine)
    return opened


CLICKS = DatasetConfig(name="events.clicks", topic="clicks", consumer_group="loader")


def test_lag_ages_and_counters_from_the_recording(tmp_path: Path) -> None:
    kafka = engine(record(tmp_path / "kafka.json", [90, None]))
    assert kafka.describe([CLICKS])["events.clicks"].partitions == 2  # type: ignore[union-attr]
    reading = kafka.read(CLICKS, DAY + timedelta(days=1), 3600)
    # partition 0: 10 waiting from offset 90; partition 1 never committed: all 50 retained are waiting
    assert reading.messages_behind == 60 and reading.consumers == 1 and reading.produced_total == 160
    assert reading.consumed_total == 90
    assert reading.oldest_unconsumed_at == DAY + timedelta(hours=12) + timedelta(hours=12) / 50 * 0.5
    assert reading.newest_message_at == DAY + timedelta(days=1) - timedelta(days=1) / 100 * 0.5
    assert "consumer group loader has no committed offset" not in " ".join(reading.notes)


def test_window_counts_use_the_brokers_answer_when_the_records_around_it_agree(tmp_path: Path) -> None:
    kafka = engine(record(tmp_path / "kafka.json", [100, 60]))
    clicks = DatasetConfig(name="events.clicks", topic="clicks")
    assert kafka.count_window(clicks, DAY, DAY + timedelta(days=1)) == 150
    before = kafka.client.requests
    assert kafka.count_window(clicks, DAY + timedelta(hours=12), DAY + timedelta(hours=18)) == 25 + 25
    # watermarks, two offset lookups and at most two records per partition and bound: no search
    assert kafka.client.requests - before <= 3 + 2 * 2 * 2


def test_a_missing_recording_is_an_error_for_the_source(tmp_path: Path) -> None:
    kafka = engine(tmp_path / "absent.json")
    [error] = kafka.describe([CLICKS]).values()
    assert isinstance(error, DatasetError) and error.kind == "missing"
    with pytest.raises(DatasetError, match="is not a Kafka recording"):
        (tmp_path / "bad.json").write_text("{}")
        engine(tmp_path / "bad.json").read(CLICKS, DAY, 60)
