"""RabbitMQ: a queue's depth and consumers over AMQP, and its message ages and rates from the management API.

Over AMQP the only read-only question is a passive `queue.declare`: it answers the number of ready
messages and of consumers, and declares nothing (a missing queue is an error, never created). Reading a
message to learn its age would take it from the queue, so datahealth never does. When the management
plugin is enabled (`management_url`), one HTTP GET per queue adds unacknowledged messages, the
timestamp of the oldest message (`head_message_timestamp`, set when publishers stamp their messages) and
the cumulative publish and acknowledge counters the rules turn into rates and silent-producer verdicts.

`pika` is imported when a connection is opened, so the command line starts fast.
"""

from __future__ import annotations

import base64
import contextlib
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from datahealth.config.models import DatasetConfig, RabbitMqSourceConfig
from datahealth.core.errors import DatasetError, SourceUnavailable
from datahealth.core.redaction import redact
from datahealth.core.results import ErrorKind
from datahealth.engines.errors import ErrorHints, classify
from datahealth.engines.streams.base import (
    PartitionReading,
    StreamCapabilities,
    StreamEngine,
    StreamReading,
    TopicMeta,
)

RABBITMQ_HINTS: ErrorHints = {
    ErrorKind.MISSING: ("not_found", "no queue"),
    ErrorKind.PERMISSION: ("access_refused", "probableauthenticationerror", "authentication", "403"),
    ErrorKind.UNREACHABLE: ("amqpconnectionerror", "connection refused", "connectionclosed"),
}


