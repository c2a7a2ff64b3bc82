"""Seeded synthetic series shared by the detector and metric tests."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from datahealth.rules.anomaly.detector import DetectorSettings, Point
from datahealth.rules.anomaly.metrics import ROWS_FLOORS

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


def growing_table(days: int, added: Callable[[int, datetime], float]) -> list[Point]:
    """The row count of an append-style table that starts at 1,000 rows and grows by `added` a day."""
    total, points = 1_000.0, []
    for d in range(days):
        at = START + timedelta(days=d)
        total += added(d, at)
        points.append(Point(at, total))
    return points
