"""Kinesis Data Streams: how far a consumer application is behind, per shard, without consuming for it.

A Kinesis consumer (the KCL, or anything keeping KCL-style leases) records its position per shard in a
DynamoDB lease table named after the application: `consumer_group:` names that table. For each shard,
datahealth reads the checkpoint, opens its own iterator just after it and asks for one record: the
record's `ApproximateArrivalTimestamp` is the oldest message the application has not processed, and
`MillisBehindLatest` says how far that position is from the tip. Iterators are private and
checkpoints are only read, so the application never notices.

The newest record (for a silent producer) is found by reading from `as_of − lookback` to the tip, at
most `max_records` records; registered enhanced fan-out consumers are listed with their status. Kinesis
has no record counts, so there is no "messages behind": SLAs use `max_lag`. A past window is counted by
reading it (`reconcile:` against a stream costs one read of that window).

`boto3` is imported when the engine is opened; credentials come from the AWS default chain.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from datahealth.config.models import DatasetConfig, KinesisSourceConfig
from datahealth.core.errors import DatasetError, SourceUnavailable
from datahealth.core.results import ErrorKind, as_utc
from datahealth.engines.errors import ErrorHints, classify
from datahealth.engines.streams.base import (
    PartitionReading,
    StreamCapabilities,
    StreamEngine,
    StreamReading,
    TopicMeta,
)

KINESIS_HINTS: ErrorHints = {
    ErrorKind.MISSING: ("resourcenotfound", "not found"),
    ErrorKind.PERMISSION: ("accessdenied", "unrecognizedclient", "invalidsignature", "not authorized"),
    ErrorKind.UNREACHABLE: ("could not connect to the endpoint", "endpointconnectionerror"),
}
_PAGE = 10_000  # GetRecords' largest page
_EMPTY_PAGES = 5  # empty responses followed before a position counts as caught up


class KinesisEngine(StreamEngine):
    name = "kinesis"
    title = "Kinesis"
    capabilities = StreamCapabilities(
        messages_behind=False,
        oldest_unconsumed_age=True,
        newest_message_age=True,
        consumer_groups=True,
        window_counts=True,
        counters=False,
    )
    error_hints = KINESIS_HINTS

    def __init__(self, source_name: str, config: KinesisSourceConfig) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError:
            raise DatasetError(
                "Kinesis sources need boto3: pip install 'datahealth[kinesis]'", ErrorKind.CONFIG
            ) from None
        seconds = config.timeout.total_seconds()
        settings = Config(connect_timeout=seconds, read_timeout=seconds, retries={"max_attempts": 2})
        self.source_name = source_name
        self.config = config
        self.kinesis = boto3.client(
            "kinesis", region_name=config.region, endpoint_url=config.endpoint_url, config=settings
        )
        self.dynamodb = boto3.client(
            "dynamodb",
            region_name=config.region,
            endpoint_url=config.dynamodb_endpoint_url or config.endpoint_url,
            config=settings,
        )
        self._requests = 0

    def _call(self, client: Any, operation: str, **kwargs: Any) -> dict[str, Any]:
        self._requests += 1
        return dict(getattr(client, operation)(**kwargs))

    def _error(self, exc: Exception, context: str) -> DatasetError:
        error = classify(exc, f"{context} on Kinesis source {self.source_name}", KINESIS_HINTS)
        return SourceUnavailable(str(error)) if error.kind == ErrorKind.UNREACHABLE else error

    def describe(self, datasets: Sequence[DatasetConfig]) -> dict[str, TopicMeta | DatasetError]:
        result: dict[str, TopicMeta | DatasetError] = {}
        for dataset in datasets:
            stream = dataset.topic_name
            try:
                summary = self._call(self.kinesis, "describe_stream_summary", StreamName=stream)
            except Exception as exc:
                error = self._error(exc, f"describing stream {stream}")
                if isinstance(error, SourceUnavailable):
                    return {d.name: result.get(d.name, error) for d in datasets}
                result[dataset.name] = error
                continue
            info = summary["StreamDescriptionSummary"]
            result[dataset.name] = TopicMeta(
                int(info.get("OpenShardCount", 0)),
                {"shards": int(info.get("OpenShardCount", 0)), "stream_status": info.get("StreamStatus")},
            )
        return result

    def read(self, dataset: DatasetConfig, as_of: datetime, lookback_seconds: float) -> StreamReading:
        stream = dataset.topic_name
        try:
            return self._read(stream, dataset.consumer_group, as_of, lookback_seconds)
        except DatasetError:
            raise
        except Exception as exc:
            raise self._error(exc, f"reading stream {stream}") from None

    def _shards(self, stream: str) -> list[dict[str, Any]]:
        shards: list[dict[str, Any]] = []
        request: dict[str, Any] = {"StreamName": stream}
        while True:
            page = self._call(self.kinesis, "list_shards", **request)
            shards.extend(page.get("Shards", []))
            token = page.get("NextToken")
            if not token:
                return shards
            request = {"NextToken": token}

    def _read(self, stream: str, application: str | None, as_of: datetime, lookback: float) -> StreamReading:
        shards = self._shards(stream)
        open_ids = [s["ShardId"] for s in shards if "EndingSequenceNumber" not in s["SequenceNumberRange"]]
        leases = self._leases(application, stream) if application else {}
        since = as_of - timedelta(seconds=lookback)
        readings = []
        notes: list[str] = []
        for shard in shards:
            shard_id = shard["ShardId"]
            lease = leases.get(shard_id)
            checkpoint = lease.get("checkpoint") if lease else None
            if shard_id not in open_ids and checkpoint in (None, "SHARD_END"):
                continue  # a closed shard the application finished (or never needed)
            oldest, millis = (None, None)
            if application:
                if lease is None:
                    notes.append(f"no lease for shard {shard_id}: read from its oldest record")
                oldest, millis = self._position(stream, shard_id, checkpoint)
            newest, seen = self._newest(stream, shard_id, since)
            readings.append(
                PartitionReading(
                    partition=shard_id,
                    oldest_unconsumed_at=oldest,
                    newest_message_at=newest,
                    millis_behind=millis,
                )
            )
            if seen >= self.config.max_records:
                notes.append(f"shard {shard_id}: more than {self.config.max_records} records in the lookback")
        oldest_times = [r.oldest_unconsumed_at for r in readings if r.oldest_unconsumed_at is not None]
        newest_times = [r.newest_message_at for r in readings if r.newest_message_at is not None]
        caught_up = None
        if application:
            caught_up = not oldest_times and all((r.millis_behind or 0) == 0 for r in readings)
        owners = {lease.get("leaseOwner") for lease in leases.values() if lease.get("leaseOwner")}
        return StreamReading(
            platform=self.name,
            topic=stream,
            consumer_group=application,
            partitions=tuple(readings),
            oldest_unconsumed_at=min(oldest_times) if oldest_times else None,
            caught_up=caught_up,
            newest_message_at=max(newest_times) if newest_times else None,
            quiet_since=None if newest_times else since,
            consumers=len(owners) if application else None,
            requests=self._requests,
            notes=tuple(notes),
            extra={"enhanced_fan_out": self._fan_out(stream)},
        )

    def _leases(self, table: str, stream: str) -> dict[str, dict[str, str]]:
        """The application's lease table: shard id → {checkpoint, leaseOwner} (KCL's attribute names)."""
        leases: dict[str, dict[str, str]] = {}
        request: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
        try:
            while True:
                page = self._call(self.dynamodb, "scan", **request)
                for item in page.get("Items", []):
                    key = item.get("leaseKey", {}).get("S", "")
                    shard_id = key.rsplit(":", 1)[-1]  # multi-stream KCL keys end in the shard id
                    if ":" in key and stream not in key:
                        continue
                    leases[shard_id] = {k: v.get("S", v.get("N", "")) for k, v in item.items()}
                if not page.get("LastEvaluatedKey"):
                    return leases
                request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        except Exception as exc:
            error = self._error(exc, f"reading the lease table {table}")
            if error.kind == ErrorKind.MISSING:
                raise DatasetError(
                    f"lease table {table} not found: has the consumer application {table} ever run?",
                    ErrorKind.MISSING,
                ) from None
            raise error from None

    def _iterator(self, stream: str, shard_id: str, kind: str, **position: Any) -> str:
        answer = self._call(
            self.kinesis,
            "get_shard_iterator",
            StreamName=stream,
            ShardId=shard_id,
            ShardIteratorType=kind,
            **position,
        )
        return str(answer["ShardIterator"])

    def _position(
        self, stream: str, shard_id: str, checkpoint: str | None
    ) -> tuple[datetime | None, float | None]:
        """The first record after the checkpoint (its arrival time) and MillisBehindLatest there."""
        if checkpoint in (None, "TRIM_HORIZON"):
            iterator = self._iterator(stream, shard_id, "TRIM_HORIZON")
        elif checkpoint == "LATEST":
            return None, 0.0
        else:
            iterator = self._iterator(
                stream, shard_id, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=checkpoint
            )
        millis: float | None = None
        for page in self._pages(iterator, limit=1, max_pages=_EMPTY_PAGES):
            millis = float(page.get("MillisBehindLatest", 0))
            records = page.get("Records", [])
            if records:
                return as_utc(records[0]["ApproximateArrivalTimestamp"]), millis
            if not millis:
                break
        return None, millis

    def _newest(self, stream: str, shard_id: str, since: datetime) -> tuple[datetime | None, int]:
        """The newest record's arrival time among those after `since`, and how many were read."""
        iterator = self._iterator(stream, shard_id, "AT_TIMESTAMP", Timestamp=since)
        newest, seen = None, 0
        for page in self._pages(iterator, limit=_PAGE, max_pages=self.config.max_records // _PAGE + 1):
            records = page.get("Records", [])
            seen += len(records)
            if records:
                newest = as_utc(records[-1]["ApproximateArrivalTimestamp"])
            if not page.get("MillisBehindLatest") or seen >= self.config.max_records:
                break
        return newest, seen

    def _pages(self, iterator: str | None, *, limit: int, max_pages: int) -> Iterator[dict[str, Any]]:
        for _ in range(max_pages):
            if not iterator:
                return
            page = self._call(self.kinesis, "get_records", ShardIterator=iterator, Limit=limit)
            yield page
            iterator = page.get("NextShardIterator")

    def _fan_out(self, stream: str) -> list[dict[str, str]]:
        """Registered enhanced fan-out consumers and their status (empty where there are none)."""
        try:
            arn = self._call(self.kinesis, "describe_stream_summary", StreamName=stream)[
                "StreamDescriptionSummary"
            ]["StreamARN"]
            consumers = self._call(self.kinesis, "list_stream_consumers", StreamARN=arn).get("Consumers", [])
        except Exception:  # listing consumers needs its own permission; lag is read without it
            return []
        return [{"name": c["ConsumerName"], "status": c["ConsumerStatus"]} for c in consumers]

    def count_window(self, dataset: DatasetConfig, start: datetime, end: datetime) -> int:
        stream = dataset.topic_name
        try:
            total = 0
            for shard in self._shards(stream):
                iterator = self._iterator(stream, shard["ShardId"], "AT_TIMESTAMP", Timestamp=start)
                for page in self._pages(
                    iterator, limit=_PAGE, max_pages=self.config.max_records // _PAGE + 1
                ):
                    records = page.get("Records", [])
                    inside = [r for r in records if as_utc(r["ApproximateArrivalTimestamp"]) < end]  # type: ignore[operator]
                    total += len(inside)
                    if len(inside) < len(records) or not page.get("MillisBehindLatest"):
                        break
                    if total > self.config.max_records:
                        raise DatasetError(
                            f"stream {stream} has more than max_records={self.config.max_records} records "
                            f"between {start:%Y-%m-%d %H:%M} and {end:%Y-%m-%d %H:%M}; raise max_records",
                            ErrorKind.CONFIG,
                        )
            return total
        except DatasetError:
            raise
        except Exception as exc:
            raise self._error(exc, f"counting stream {stream}") from None
