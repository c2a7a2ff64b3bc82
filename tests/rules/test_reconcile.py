"""Reconciliation rules, pure: the window, the tolerance and the verdict's message."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from datahealth.config.models import ReconcileConfig
from datahealth.core.reconcile import SideCount
from datahealth.rules.reconcile import allowed_difference, judge, last_window


def test_the_window_is_the_last_complete_period_aligned_to_local_midnight() -> None:
    at = datetime(2026, 10, 20, 7, 30, tzinfo=UTC)
    day = last_window(timedelta(days=1), "UTC", at)
    assert (day.start, day.end, day.label) == (
        datetime(2026, 10, 19, tzinfo=UTC),
        datetime(2026, 10, 20, tzinfo=UTC),
        "2026-10-19",
    )
    hour = last_window(timedelta(hours=1), "UTC", at)
    assert (hour.start, hour.end) == (
        datetime(2026, 10, 20, 6, tzinfo=UTC),
        datetime(2026, 10, 20, 7, tzinfo=UTC),
    )
    # the day of the autumn clock change in Berlin has 25 hours
    berlin = last_window(timedelta(days=1), "Europe/Berlin", datetime(2026, 10, 26, 7, tzinfo=UTC))
    assert (berlin.start, berlin.end) == (
        datetime(2026, 10, 24, 22, tzinfo=UTC),
        datetime(2026, 10, 25, 23, tzinfo=UTC),
    )
    assert berlin.label == "2026-10-25 Europe/Berlin"


def test_tolerance_is_a_count_or_a_share_of_the_larger_side() -> None:
    assert allowed_difference("10", 5000) == 10
    assert allowed_difference("0.5%", 2000) == 10


def test_a_mismatch_names_both_sides_and_the_difference() -> None:
    spec = ReconcileConfig(against="stream.clicks", tolerance="1%")
    window = last_window(timedelta(days=1), "UTC", datetime(2026, 10, 20, 7, tzinfo=UTC))
    mine = SideCount("warehouse.events", 970, method="count over event_ts")
    theirs = SideCount("stream.clicks", 1000, method="kafka offsets", unit="messages")
    result = judge("warehouse.events", spec, window, mine, theirs, "error")
    assert (result.outcome, result.observed_value, result.name) == ("fail", -30.0, "reconcile stream.clicks")
    assert result.message == (
        "warehouse.events has 970 rows for 2026-10-19, stream.clicks 1,000 messages: 30 fewer (3.0%); tolerance 1%"
    )
    close = judge("warehouse.events", spec, window, SideCount("warehouse.events", 995), theirs, "error")
    assert close.outcome == "pass"
    warn = judge(
        "warehouse.events", spec.model_copy(update={"severity": "warn"}), window, mine, theirs, "error"
    )
    assert warn.outcome == "warn"


def test_a_key_column_can_fail_while_the_counts_agree() -> None:
    spec = ReconcileConfig(against="lake.orders", sum="amount", tolerance="0")
    window = last_window(timedelta(days=1), "UTC", datetime(2026, 10, 20, 7, tzinfo=UTC))
    result = judge(
        "warehouse.orders",
        spec,
        window,
        SideCount("warehouse.orders", 10, measure=990.0),
        SideCount("lake.orders", 10, measure=1000.0),
        "error",
    )
    assert result.outcome == "fail" and result.observed_value == -10.0
    assert result.name == "reconcile lake.orders sum(amount)" and "sum(amount) 990 vs 1,000" in result.message
