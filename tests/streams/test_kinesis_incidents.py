"""Kinesis on moto's server: a consumer application's lag from its KCL lease table (DynamoDB) and the
records after its checkpoint, a lag spike and its recovery, and a silent producer.

moto stamps `ApproximateArrivalTimestamp` with the real time of the put, so "twenty minutes later" is a
run whose as-of time is twenty minutes ahead: the ages are measured against the as-of time.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from datahealth.rules.streams import CONSUMER_SUBJECT, SILENT_SUBJECT
from tests.streams.scenario import Monitor
from tests.support.streams import unique


class KinesisPipeline:
    """A stream, its producer, and a consumer application that checkpoints like the KCL does."""

    def __init__(self, endpoint: str) -> None:
        self.kinesis = boto3.client("kinesis", endpoint_url=endpoint, region_name="eu-west-1")
        self.dynamodb = boto3.client("dynamodb", endpoint_url=endpoint, region_name="eu-west-1")
        self.stream, self.application = unique("clicks"), unique("loader")
        self.kinesis.create_stream(StreamName=self.stream, ShardCount=1)
        self.kinesis.get_waiter("stream_exists").wait(StreamName=self.stream, WaiterConfig={"Delay": 0.2})
        self.shard = self.kinesis.list_shards(StreamName=self.stream)["Shards"][0]["ShardId"]
        self.dynamodb.create_table(
            TableName=self.application,
            KeySchema=[{"AttributeName": "leaseKey", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "leaseKey", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        self.sequences: list[str] = []

    def put(self, count: int) -> None:
        for i in range(count):
            answer = self.kinesis.put_record(
                StreamName=self.stream, Data=f"event-{i}".encode(), PartitionKey="k"
            )
            self.sequences.append(answer["SequenceNumber"])

    def checkpoint(self, processed: int) -> None:
        """The application has processed the first `processed` records."""
        self.dynamodb.put_item(
            TableName=self.application,
            Item={
                "leaseKey": {"S": self.shard},
                "checkpoint": {"S": self.sequences[processed - 1] if processed else "TRIM_HORIZON"},
                "leaseOwner": {"S": "worker-1"},
                "leaseCounter": {"N": str(processed + 1)},
            },
        )

    def monitor(self, root: Path, endpoint: str, sla: dict[str, Any]) -> Monitor:
        return Monitor(
            root,
            {"aws": {"kind": "kinesis", "endpoint_url": endpoint, "region": "eu-west-1", "timeout": "10s"}},
            {"aws.clicks": {"topic": self.stream, "consumer_group": self.application, "sla": sla}},
        )


@pytest.fixture
def pipeline(aws_endpoint: str) -> Iterator[KinesisPipeline]:
    made = KinesisPipeline(aws_endpoint)
    yield made
    made.kinesis.delete_stream(StreamName=made.stream)
    made.dynamodb.delete_table(TableName=made.application)


def test_a_lag_spike_opens_an_incident_and_resolves_when_the_application_checkpoints(
    tmp_path: Path, aws_endpoint: str, pipeline: KinesisPipeline
) -> None:
    pipeline.put(10)
    pipeline.checkpoint(3)  # processed 3 of 10
    put_at = datetime.now(UTC)
    monitor = pipeline.monitor(tmp_path, aws_endpoint, {"max_lag": {"warn": "5m", "error": "15m"}})

    spike = monitor.run(put_at + timedelta(minutes=20))
    reading = spike.stream("aws.clicks")
    assert reading["consumers"] == 1 and reading["caught_up"] is False
    assert 19 * 60 < reading["lag_seconds"] < 21 * 60  # record 4 arrived ~now; the run is 20 minutes on
    assert reading["partitions"][0]["millis_behind"] is not None
    [(event, _, title)] = spike.events(CONSUMER_SUBJECT)
    assert event == "opened" and f"consumer group {pipeline.application} is falling behind" in title
    assert spike.evaluation.open_incidents[0].severity == "error"

    pipeline.checkpoint(10)
    recovered = monitor.run(put_at + timedelta(minutes=25))
    assert recovered.stream("aws.clicks")["caught_up"] is True
    assert recovered.stream("aws.clicks")["lag_seconds"] == 0
    assert recovered.event(CONSUMER_SUBJECT) == "resolved"


def test_a_silent_producer_is_found_by_looking_back_silent_after_and_resolves_when_records_arrive(
    tmp_path: Path, aws_endpoint: str, pipeline: KinesisPipeline
) -> None:
    pipeline.put(2)
    pipeline.checkpoint(2)
    monitor = pipeline.monitor(tmp_path, aws_endpoint, {"silent_after": "10m"})
    quiet = monitor.run(datetime.now(UTC) + timedelta(minutes=30))
    assert quiet.stream("aws.clicks")["newest_message_at"] is None  # nothing in the last 10 minutes
    [(event, _, title)] = quiet.events(SILENT_SUBJECT)
    assert event == "opened" and title.endswith("for at least 10m")

    pipeline.put(1)
    flowing = monitor.run(datetime.now(UTC) + timedelta(seconds=5))
    assert flowing.stream("aws.clicks")["newest_message_at"] is not None
    assert flowing.event(SILENT_SUBJECT) == "resolved"


def test_an_application_without_a_lease_table_is_a_missing_error_naming_it(
    tmp_path: Path, aws_endpoint: str, pipeline: KinesisPipeline
) -> None:
    pipeline.put(1)
    monitor = Monitor(
        tmp_path,
        {"aws": {"kind": "kinesis", "endpoint_url": aws_endpoint, "region": "eu-west-1"}},
        {"aws.clicks": {"topic": pipeline.stream, "consumer_group": "never-ran", "sla": {"max_lag": "15m"}}},
    )
    outcome = monitor.run(datetime.now(UTC))
    observation = outcome.results["aws.clicks"].observation
    assert observation.error_kind == "missing"
    assert (
        observation.error
        == "lease table never-ran not found: has the consumer application never-ran ever run?"
    )
