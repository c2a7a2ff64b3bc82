"""When the demo's simulated days happen: the last one is the day the demo runs, its run at that moment.

A demo set in a fixed past month left every freshness metric weeks old, so Prometheus' alert rules (which
age data against the real clock) fired on everything the report called healthy. Ending the timeline now
makes the report, the metrics and the alert rules read the same clock.

The last day is always today. Each batch lands at 05:30 UTC and is monitored two hours later; a demo run
before 07:30 UTC has today's batch land two hours before it (at midnight at the earliest, when the day the
batch carries is over). Ending on yesterday instead, as an earlier version did, monitored yesterday's batch
up to a day late: between midnight and 07:30 UTC the demo's healthy tables looked stale and its one-day
profile window empty.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from datahealth.demo.clickstream_topic import MONITOR_DELAY
from datahealth.demo.platform import DemoPlatform


def first_day(days: int, now: datetime) -> date:
    """The start date that makes the last of `days` simulated days today (the UTC date of `now`)."""
    return now.astimezone(UTC).date() - timedelta(days=days - 1)


def demo_platform(root: Path, days: int, now: datetime) -> DemoPlatform:
    """The platform of a demo of `days` days run at `now`: no batch lands later than `MONITOR_DELAY`
    before `now`, except that today's lands at midnight at the earliest."""
    latest_load = (now.astimezone(UTC) - MONITOR_DELAY).replace(tzinfo=None)
    return DemoPlatform(root, start=first_day(days, now), latest_load=latest_load)


def run_time(platform: DemoPlatform, day: int, days: int, now: datetime) -> datetime:
    """When `day` is monitored: `MONITOR_DELAY` after its batch lands; the last day at `now`, when the demo
    runs (at or after its batch landed, since `demo_platform` chose the load times)."""
    if day == days - 1:
        return now.astimezone(UTC)
    return platform.load_time(day).replace(tzinfo=UTC) + MONITOR_DELAY
