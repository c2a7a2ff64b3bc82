"""Stream SLAs: is the consumer keeping up, and is the producer still producing? Pure, no I/O.

A stream observation carries what the engine read (`details["stream"]`, see `engines/streams/base.py`);
this module judges it against the dataset's stream SLA and the previous observation:

- **the consumer** (`max_lag`: age of the oldest message not yet processed; `max_messages_behind`): one
  finding, `stream.consumer`, whatever limit broke, because one stuck consumer is one problem. Its cause
  is named from what the history shows: *has no active consumer* (no members), *is stalled* (its
  committed position has not moved since the previous run while messages wait) or *is falling behind*;
  a change of cause is a change of the incident;
- **the producer** (`silent_after`): `stream.silent` when nothing was produced for that long, judged
  from the newest message's time, from "nothing since" (a bounded search), or from the produced counter
  not moving across runs (RabbitMQ's management API);
- **rates**: messages produced and consumed per second between the previous observation and this one.

Both findings are freshness findings (stream lag is how late data is), so they resolve the way
freshness incidents do: on the first run that measured them and found them within the SLA.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from datahealth.config.models import CountLevels, DatasetConfig, DurationLevels
from datahealth.core.durations import format_duration
from datahealth.core.results import Observation, StoredObservation
from datahealth.rules.findings import Finding, FindingKind

CONSUMER_SUBJECT = "stream.consumer"
SILENT_SUBJECT = "stream.silent"


def stream_details(details: dict[str, Any] | None) -> dict[str, Any] | None:
    """The stream reading inside an observation's details (None for tables and files)."""
    value = (details or {}).get("stream")
    return value if isinstance(value, dict) else None


def is_stream(observation: Observation | StoredObservation) -> bool:
    return stream_details(observation.details) is not None


@dataclass(frozen=True)
class Rates:
    """Messages per second between two observations (None where a counter is unknown or went back)."""

    produced_per_second: float | None = None
    consumed_per_second: float | None = None
    seconds: float | None = None


def rates(
    current: dict[str, Any], at: datetime, previous: dict[str, Any] | None, before: datetime | None
) -> Rates:
    if previous is None or before is None or at <= before:
        return Rates()
    seconds = (at - before).total_seconds()

    def rate(key: str) -> float | None:
        now, then = current.get(key), previous.get(key)
        if not isinstance(now, int) or not isinstance(then, int) or now < then:
            return None
        return (now - then) / seconds

    return Rates(rate("produced_total"), rate("consumed_total"), seconds)


@dataclass
class StreamVerdict:
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    complete: bool = True  # every configured limit could be measured (only then may incidents resolve)
    rates: Rates = field(default_factory=Rates)


def evaluate_stream(
    dataset: DatasetConfig, observation: Observation, past: Sequence[StoredObservation], as_of: datetime
) -> StreamVerdict:
    """The stream's findings at `as_of`; `past` are earlier observations of the same dataset."""
    reading = stream_details(observation.details) or {}
    earlier = sorted(
        (o for o in past if o.error is None and is_stream(o) and o.as_of < as_of), key=lambda o: o.as_of
    )
    previous = earlier[-1] if earlier else None
    verdict = StreamVerdict()
    verdict.notes.extend(str(n) for n in reading.get("notes", []))
    verdict.rates = rates(
        reading,
        as_of,
        stream_details(previous.details) if previous else None,
        previous.as_of if previous else None,
    )
    sla = dataset.sla
    if sla is None:
        return verdict
    consumer = _consumer(dataset, reading, previous, verdict)
    if consumer is not None:
        verdict.findings.append(consumer)
    silent = _silent(dataset, reading, earlier, as_of, verdict)
    if silent is not None:
        verdict.findings.append(silent)
    return verdict


def _level(
    value: float | None, levels: DurationLevels | CountLevels | None, *, inclusive: bool = False
) -> tuple[str, float | None]:
    """("error" | "warn" | "ok", the limit that broke). `inclusive`: reaching the limit breaks it (a
    search that found nothing in the whole `silent_after` span has seen silence for all of it)."""
    if levels is None or value is None:
        return "ok", None

    def beyond(limit: float | None) -> bool:
        return limit is not None and (value >= limit if inclusive else value > limit)

    error = _seconds(levels.error)
    warn = _seconds(levels.warn)
    if beyond(error):
        return "error", error
    if beyond(warn):
        return "warn", warn
    return "ok", None


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)


_RANK = {"ok": 0, "warn": 1, "error": 2}
_NOUNS = {"kafka": "topic", "kinesis": "stream", "rabbitmq": "queue"}


