"""The anomaly detector on synthetic series: seasonal, trending, noisy, spikes, cold start, weekends, DST days.

Series are seeded, so every assertion is deterministic; false-alarm checks run a detector over many
clean points and count what it flags (each one would be an incident).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from datahealth.rules.anomaly import (
    ROWS_FLOORS,
    ColumnPoint,
    DetectorSettings,
    Point,
    anomaly_finding,
    band_multiplier,
    is_accumulating,
    judge,
    judge_column,
    judge_volume,
    per_period,
)

START = datetime(2026, 9, 1, 7, 30, tzinfo=UTC)  # a Tuesday
ROWS = DetectorSettings().with_floors(ROWS_FLOORS)


def daily(
    days: int, value: Callable[[int, datetime, random.Random], float], seed: int = 1, start: datetime = START
) -> list[Point]:
    rng = random.Random(seed)
    return [Point(start + timedelta(days=d), value(d, start + timedelta(days=d), rng)) for d in range(days)]


def weekly(day: int, at: datetime, rng: random.Random) -> float:
    """20k events on weekdays, 40 % fewer on weekends, ±5 % noise (like the demo's email events)."""
    return 20000 * (0.6 if at.weekday() >= 5 else 1.0) * rng.uniform(0.95, 1.05)


def flagged(points: list[Point], settings: DetectorSettings = ROWS, first: int = 1) -> list[int]:
    return [i for i in range(first, len(points)) if judge(points[:i], points[i], settings).is_anomaly]


def test_cold_start_gives_no_verdict_until_min_training() -> None:
    points = daily(10, lambda d, at, rng: 100.0)
    early = judge(points[:6], Point(points[6].at, 10_000.0), ROWS)
    assert early.verdict == "insufficient_history" and "6 of 7" in early.note
    assert judge(points[:7], Point(points[7].at, 10_000.0), ROWS).is_anomaly


@pytest.mark.parametrize("seed", range(5))
def test_weekly_seasonality_does_not_cry_wolf_on_weekends(seed: int) -> None:
    points = daily(70, weekly, seed)
    assert flagged(points) == []


def test_weekly_seasonality_still_catches_a_weekday_drop_and_a_weekend_spike() -> None:
    points = daily(42, weekly)
    wednesday = next(i for i in range(35, 42) if points[i].at.weekday() == 2)
    drop = judge(points[:wednesday], Point(points[wednesday].at, 10_000.0), ROWS)
    assert drop.is_anomaly and drop.direction == "drop" and drop.model == "day_of_week"
    assert drop.low is not None and drop.low > 15_000
    saturday = next(i for i in range(35, 42) if points[i].at.weekday() == 5)
    spike = judge(points[:saturday], Point(points[saturday].at, 20_000.0), ROWS)
    assert spike.is_anomaly and spike.direction == "spike"  # a weekday volume on a Saturday
    assert all(p.at.weekday() == 5 for p in spike.basis) and len(spike.basis) == 4


def test_first_weekend_of_a_new_dataset_is_not_an_alert() -> None:
    """Before seasonality can be shown, a value normal for the same weekday vetoes the plain model."""
    points = daily(16, weekly, seed=3)
    assert flagged(points) == []


@pytest.mark.parametrize("seed", range(3))
def test_steady_trend_is_not_a_daily_spike(seed: int) -> None:
    growing = daily(60, lambda d, at, rng: 10_000 + 400 * d + rng.gauss(0, 150), seed)
    assert flagged(growing) == []
    judged = judge(growing[:59], Point(growing[59].at, growing[59].value * 1.5), ROWS)
    assert judged.is_anomaly and judged.trend_per_day == pytest.approx(400, rel=0.1)


def test_trend_under_weekly_seasonality_is_found_by_same_weekday_pairs() -> None:
    points = daily(56, lambda d, at, rng: weekly(d, at, rng) * (1 + 0.01 * d), seed=5)
    assert flagged(points, first=20) == []
    last = judge(points[:55], Point(points[55].at, points[55].value * 0.6), ROWS)
    assert last.is_anomaly and last.trend_per_day > 0


def test_noisy_series_false_alarm_rate_stays_near_nominal() -> None:
    alarms = tests = 0
    for seed in range(40):
        points = daily(60, lambda d, at, rng: 5_000 * (1 + rng.gauss(0, 0.1)), seed)
        for i in range(8, 60):
            tests += 1
            alarms += judge(points[:i], points[i], ROWS).is_anomaly
    assert tests == 2080 and alarms <= 4  # 3.5 σ two-sided ≈ 1 in 2000 per test


def test_spikes_in_training_do_not_widen_the_band() -> None:
    points = daily(40, lambda d, at, rng: 1_000 * rng.uniform(0.97, 1.03), seed=2)
    polluted = [Point(p.at, p.value * (8 if i in (10, 20, 30) else 1)) for i, p in enumerate(points)]
    judged = judge(polluted[:39], Point(points[39].at, 700.0), ROWS)
    assert judged.is_anomaly and judged.high is not None and judged.high < 1_200


def test_direction_limits_what_is_flagged() -> None:
    points = daily(30, lambda d, at, rng: 1_000 * rng.uniform(0.98, 1.02))
    spike = Point(points[-1].at + timedelta(days=1), 5_000.0)
    only_drops = DetectorSettings(direction="drop").with_floors(ROWS_FLOORS)
    assert not judge(points, spike, only_drops).is_anomaly
    assert judge(points, spike, ROWS).is_anomaly


def test_constant_series_tolerates_tiny_changes() -> None:
    points = daily(20, lambda d, at, rng: 200.0)
    assert not judge(points, Point(points[-1].at + timedelta(days=1), 201.0), ROWS).is_anomaly
    assert judge(points, Point(points[-1].at + timedelta(days=1), 260.0), ROWS).is_anomaly


def test_hour_of_day_seasonality_across_dst_change_days() -> None:
    """Hourly loads follow Berlin's business hours; the UTC hour shifts on 25 October, the local one does not."""
    berlin = ZoneInfo("Europe/Berlin")
    rng = random.Random(4)
    start = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)
    points = []
    for hour in range(24 * 40):
        at = start + timedelta(hours=hour)
        local = at.astimezone(berlin).hour
        points.append(Point(at, (900 if 8 <= local < 18 else 100) * rng.uniform(0.9, 1.1)))
    settings = DetectorSettings(timezone="Europe/Berlin", period=timedelta(hours=1)).with_floors(ROWS_FLOORS)
    dst_days = [
        i
        for i, p in enumerate(points)
        if datetime(2026, 10, 24, tzinfo=UTC) <= p.at < datetime(2026, 10, 28, tzinfo=UTC)
    ]
    assert [i for i in dst_days if judge(points[:i], points[i], settings).is_anomaly] == []
    morning = next(i for i in dst_days if points[i].at.astimezone(berlin).hour == 10)
    quiet = judge(points[:morning], Point(points[morning].at, 120.0), settings)
    assert quiet.is_anomaly and quiet.model == "hour_of_day"


def test_band_multiplier_widens_for_small_samples() -> None:
    assert band_multiplier(3.5, 1000) == pytest.approx(3.5, abs=0.02)
    assert band_multiplier(3.5, 5) > 2 * band_multiplier(3.5, 1000)


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


def growing_table(days: int, added: Callable[[int, datetime], float]) -> list[Point]:
    total, points = 1_000.0, []
    for d in range(days):
        at = START + timedelta(days=d)
        total += added(d, at)
        points.append(Point(at, total))
    return points


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
