"""RabbitMQ: depth and consumers over AMQP (the machine's server), ages and counters from the management
API. The management plugin is not enabled on the test machines, so its answer comes from a loopback HTTP
server replaying the documented `GET /api/queues/<vhost>/<queue>` JSON; what is tested is that datahealth
asks for the right queue with the source's credentials and reads the answer right."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pika
import pytest

from datahealth.config.models import DatasetConfig, RabbitMqSourceConfig
from datahealth.core.errors import DatasetError
from datahealth.engines.streams.rabbitmq import RabbitMqEngine
from tests.support.streams import unique

HEAD = datetime(2026, 10, 20, 7, 0, tzinfo=UTC)


class Management:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        self.status = 200
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                outer.requests.append((self.path, self.headers.get("Authorization", "")))
                body = json.dumps(
                    {
                        "messages_ready": 7,
                        "messages_unacknowledged": 2,
                        "consumers": 1,
                        "head_message_timestamp": int(HEAD.timestamp()),
                        "message_stats": {"publish": 1200, "ack": 1191},
                    }
                ).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def management() -> Iterator[Management]:
    fake = Management()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


@pytest.fixture
def queue(rabbitmq_server: str) -> Iterator[str]:
    connection = pika.BlockingConnection(pika.URLParameters(rabbitmq_server))
    channel = connection.channel()
    name = unique("datahealth-test-mgmt")
    channel.queue_declare(queue=name)
    for i in range(3):
        channel.basic_publish(exchange="", routing_key=name, body=str(i).encode())
    yield name
    channel.queue_delete(queue=name)
    connection.close()


def test_the_management_api_adds_ages_unacknowledged_messages_and_counters(
    rabbitmq_server: str, management: Management, queue: str
) -> None:
    config = RabbitMqSourceConfig(kind="rabbitmq", url=rabbitmq_server, management_url=management.url)
    engine = RabbitMqEngine("mq", config)
    try:
        assert engine.capabilities.oldest_unconsumed_age and engine.capabilities.counters
        reading = engine.read(DatasetConfig(name="mq.orders", topic=queue), HEAD.replace(minute=20), 600)
    finally:
        engine.close()
    assert reading.extra["messages_ready"] == 3  # the AMQP answer, from the real queue
    assert reading.messages_behind == 9  # ready + unacknowledged, as the management API counts them
    assert reading.oldest_unconsumed_at == HEAD and reading.lag_seconds(HEAD.replace(minute=20)) == 1200
    assert (reading.produced_total, reading.consumed_total, reading.consumers) == (1200, 1191, 0)
    [(path, authorization)] = management.requests
    assert path == f"/api/queues/%2F/{queue}"
    assert authorization == "Basic " + base64.b64encode(b"guest:guest").decode()


def test_a_management_error_is_a_clear_dataset_error(
    rabbitmq_server: str, management: Management, queue: str
) -> None:
    management.status = 401
    engine = RabbitMqEngine(
        "mq", RabbitMqSourceConfig(kind="rabbitmq", url=rabbitmq_server, management_url=management.url)
    )
    try:
        with pytest.raises(DatasetError, match=f"answered HTTP 401 for queue {queue}") as raised:
            engine.read(DatasetConfig(name="mq.orders", topic=queue), HEAD, 600)
    finally:
        engine.close()
    assert raised.value.kind == "permission"


def test_without_the_management_api_ages_are_unknown_and_say_why(rabbitmq_server: str, queue: str) -> None:
    engine = RabbitMqEngine("mq", RabbitMqSourceConfig(kind="rabbitmq", url=rabbitmq_server))
    try:
        assert not engine.capabilities.oldest_unconsumed_age
        reading = engine.read(DatasetConfig(name="mq.orders", topic=queue), HEAD, 600)
    finally:
        engine.close()
    assert reading.messages_behind == 3 and reading.oldest_unconsumed_at is None
    assert reading.notes == ("message ages need the management API (management_url)",)


def test_a_wrong_password_is_a_permission_error_without_the_password(rabbitmq_server: str) -> None:
    url = "amqp://guest:not-the-password-1234@127.0.0.1:5672/%2F"
    engine = RabbitMqEngine("mq", RabbitMqSourceConfig(kind="rabbitmq", url=url, timeout="5s"))
    [error] = engine.describe([DatasetConfig(name="mq.orders", topic="orders")]).values()
    assert isinstance(error, DatasetError)
    assert "not-the-password-1234" not in str(error)
