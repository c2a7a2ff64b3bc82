"""Kafka on a real broker (Tansu): a stalled consumer, a silent producer and a lag spike each open the right
incident, and each resolves on the first run that finds the stream healthy again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from datahealth.rules.streams import CONSUMER_SUBJECT, SILENT_SUBJECT
from tests.streams.scenario import Monitor
from tests.support.streams import KafkaTopic, unique


def kafka_monitor(
    root: Path, bootstrap: str, topic: KafkaTopic, group: str, sla: dict[str, object]
) -> Monitor:
    return Monitor(
        root,
        {"events": {"kind": "kafka", "bootstrap_servers": bootstrap, "timeout": "10s"}},
        {"events.clicks": {"topic": topic.name, "consumer_group": group, "sla": sla}},
    )


def test_a_stalled_consumer_opens_an_incident_that_names_it_and_resolves_when_it_catches_up(
    tmp_path: Path, kafka_broker: str
) -> None:
    topic, group = KafkaTopic(kafka_broker, partitions=2), unique("loader")
    start = datetime.now(UTC) - timedelta(hours=1)
    topic.produce(30, at=start, step_ms=60_000, partition=0)  # one event a minute for 30 minutes
    topic.produce(10, at=start, step_ms=60_000, partition=1)
    topic.commit(group, {0: 20, 1: 10})  # processed up to 20 minutes in, then stopped
    member = topic.joined_consumer(group)  # the consumer is still a member: it is stuck, not gone
    try:
        monitor = kafka_monitor(
            tmp_path, kafka_broker, topic, group, {"max_lag": {"warn": "15m", "error": "30m"}}
        )
        first = monitor.run(datetime.now(UTC))
        reading = first.stream("events.clicks")
        assert reading["messages_behind"] == 10 and reading["consumer_state"] == "stable"
        assert (
            reading["consumers"] != 0
        )  # 1; None where the broker (Tansu) lists no members of a stable group
        # the oldest unprocessed event is the one at minute 20 (about 40 minutes ago): past the error level
        assert 35 * 60 < reading["lag_seconds"] < 45 * 60
        assert first.event(CONSUMER_SUBJECT) == "opened"
        incident = next(
            c.incident for c in first.evaluation.changes if c.incident.subject == CONSUMER_SUBJECT
        )
        assert incident.severity == "error" and f"consumer group {group} is falling behind" in incident.title

        topic.produce(5, partition=1)  # more events arrive; the group's position does not move
        second = monitor.run(datetime.now(UTC))
        change = next(c for c in second.evaluation.changes if c.incident.subject == CONSUMER_SUBJECT)
        # the incident keeps the title it opened with; the new observation is the change's finding
        assert change.event == "changed" and change.finding is not None
        assert "is stalled" in change.finding.title and "15 messages waiting" in change.finding.title
        assert f"consumer group {group} is falling behind" in change.incident.title
        assert second.stream("events.clicks")["messages_behind"] == 15

        topic.commit(group, {0: 30, 1: 15}, member)  # the consumer recovers and commits everything
        third = monitor.run(datetime.now(UTC))
        assert third.stream("events.clicks")["messages_behind"] == 0
        assert third.stream("events.clicks")["lag_seconds"] == 0
        assert third.event(CONSUMER_SUBJECT) == "resolved"
        assert third.evaluation.open_incidents == []
    finally:
        member.close()


def test_a_silent_producer_opens_an_incident_and_resolves_when_messages_flow_again(
    tmp_path: Path, kafka_broker: str
) -> None:
    topic, group = KafkaTopic(kafka_broker), unique("loader")
    produced = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    topic.produce(3, at=produced, step_ms=1000)  # the newest at produced + 2 s
    topic.commit(group, {0: 3})  # the consumer is caught up: only the producer is quiet
    monitor = kafka_monitor(
        tmp_path, kafka_broker, topic, group, {"silent_after": "10m", "max_messages_behind": 100}
    )
    first = monitor.run(produced + timedelta(minutes=25, seconds=2))
    assert first.events() == [
        ("opened", SILENT_SUBJECT, f"events.clicks: no message produced to {topic.name} for 25m")
    ]
    topic.produce(1)
    second = monitor.run(datetime.now(UTC))
    assert second.event(SILENT_SUBJECT) == "resolved"
    assert (
        second.stream("events.clicks")["newest_message_at"]
        > first.stream("events.clicks")["newest_message_at"]
    )


def test_a_lag_spike_warns_then_errors_then_resolves_as_the_consumer_recovers(
    tmp_path: Path, kafka_broker: str
) -> None:
    topic, group = KafkaTopic(kafka_broker), unique("loader")
    topic.produce(5)
    topic.commit(group, {0: 5})
    monitor = kafka_monitor(
        tmp_path, kafka_broker, topic, group, {"max_messages_behind": {"warn": 10, "error": 40}}
    )
    assert monitor.run(datetime.now(UTC)).events() == []  # caught up: nothing to say

    topic.produce(20)  # a burst the consumer has not worked through yet
    spike = monitor.run(datetime.now(UTC))
    assert spike.stream("events.clicks")["messages_behind"] == 20
    [(event, _, title)] = spike.events(CONSUMER_SUBJECT)
    assert event == "opened" and "20 messages waiting" in title
    assert spike.evaluation.open_incidents[0].severity == "warn"

    topic.produce(30)
    topic.commit(group, {0: 10})  # it moves, but the backlog grows past the error level
    worse = monitor.run(datetime.now(UTC))
    change = next(c for c in worse.evaluation.changes if c.incident.subject == CONSUMER_SUBJECT)
    assert change.event == "changed" and change.incident.severity == "error"
    # the test's consumer commits without staying a member of the group, and the incident says so
    assert "severity warn → error" in change.reason and "has no active consumer" in change.incident.title

    topic.commit(group, {0: 52})  # recovered to within the warn level (3 behind)
    recovered = monitor.run(datetime.now(UTC))
    assert recovered.stream("events.clicks")["messages_behind"] == 3
    assert recovered.event(CONSUMER_SUBJECT) == "resolved"
