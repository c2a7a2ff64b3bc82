"""The demo's Kafka topic: the clickstream the website produces, which the lake loader consumes.

`datahealth demo` runs without a broker, so after each simulated day it records what a Kafka cluster
would answer about the `clickstream` topic at monitoring time (`demo/streams/kafka.json`, read by the
Kafka engine through `replay:`; format in `engines/streams/replay.py`):

- every activity day's clicks are produced through that day, spread evenly over three partitions, and
  the current day's clicks up to monitoring time too; a week of retention keeps the file small;
- the `lake-loader` group consumes as they arrive and is about 20 seconds behind when the monitor looks,
  except on the `consumer_stalls` day, when the loader crashed at 03:10 and nobody consumes;
- the lake partition the loader writes each night is what `lake.clickstream` reconciles against the
  topic; on the `events_dropped` day the load loses 3 % of the events (`platform.py`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Protocol

from datahealth.engines.streams.replay import FORMAT, Segment

TOPIC = "clickstream"
GROUP = "lake-loader"
PARTITIONS = 3
RETENTION = timedelta(days=7)
CONSUMER_DELAY = timedelta(seconds=20)  # how far behind a healthy loader is
STALLED_AT = time(3, 10)  # when the loader crashed on the stall day
MONITOR_DELAY = timedelta(hours=2)  # the demo monitors each day this long after the loads land


class Platform(Protocol):
    def clicks(self, day: int) -> int: ...
    def activity_window(self, day: int) -> tuple[datetime, datetime]: ...
    def load_time(self, day: int) -> datetime: ...


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _split(count: int) -> list[int]:
    return [count // PARTITIONS + (1 if p < count % PARTITIONS else 0) for p in range(PARTITIONS)]


def recording(
    platform: Platform, day: int, *, stalled: bool, observed_at: datetime | None = None
) -> dict[str, Any]:
    """What the cluster says about the topic when the monitor looks at simulated day `day` (by default
    `MONITOR_DELAY` after the day's loads land; the demo's last day is looked at when the demo runs)."""
    observed_at = _utc(observed_at) if observed_at else _utc(platform.load_time(day)) + MONITOR_DELAY
    today = observed_at.replace(hour=0, minute=0, second=0, microsecond=0)
    spans: list[tuple[datetime, datetime, int]] = []
    for past in range(day + 1):
        start, end = (_utc(t) for t in platform.activity_window(past))
        spans.append((start, end, platform.clicks(past)))
    share = (observed_at - today) / timedelta(days=1)
    spans.append((today, observed_at, round(platform.clicks(day + 1) * share)))
    partitions: list[dict[str, Any]] = []
    committed: list[int] = []
    consumed_up_to = (
        datetime.combine(today.date(), STALLED_AT, UTC) if stalled else observed_at - CONSUMER_DELAY
    )
    for p in range(PARTITIONS):
        first, low, segments = 0, 0, []
        for start, end, count in spans:
            n = _split(count)[p]
            if n and end > observed_at - RETENTION:
                segments.append(Segment(first, n, start, end))
            elif n:
                low = first + n  # deleted by retention
            first += n
        partitions.append({"low": low, "segments": [s.to_dict() for s in segments]})
        committed.append(_position(segments, consumed_up_to, first))
    return {
        "format": FORMAT,
        "recorded_at": observed_at.isoformat(),
        "topics": {TOPIC: {"partitions": partitions}},
        "groups": {
            GROUP: {
                "state": "empty" if stalled else "stable",
                "members": 0 if stalled else 2,
                "offsets": {TOPIC: committed},
            }
        },
    }


def _position(segments: list[Segment], up_to: datetime, end: int) -> int:
    """The first offset produced at or after `up_to`: everything before it is consumed."""
    for segment in segments:
        offset = segment.first_at(up_to)
        if offset < segment.after:
            return offset
    return end


def write_recording(
    path: Path, platform: Platform, day: int, *, stalled: bool, observed_at: datetime | None = None
) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(recording(platform, day, stalled=stalled, observed_at=observed_at), indent=1))
    return path
