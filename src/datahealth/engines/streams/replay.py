"""A recorded Kafka cluster: the answers a broker would give, read from a JSON file instead of the wire.

`datahealth demo` has no broker to talk to, so it records what one would say about its clickstream topic
after each simulated day, and the Kafka engine reads that recording (`replay:` on a Kafka source)
through exactly the same lag, age and window arithmetic as a live cluster. The file is small because a
partition's messages are written as segments of evenly spaced timestamps:

```json
{"format": "datahealth-kafka-recording/1",
 "topics": {"clickstream": {"partitions": [
     {"low": 0, "segments": [{"first": 0, "count": 1200, "start": "2026-10-01T00:00:00+00:00",
                              "end": "2026-10-02T00:00:00+00:00"}]}]}},
 "groups": {"lake-loader": {"state": "stable", "members": 1, "offsets": {"clickstream": [1150]}}}}
```

Message `first + i` of a segment carries the timestamp `start + (i + ½)·(end − start)/count`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from datahealth.core.errors import DatasetError
from datahealth.core.results import ErrorKind, as_utc

FORMAT = "datahealth-kafka-recording/1"


@dataclass(frozen=True)
class Segment:
    """`count` messages from offset `first` with timestamps evenly spread over [start, end)."""

    first: int
    count: int
    start: datetime
    end: datetime

    @property
    def after(self) -> int:
        return self.first + self.count

    def timestamp(self, offset: int) -> datetime:
        step = (self.end - self.start) / self.count
        return self.start + step * (offset - self.first + 0.5)

    def first_at(self, at: datetime) -> int:
        """The first offset of this segment whose timestamp is at or after `at` (`after` if none)."""
        if at <= self.timestamp(self.first):
            return self.first
        span = (self.end - self.start).total_seconds()
        guess = self.first + math.ceil((at - self.start).total_seconds() / span * self.count - 0.5)
        guess = min(max(guess, self.first), self.after)
        while guess > self.first and self.timestamp(guess - 1) >= at:
            guess -= 1
        while guess < self.after and self.timestamp(guess) < at:
            guess += 1
        return guess

    def to_dict(self) -> dict[str, Any]:
        return {
            "first": self.first,
            "count": self.count,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
        }


@dataclass(frozen=True)
class RecordedPartition:
    low: int
    segments: tuple[Segment, ...]

    @property
    def high(self) -> int:
        return self.segments[-1].after if self.segments else self.low


def load_recording(path: Path) -> dict[str, Any]:
    """The recording as plain data; a missing or malformed file is a clear error for the source."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise DatasetError(f"Kafka recording {path} does not exist", ErrorKind.MISSING) from None
    except (OSError, ValueError) as exc:
        raise DatasetError(f"Kafka recording {path} cannot be read: {exc}", ErrorKind.CORRUPT) from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise DatasetError(f"{path} is not a Kafka recording (format {FORMAT})", ErrorKind.CORRUPT)
    return data


def parse_partition(raw: dict[str, Any]) -> RecordedPartition:
    segments = tuple(
        Segment(
            int(s["first"]),
            int(s["count"]),
            as_utc(datetime.fromisoformat(s["start"])),  # type: ignore[arg-type]
            as_utc(datetime.fromisoformat(s["end"])),  # type: ignore[arg-type]
        )
        for s in raw.get("segments", [])
        if int(s["count"]) > 0
    )
    return RecordedPartition(int(raw.get("low", 0)), segments)


class ReplayKafkaClient:
    """Answers `KafkaClient` questions from a recording, re-read on every request (it may be rewritten)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._requests = 0

    @property
    def requests(self) -> int:
        return self._requests

    def _data(self) -> dict[str, Any]:
        self._requests += 1
        return load_recording(self.path)

    def _partitions(self, topic: str) -> list[RecordedPartition]:
        raw = self._data().get("topics", {}).get(topic)
        if raw is None:
            raise DatasetError(f"topic {topic} is not in the recording {self.path.name}", ErrorKind.MISSING)
        return [parse_partition(p) for p in raw.get("partitions", [])]

    def partitions(self, topics: Sequence[str]) -> dict[str, int | None]:
        recorded = self._data().get("topics", {})
        return {t: len(recorded[t].get("partitions", [])) if t in recorded else None for t in topics}

    def watermarks(self, topic: str, partitions: Sequence[int]) -> dict[int, tuple[int, int]]:
        recorded = self._partitions(topic)
        return {p: (recorded[p].low, recorded[p].high) for p in partitions}

    def committed(self, group: str, topic: str, partitions: Sequence[int]) -> dict[int, int | None]:
        offsets = self._data().get("groups", {}).get(group, {}).get("offsets", {}).get(topic, [])
        return {
            p: (int(offsets[p]) if p < len(offsets) and offsets[p] is not None else None) for p in partitions
        }

    def group(self, group: str) -> tuple[str | None, int | None]:
        recorded = self._data().get("groups", {}).get(group)
        if recorded is None:
            return None, 0
        return recorded.get("state"), int(recorded.get("members", 0))

    def timestamps(self, topic: str, positions: Mapping[int, int]) -> dict[int, datetime | None]:
        recorded = self._partitions(topic)
        found: dict[int, datetime | None] = {}
        for p, offset in positions.items():
            segment = next((s for s in recorded[p].segments if s.first <= offset < s.after), None)
            found[p] = None if segment is None else segment.timestamp(offset)
        return found

    def offsets_for_time(self, topic: str, partitions: Sequence[int], at: datetime) -> dict[int, int]:
        recorded = self._partitions(topic)
        answer = {}
        for p in partitions:
            partition = recorded[p]
            answer[p] = next(
                (s.first_at(at) for s in partition.segments if s.first_at(at) < s.after), partition.high
            )
        return answer

    def close(self) -> None:
        pass


def even_segment(first: int, count: int, start: datetime, span: timedelta) -> Segment:
    """A segment of `count` messages from offset `first`, spread evenly over `span` from `start`."""
    return Segment(first, count, start, start + span)