class RabbitMqEngine(StreamEngine):
    name = "rabbitmq"
    title = "RabbitMQ"
    error_hints = RABBITMQ_HINTS

    def __init__(self, source_name: str, config: RabbitMqSourceConfig) -> None:
        self.source_name = source_name
        self.config = config
        managed = config.management_url is not None
        self.capabilities = StreamCapabilities(
            messages_behind=True,
            oldest_unconsumed_age=managed,
            newest_message_age=False,
            consumer_groups=False,
            window_counts=False,
            counters=managed,
        )
        self._connection: Any = None
        self._lock = threading.Lock()
        self._requests = 0

    # AMQP ---------------------------------------------------------------------------------------

    def _connect(self) -> Any:
        if self._connection is None or not self._connection.is_open:
            try:
                import pika
            except ImportError:
                raise DatasetError(
                    "RabbitMQ sources need pika: pip install 'datahealth[rabbitmq]'", ErrorKind.CONFIG
                ) from None
            parameters = pika.URLParameters(self.config.url)
            seconds = self.config.timeout.total_seconds()
            parameters.socket_timeout = seconds
            parameters.blocked_connection_timeout = seconds
            parameters.connection_attempts = 1
            parameters.client_properties = {"connection_name": "datahealth (read-only)"}
            try:
                self._connection = pika.BlockingConnection(parameters)
            except Exception as exc:
                error = classify(exc, f"cannot reach RabbitMQ source {self.source_name}", RABBITMQ_HINTS)
                message = str(error) if str(exc).strip() else f"{error}: {type(exc).__name__}"
                if error.kind == ErrorKind.PERMISSION:
                    raise DatasetError(message, ErrorKind.PERMISSION) from None
                raise SourceUnavailable(message) from None
        return self._connection

    def _passive(self, queue: str) -> tuple[int, int]:
        """(ready messages, consumers) of a queue, declaring nothing."""
        import pika.exceptions

        with self._lock:
            connection = self._connect()
            channel = connection.channel()
            self._requests += 1
            try:
                frame = channel.queue_declare(queue=queue, passive=True)
            except pika.exceptions.ChannelClosedByBroker as exc:
                raise classify(
                    exc, f"queue {queue} on {self.source_name}", RABBITMQ_HINTS
                ) from None  # the broker closed the channel; the connection stays usable
            finally:
                if channel.is_open:
                    channel.close()
            return int(frame.method.message_count), int(frame.method.consumer_count)

    def describe(self, datasets: Sequence[DatasetConfig]) -> dict[str, TopicMeta | DatasetError]:
        result: dict[str, TopicMeta | DatasetError] = {}
        for dataset in datasets:
            try:
                ready, consumers = self._passive(dataset.topic_name)
                result[dataset.name] = TopicMeta(1, {"messages_ready": ready, "consumers": consumers})
            except SourceUnavailable as exc:
                return {d.name: result.get(d.name, exc) for d in datasets}
            except DatasetError as exc:
                result[dataset.name] = exc
            except Exception as exc:
                result[dataset.name] = classify(exc, f"queue {dataset.topic_name}", RABBITMQ_HINTS)
        return result

    def read(self, dataset: DatasetConfig, as_of: datetime, lookback_seconds: float) -> StreamReading:
        queue = dataset.topic_name
        try:
            ready, consumers = self._passive(queue)
            managed = self._management(queue) if self.config.management_url else None
        except DatasetError:
            raise
        except Exception as exc:
            raise classify(exc, f"reading queue {queue} on {self.source_name}", RABBITMQ_HINTS) from None
        notes: list[str] = []
        behind, oldest, produced, consumed = ready, None, None, None
        extra: dict[str, Any] = {"messages_ready": ready}
        if managed is not None:
            unacked = int(managed.get("messages_unacknowledged") or 0)
            behind = int(managed.get("messages_ready", ready) or 0) + unacked
            extra["messages_unacknowledged"] = unacked
            head = managed.get("head_message_timestamp")
            oldest = datetime.fromtimestamp(float(head), UTC) if isinstance(head, int | float) else None
            if oldest is None and behind:
                notes.append("publishers do not set message timestamps: the oldest message's age is unknown")
            stats = managed.get("message_stats") or {}
            produced = _int(stats.get("publish"))
            consumed = (
                _int(stats.get("ack")) if stats.get("ack") is not None else _int(stats.get("deliver_get"))
            )
        else:
            notes.append("message ages need the management API (management_url)")
        return StreamReading(
            platform=self.name,
            topic=queue,
            consumer_group=None,
            partitions=(PartitionReading(partition="queue", behind=behind, oldest_unconsumed_at=oldest),),
            messages_behind=behind,
            oldest_unconsumed_at=oldest,
            caught_up=behind == 0,
            produced_total=produced,
            consumed_total=consumed,
            consumers=consumers,
            requests=self._requests,
            notes=tuple(notes),
            extra=extra,
        )

    # management API -----------------------------------------------------------------------------

    def _management(self, queue: str) -> dict[str, Any]:
        """GET /api/queues/<vhost>/<queue> with the AMQP URL's credentials."""
        parsed = urllib.parse.urlsplit(self.config.url)
        vhost = urllib.parse.unquote(parsed.path[1:]) if len(parsed.path) > 1 else "/"
        user = urllib.parse.unquote(parsed.username or "guest")
        password = urllib.parse.unquote(parsed.password or "guest")
        base = (self.config.management_url or "").rstrip("/")
        url = f"{base}/api/queues/{urllib.parse.quote(vhost, safe='')}/{urllib.parse.quote(queue, safe='')}"
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
        self._requests += 1
        try:
            with urllib.request.urlopen(request, timeout=self.config.timeout.total_seconds()) as response:  # noqa: S310 - configured http(s) URL
                return dict(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            kind = {404: ErrorKind.MISSING, 401: ErrorKind.PERMISSION, 403: ErrorKind.PERMISSION}.get(
                exc.code, ErrorKind.QUERY
            )
            raise DatasetError(
                redact(f"RabbitMQ management API {base} answered HTTP {exc.code} for queue {queue}"), kind
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DatasetError(
                redact(f"cannot reach the RabbitMQ management API at {base}: {reason}"), ErrorKind.UNREACHABLE
            ) from None

    def close(self) -> None:
        with self._lock:
            if self._connection is not None and self._connection.is_open:
                with contextlib.suppress(Exception):  # closing a broken connection must not fail the run
                    self._connection.close()
            self._connection = None


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
