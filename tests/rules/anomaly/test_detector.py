"""The judge on synthetic series: seasonal, trending, noisy, spikes, cold start, weekends, DST days.

Series are seeded, so every assertion is deterministic; false-alarm checks run a detector over many
clean points and count what it flags (each one would be an incident).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from datahealth.rules.anomaly.detector import DetectorSettings, Point, judge
from datahealth.rules.anomaly.metrics import ROWS_FLOORS
from tests.rules.anomaly.series import ROWS, daily, weekly


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
