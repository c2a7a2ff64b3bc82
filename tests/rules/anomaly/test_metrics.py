"""Which metrics are judged and how: rows added vs row count, zero volume, load gates, column profiles,
and the findings they raise."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from datahealth.rules.anomaly.detector import DetectorSettings, Point
from datahealth.rules.anomaly.metrics import (
    ColumnPoint,
    anomaly_finding,
    is_accumulating,
    judge_column,
    judge_volume,
    per_period,
)
from tests.rules.anomaly.series import ROWS, START, growing_table


def test_per_period_pairs_runs_about_one_period_apart() -> None:
    counts = [Point(START + timedelta(hours=6 * i), 100.0 * i) for i in range(12)]  # 4 runs a day
    deltas = per_period(counts, timedelta(days=1))
    assert deltas[:2] == [None, None]  # no run about a day earlier yet (half a day is the minimum)
    assert deltas[4] is not None and deltas[4].value == pytest.approx(400.0)
    assert (
        is_accumulating([1, 2, 2, 3, 5])
        and not is_accumulating([5, 5, 5])
        and not is_accumulating([3, 1, 4, 1])
    )


def test_volume_judges_rows_added_per_period() -> None:
    rng = random.Random(9)
    history = growing_table(30, lambda d, at: 500 * rng.uniform(0.95, 1.05))
    current = Point(history[-1].at + timedelta(days=1), history[-1].value + 200)
    item = judge_volume(history, current, ROWS)
    assert item is not None and item.metric == "rows_added" and item.judgement.is_anomaly
    finding = anomaly_finding("warehouse.orders", item, "warn")
    assert finding.subject == "volume" and finding.observed == "200" and finding.details["history"]
    assert "rows added 200 in the last 1d is a drop" in finding.title
    assert finding.details["expected_range"] == [item.judgement.low, item.judgement.high]


def test_zero_volume_is_flagged_when_loads_are_regular() -> None:
    history = growing_table(20, lambda d, at: 3.0)  # a tiny table: 3 rows a day, the band alone includes 0
    item = judge_volume(history, Point(history[-1].at + timedelta(days=1), history[-1].value), ROWS)
    assert item is not None and item.zero_volume and item.judgement.direction == "drop"
    assert "no new rows in the last 1d" in anomaly_finding("lake.tiny", item, "warn").title


def test_expected_gaps_are_not_zero_volume() -> None:
    weekdays_only = growing_table(35, lambda d, at: 0.0 if at.weekday() >= 5 else 300.0)
    saturday = next(p for p in weekdays_only[28:] if p.at.weekday() == 5)
    index = weekdays_only.index(saturday)
    item = judge_volume(weekdays_only[:index], saturday, ROWS)
    assert item is not None and not item.judgement.is_anomaly and not item.zero_volume
    # no load was due (schedule), so a weekday's missing rows are not judged as a drop either
    tuesday = next(i for i in range(28, 35) if weekdays_only[i].at.weekday() == 1)
    missing = Point(weekdays_only[tuesday].at, weekdays_only[tuesday - 1].value)
    assert judge_volume(weekdays_only[:tuesday], missing, ROWS).judgement.is_anomaly  # type: ignore[union-attr]
    gated = judge_volume(weekdays_only[:tuesday], missing, ROWS, load_due=False)
    assert gated is not None and not gated.judgement.is_anomaly and "no load was due" in gated.judgement.note


def test_emptied_table_is_flagged_without_training() -> None:
    history = [Point(START, 50.0), Point(START + timedelta(days=1), 60.0)]
    item = judge_volume(history, Point(START + timedelta(days=2), 0.0), ROWS)
    assert item is not None and item.judgement.is_anomaly and item.metric == "row_count"


def test_full_refresh_table_is_judged_on_its_row_count() -> None:
    rng = random.Random(3)
    history = [Point(START + timedelta(days=d), 10_000 * rng.uniform(0.99, 1.01)) for d in range(20)]
    item = judge_volume(history, Point(START + timedelta(days=20), 5_000.0), ROWS)
    assert item is not None and item.metric == "row_count" and item.judgement.is_anomaly


def test_windowed_null_ratio_spike_then_back_to_normal() -> None:
    history = [
        ColumnPoint(START + timedelta(days=d), 20_000, 0, 0.0, 19_000, windowed=True) for d in range(18)
    ]
    spike = ColumnPoint(START + timedelta(days=18), 20_000, 600, 0.03, 19_000, windowed=True)
    items = {i.metric: i for i in judge_column("customer_id", history, spike, DetectorSettings())}
    assert (
        items["null_ratio"].judgement.is_anomaly
        and items["null_ratio"].subject == "column.customer_id.null_ratio"
    )
    assert not items["distinct_count"].judgement.is_anomaly
    normal = ColumnPoint(START + timedelta(days=19), 20_000, 0, 0.0, 19_000, windowed=True)
    after = judge_column("customer_id", [*history, spike], normal, DetectorSettings())
    assert not any(i.judgement.is_anomaly for i in after)


def test_empty_windows_are_not_training_for_column_metrics() -> None:
    """A closed day (no rows in the window) must not teach the same weekday to expect zero values."""
    history = [
        ColumnPoint(
            START + timedelta(days=d), 0 if d % 7 == 3 else 140, 0, None, 0 if d % 7 == 3 else 30, True
        )
        for d in range(28)
    ]
    reopened = ColumnPoint(START + timedelta(days=31), 140, 0, 0.0, 30, windowed=True)  # the same weekday
    items = {i.metric: i for i in judge_column("name", history, reopened, DetectorSettings())}
    assert not items["distinct_count"].judgement.is_anomaly
    assert all(p.value > 0 for p in items["distinct_count"].judgement.training)


def test_whole_table_profiles_judge_the_rows_added() -> None:
    """3 % nulls in one day's rows barely move a month-old table's ratio; the added rows' ratio shows it."""
    points = [
        ColumnPoint(START + timedelta(days=d), 20_000 * (d + 1), 0, 0.0, 20_000 * (d + 1)) for d in range(30)
    ]
    bad = ColumnPoint(START + timedelta(days=30), 20_000 * 31, 600, 600 / (20_000 * 31), 20_000 * 31)
    items = {i.metric: i for i in judge_column("customer_id", points, bad, DetectorSettings())}
    assert items["null_ratio_added"].judgement.is_anomaly
    assert items["null_ratio_added"].judgement.observed == pytest.approx(0.03)
    assert (
        items["distinct_added"].metric == "distinct_added"
        and not items["distinct_added"].judgement.is_anomaly
    )
