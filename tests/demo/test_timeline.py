"""The demo's timeline ends when the demo runs: the last simulated day is today, monitored at that moment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from datahealth.demo.platform import DemoPlatform
from datahealth.demo.timeline import MONITOR_DELAY, first_day, run_time

DAYS = 30


@pytest.mark.parametrize(
    ("now", "last_day"),
    [
        (datetime(2026, 12, 3, 18, 0, tzinfo=UTC), date(2026, 12, 3)),
        (datetime(2026, 12, 3, 7, 30, tzinfo=UTC), date(2026, 12, 3)),  # today's batch landed 2 h ago
        (datetime(2026, 12, 3, 7, 29, tzinfo=UTC), date(2026, 12, 2)),  # not yet due: yesterday is the last
        (datetime(2026, 7, 1, 0, 5, tzinfo=UTC), date(2026, 6, 30)),
    ],
)
def test_the_last_simulated_day_is_the_latest_already_monitored_one(
    now: datetime, last_day: date, tmp_path: Path
) -> None:
    platform = DemoPlatform(tmp_path, start=first_day(DAYS, now))
    assert platform.day_date(DAYS - 1) == last_day
    times = [run_time(platform, day, DAYS, now) for day in range(DAYS)]
    assert times[-1] == now  # the last run is the demo's own moment, so its report and metrics agree
    assert times == sorted(times) and all(t <= now for t in times)  # never a run in the future
    assert times[0] == platform.load_time(0).replace(tzinfo=UTC) + MONITOR_DELAY
    assert times[-1] - times[-2] < timedelta(days=2)