def _consumer(
    dataset: DatasetConfig,
    reading: dict[str, Any],
    previous: StoredObservation | None,
    verdict: StreamVerdict,
) -> Finding | None:
    sla = dataset.sla
    assert sla is not None
    if sla.max_lag is None and sla.max_messages_behind is None:
        return None
    lag = _number(reading.get("lag_seconds"))
    behind = _number(reading.get("messages_behind"))
    if sla.max_lag is not None and lag is None:
        verdict.complete = False
        verdict.notes.append("max_lag: the age of the oldest unprocessed message is unknown")
    if sla.max_messages_behind is not None and behind is None:
        verdict.complete = False
        verdict.notes.append("max_messages_behind: the number of messages waiting is unknown")
    lag_level, lag_limit = _level(lag, sla.max_lag)
    count_level, count_limit = _level(behind, sla.max_messages_behind)
    level = max(lag_level, count_level, key=_RANK.__getitem__)
    if level == "ok":
        return None
    group = reading.get("consumer_group")
    cause = _cause(reading, previous)
    noun = _NOUNS.get(str(reading.get("platform")), "topic")
    if group:
        who = f"consumer group {group} {cause}"
    elif cause == "has no active consumer":
        who = f"{noun} {reading.get('topic')} has no active consumer"
    else:
        who = f"the consumers of {noun} {reading.get('topic')} are {cause.removeprefix('is ')}"
    waiting = []
    if behind is not None:
        waiting.append(f"{int(behind):,} messages waiting")
    if lag is not None:
        waiting.append(f"the oldest {format_duration(lag)} old")
    title = f"{dataset.name}: {who}" + (f": {', '.join(waiting)}" if waiting else "")
    observed, expected = [], []
    if sla.max_lag is not None:
        observed.append(f"lag {format_duration(lag) if lag is not None else 'unknown'}")
        expected.append(f"lag < {format_duration(_seconds(sla.max_lag.error or sla.max_lag.warn))}")
    if sla.max_messages_behind is not None:
        observed.append(f"{int(behind):,} behind" if behind is not None else "behind unknown")
        limit = (
            sla.max_messages_behind.error
            if sla.max_messages_behind.error is not None
            else sla.max_messages_behind.warn
        )
        expected.append(f"< {limit:,} behind")
    broke = "max_lag" if _RANK[lag_level] >= _RANK[count_level] else "max_messages_behind"
    consumers = reading.get("consumers")
    message_parts = [f"{reading.get('platform')} {reading.get('topic')}"]
    if isinstance(consumers, int):
        message_parts.append(f"{consumers} active consumer{'s' if consumers != 1 else ''}")
    if verdict.rates.consumed_per_second is not None:
        message_parts.append(f"consumed {verdict.rates.consumed_per_second:.3g}/s since the last run")
    if verdict.rates.produced_per_second is not None:
        message_parts.append(f"produced {verdict.rates.produced_per_second:.3g}/s")
    return Finding(
        dataset.name,
        FindingKind.FRESHNESS,
        CONSUMER_SUBJECT,
        dataset.severity if level == "error" else "warn",
        title,
        "; ".join(message_parts) + f"; SLA {broke} broken",
        observed=", ".join(observed),
        expected=", ".join(expected),
        details={
            "lag_seconds": lag,
            "messages_behind": behind,
            "limit": broke,
            "limit_seconds": lag_limit if broke == "max_lag" else None,
            "limit_messages": count_limit if broke == "max_messages_behind" else None,
            "consumers": consumers,
            "cause": cause,
            "produced_per_second": verdict.rates.produced_per_second,
            "consumed_per_second": verdict.rates.consumed_per_second,
            "change_key": cause,
        },
    )


def _cause(reading: dict[str, Any], previous: StoredObservation | None) -> str:
    if reading.get("consumers") == 0:
        return "has no active consumer"
    before = stream_details(previous.details) if previous else None
    now_consumed = reading.get("consumed_total")
    if before is not None and isinstance(now_consumed, int) and before.get("consumed_total") == now_consumed:
        return "is stalled"
    return "is falling behind"


def _silent(
    dataset: DatasetConfig,
    reading: dict[str, Any],
    earlier: Sequence[StoredObservation],
    as_of: datetime,
    verdict: StreamVerdict,
) -> Finding | None:
    sla = dataset.sla
    assert sla is not None
    if sla.silent_after is None:
        return None
    newest = _time(reading.get("newest_message_at"))
    quiet_since = _time(reading.get("quiet_since"))
    at_least = False
    if newest is not None:
        since = newest
    elif quiet_since is not None:
        since, at_least = quiet_since, True
    else:
        changed = _unchanged_since(reading.get("produced_total"), earlier)
        if changed is None:
            verdict.complete = False
            verdict.notes.append("silent_after: when the newest message was produced is not known yet")
            return None
        since, at_least = changed, True
    quiet = max(0.0, (as_of - since).total_seconds())
    level, limit = _level(quiet, sla.silent_after, inclusive=at_least)
    if level == "ok":
        return None
    span = ("at least " if at_least else "") + format_duration(quiet)
    return Finding(
        dataset.name,
        FindingKind.FRESHNESS,
        SILENT_SUBJECT,
        dataset.severity if level == "error" else "warn",
        f"{dataset.name}: no message produced to {reading.get('topic')} for {span}",
        (
            f"newest message {newest:%Y-%m-%d %H:%M:%S} UTC"
            if newest
            else f"nothing produced since {since:%Y-%m-%d %H:%M} UTC"
        )
        + f"; SLA silent_after: < {format_duration(limit)}",
        observed=span,
        expected=f"< {format_duration(limit)}",
        details={
            "silent_seconds": quiet,
            "lag_seconds": quiet,
            "limit": "silent_after",
            "limit_seconds": limit,
            "newest_message_at": newest.isoformat() if newest else None,
            "change_key": "silent",
        },
    )


def _unchanged_since(total: Any, earlier: Sequence[StoredObservation]) -> datetime | None:
    """The oldest run of the unbroken series of runs, back from now, that saw the produced counter at
    `total`: nothing was produced since at least then (None when no earlier run saw the same count)."""
    if not isinstance(total, int):
        return None
    since = None
    for observation in reversed(earlier):
        if (stream_details(observation.details) or {}).get("produced_total") != total:
            break
        since = observation.as_of
    return since


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None
