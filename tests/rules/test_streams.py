"""Stream SLA rules, pure: levels, causes from history, silence from times, searches and counters, rates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from datahealth.config.models import DatasetConfig
from datahealth.core.results import Observation, Status, StoredObservation
from datahealth.rules.streams import CONSUMER_SUBJECT, SILENT_SUBJECT, evaluate_stream, rates

AT = datetime(2026, 10, 20, 7, 30, tzinfo=UTC)


def dataset(sla: dict[str, Any], severity: str = "error") -> DatasetConfig:
    return DatasetConfig.model_validate({"name": "events.clicks", "sla": sla, "severity": severity})


def observation(**stream: Any) -> Observation:
    reading = {"platform": "kafka", "topic": "clicks", "consumer_group": "loader", **stream}
    return Observation("events.clicks", "events", AT, AT, details={"stream": reading})


def stored(at: datetime, **stream: Any) -> StoredObservation:
    reading = {"platform": "kafka", "topic": "clicks", "consumer_group": "loader", **stream}
    return StoredObservation(
        1,
        "r",
        "events.clicks",
        "events",
        at,
        Status.OK,
        None,
        None,
        None,
        (),
        0,
        None,
        None,
        {"stream": reading},
    )


def test_lag_levels_warn_then_error_with_the_dataset_severity() -> None:
    rule = dataset({"max_lag": {"warn": "5m", "error": "15m"}}, severity="warn")
    assert (
        evaluate_stream(rule, observation(lag_seconds=299, messages_behind=3, consumers=1), [], AT).findings
        == []
    )
    [warn] = evaluate_stream(
        rule, observation(lag_seconds=301, messages_behind=3, consumers=1), [], AT
    ).findings
    assert (warn.subject, warn.severity, warn.expected) == (CONSUMER_SUBJECT, "warn", "lag < 15m")
    assert (
        evaluate_stream(dataset({"max_lag": "15m"}), observation(lag_seconds=901, consumers=1), [], AT)
        .findings[0]
        .severity
        == "error"
    )


def test_the_cause_comes_from_members_and_from_whether_the_position_moved() -> None:
    rule = dataset({"max_messages_behind": 10})
    before = [stored(AT - timedelta(minutes=1), consumed_total=100, produced_total=120)]
    none = evaluate_stream(rule, observation(messages_behind=50, consumers=0, consumed_total=100), before, AT)
    stalled = evaluate_stream(
        rule, observation(messages_behind=50, consumers=2, consumed_total=100), before, AT
    )
    behind = evaluate_stream(
        rule, observation(messages_behind=50, consumers=2, consumed_total=130), before, AT
    )
    assert [v.findings[0].details["cause"] for v in (none, stalled, behind)] == [
        "has no active consumer",
        "is stalled",
        "is falling behind",
    ]
    assert stalled.findings[0].title == "events.clicks: consumer group loader is stalled: 50 messages waiting"
    assert (
        behind.rates.consumed_per_second == 0.5
        and behind.findings[0].details["change_key"] == "is falling behind"
    )


def test_an_unknown_lag_is_no_verdict_and_keeps_incidents_open() -> None:
    verdict = evaluate_stream(dataset({"max_lag": "15m"}), observation(lag_seconds=None, consumers=1), [], AT)
    assert verdict.findings == [] and verdict.complete is False
    assert "max_lag: the age of the oldest unprocessed message is unknown" in verdict.notes


def test_silence_from_the_newest_message_a_bounded_search_or_the_produced_counter() -> None:
    rule = dataset({"silent_after": "10m"})
    [exact] = evaluate_stream(
        rule, observation(newest_message_at=(AT - timedelta(minutes=12)).isoformat()), [], AT
    ).findings
    assert (exact.subject, exact.observed) == (SILENT_SUBJECT, "12m")
    searched = observation(newest_message_at=None, quiet_since=(AT - timedelta(minutes=10)).isoformat())
    [at_least] = evaluate_stream(rule, searched, [], AT).findings  # nothing in the whole 10 minutes searched
    assert at_least.observed == "at least 10m"
    history = [stored(AT - timedelta(minutes=m), produced_total=500) for m in (20, 14, 7)]
    [counter] = evaluate_stream(rule, observation(produced_total=500), history, AT).findings
    assert counter.observed == "at least 20m"  # every run for 20 minutes saw the same count
    changed = [
        stored(AT - timedelta(minutes=20), produced_total=400),
        stored(AT - timedelta(minutes=12), produced_total=500),
    ]
    [since_change] = evaluate_stream(rule, observation(produced_total=500), changed, AT).findings
    assert since_change.observed == "at least 12m"
    moving = [stored(AT - timedelta(minutes=5), produced_total=400)]
    assert evaluate_stream(rule, observation(produced_total=500), moving, AT).findings == []
    unknown = evaluate_stream(rule, observation(produced_total=500), [], AT)
    assert unknown.findings == [] and unknown.complete is False


def test_rates_need_two_counters_that_did_not_go_back() -> None:
    later = AT + timedelta(seconds=100)
    both = rates(
        {"produced_total": 300, "consumed_total": 250},
        later,
        {"produced_total": 100, "consumed_total": 250},
        AT,
    )
    assert (both.produced_per_second, both.consumed_per_second) == (2.0, 0.0)
    assert (
        rates({"produced_total": 5}, later, {"produced_total": 100}, AT).produced_per_second is None
    )  # recreated topic
    assert rates({"produced_total": 5}, later, None, None).produced_per_second is None
