"""The demo's timeline ends when the demo runs: the last simulated day is today, monitored at that moment,
and the demo project is healthy then whatever the hour (a demo run between midnight and 07:30 UTC once
monitored yesterday's batch up to a day late, so healthy tables looked stale and a one-day window empty)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest

from datahealth.config import load_project
from datahealth.core.results import Status
from datahealth.demo.platform import LOAD_CLOCK
from datahealth.demo.timeline import MONITOR_DELAY, demo_platform, run_time
from datahealth.monitor.runner import run_monitor

DAYS = 30
REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 12, 3, 18, 0, tzinfo=UTC),
        datetime(2026, 12, 3, 7, 30, tzinfo=UTC),  # today's batch landed at 05:30, two hours ago
        datetime(2026, 12, 3, 7, 29, tzinfo=UTC),  # ...landed at 05:29 instead
        datetime(2026, 7, 1, 0, 5, tzinfo=UTC),  # ...at midnight, when the day it carries ended
        datetime(2026, 7, 1, 0, 0, tzinfo=UTC),
    ],
)
def test_the_last_simulated_day_is_today_monitored_when_the_demo_runs(now: datetime, tmp_path: Path) -> None:
    platform = demo_platform(tmp_path, DAYS, now)
    assert platform.day_date(DAYS - 1) == now.date()
    times = [run_time(platform, day, DAYS, now) for day in range(DAYS)]
    assert times[-1] == now  # the last run is the demo's own moment, so its report and metrics agree
    assert times == sorted(times) and all(t <= now for t in times)  # never a run in the future
    loads = [platform.load_time(day).replace(tzinfo=UTC) for day in range(DAYS)]
    assert all(load.time() == LOAD_CLOCK for load in loads[:-1])
    midnight = datetime.combine(now.date(), time(0, 0), UTC)
    assert loads[-1] == max(midnight, min(midnight + timedelta(hours=5, minutes=30), now - MONITOR_DELAY))
    assert platform.activity_window(DAYS - 1)[1].replace(tzinfo=UTC) <= loads[-1] <= now  # no future data
    assert times[0] == loads[0] + MONITOR_DELAY
    assert times[-1] - times[-2] < timedelta(days=2)


@pytest.mark.slow
@pytest.mark.parametrize("hour", [0.0, 0.25, 4.5, 6.0, 7.49, 15.0])
def test_a_short_demo_is_healthy_whatever_the_hour_it_runs(hour: float, tmp_path: Path) -> None:
    for folder in ("sla_config", "checks"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    project = load_project(tmp_path)
    now = datetime(2026, 12, 3, tzinfo=UTC) + timedelta(hours=hour)
    platform = demo_platform(tmp_path / "demo", 2, now)
    platform.reset()
    unhealthy = []
    for day in range(2):
        as_of = run_time(platform, day, 2, now)
        platform.append_day(day, monitored_at=as_of)
        summary = run_monitor(project, as_of=as_of)
        assert len(summary.datasets) == 7
        unhealthy += [
            (f"{as_of:%H:%M}", d.dataset, d.status) for d in summary.datasets if d.status != Status.OK.value
        ]
    assert unhealthy == []
