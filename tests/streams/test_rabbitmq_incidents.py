"""RabbitMQ (the machine's server, over AMQP): a backlog on a queue nobody consumes opens an incident that
says so, draining it resolves it, and observing never takes a message off the queue. The management
API is not enabled on the test machines: message ages are covered by the config tests and docs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pika
import pytest

from datahealth.rules.streams import CONSUMER_SUBJECT
from tests.streams.scenario import Monitor
from tests.support.streams import unique


@pytest.fixture
def channel(rabbitmq_server: str) -> Iterator[pika.adapters.blocking_connection.BlockingChannel]:
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_server))
    yield connection.channel()
    connection.close()


@pytest.fixture
def queue(channel: pika.adapters.blocking_connection.BlockingChannel) -> Iterator[str]:
    name = unique("datahealth-test-orders")
    channel.queue_declare(queue=name, auto_delete=False)
    yield name
    channel.queue_delete(queue=name)


def publish(channel: pika.adapters.blocking_connection.BlockingChannel, queue: str, count: int) -> None:
    for i in range(count):
        channel.basic_publish(exchange="", routing_key=queue, body=f"order-{i}".encode())


def rabbit_monitor(root: Path, url: str, queue: str, sla: dict[str, object]) -> Monitor:
    return Monitor(
        root,
        {"mq": {"kind": "rabbitmq", "url": url, "timeout": "5s"}},
        {"mq.orders": {"topic": queue, "sla": sla}},
    )


def test_a_backlog_without_consumers_opens_an_incident_and_draining_it_resolves_it(
    tmp_path: Path,
    rabbitmq_server: str,
    channel: pika.adapters.blocking_connection.BlockingChannel,
    queue: str,
) -> None:
    publish(channel, queue, 25)
    monitor = rabbit_monitor(
        tmp_path, rabbitmq_server, queue, {"max_messages_behind": {"warn": 10, "error": 20}}
    )
    first = monitor.run(datetime.now(UTC))
    reading = first.stream("mq.orders")
    assert reading["messages_behind"] == 25 and reading["consumers"] == 0
    assert reading["lag_seconds"] is None  # ages need the management API
    [(event, _, title)] = first.events(CONSUMER_SUBJECT)
    assert event == "opened"
    assert title == f"mq.orders: queue {queue} has no active consumer: 25 messages waiting"
    # observing is read-only: every message is still there
    assert channel.queue_declare(queue=queue, passive=True).method.message_count == 25

    for _ in range(25):  # a consumer drains the queue
        method, _, _ = channel.basic_get(queue=queue, auto_ack=False)
        assert method is not None
        channel.basic_ack(method.delivery_tag)
    second = monitor.run(datetime.now(UTC))
    assert second.stream("mq.orders")["messages_behind"] == 0
    assert second.event(CONSUMER_SUBJECT) == "resolved"


def test_a_live_consumer_is_counted(
    tmp_path: Path,
    rabbitmq_server: str,
    channel: pika.adapters.blocking_connection.BlockingChannel,
    queue: str,
) -> None:
    publish(channel, queue, 3)
    channel.basic_qos(prefetch_count=1)
    channel.basic_consume(queue=queue, on_message_callback=lambda *args: None, auto_ack=False)
    outcome = rabbit_monitor(tmp_path, rabbitmq_server, queue, {"max_messages_behind": 1}).run(
        datetime.now(UTC)
    )
    reading = outcome.stream("mq.orders")
    assert reading["consumers"] == 1
    assert (
        reading["messages_behind"] == 2
    )  # ready messages; the one delivered but unacknowledged is not counted
    [(event, _, title)] = outcome.events(CONSUMER_SUBJECT)
    assert event == "opened" and title.endswith(
        f"the consumers of queue {queue} are falling behind: 2 messages waiting"
    )


def test_a_missing_queue_is_a_missing_error_and_is_not_created(
    tmp_path: Path, rabbitmq_server: str, channel: pika.adapters.blocking_connection.BlockingChannel
) -> None:
    name = unique("datahealth-test-absent")
    outcome = rabbit_monitor(tmp_path, rabbitmq_server, name, {"max_messages_behind": 1}).run(
        datetime.now(UTC)
    )
    observation = outcome.results["mq.orders"].observation
    assert observation.error_kind == "missing" and name in (observation.error or "")
    with pytest.raises(pika.exceptions.ChannelClosedByBroker):
        channel.queue_declare(queue=name, passive=True)
