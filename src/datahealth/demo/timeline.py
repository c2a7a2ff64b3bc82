"""When the demo's simulated days happen: the last one is the day the demo runs, its run at that moment.

A demo set in a fixed past month left every freshness metric weeks old, so Prometheus' alert rules (which
age data against the real clock) fired on everything the report called healthy. Ending the timeline now
makes the report, the metrics and the alert rules read the same clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from datahealth.demo.clickstream_topic import MONITOR_DELAY
from datahealth.demo.platform import LOAD_CLOCK, DemoPlatform


def first_day(days: int, now: datetime) -> date:
    """The start date that makes the last of `days` simulated days the latest whose batch has landed and
    whose monitoring run is due by `now` (today from 07:30 UTC, yesterday before)."""
    landed = now.astimezone(UTC) - MONITOR_DELAY - timedelta(hours=LOAD_CLOCK.hour, minutes=LOAD_CLOCK.minute)
    return landed.date() - timedelta(days=days - 1)


def run_time(platform: DemoPlatform, day: int, days: int, now: datetime) -> datetime:
    """When `day` is monitored: `MONITOR_DELAY` after its batch lands; the last day at `now`, when the demo
    runs (never before its batch landed, since `first_day` chose the start)."""
    scheduled = platform.load_time(day).replace(tzinfo=UTC) + MONITOR_DELAY
    return max(scheduled, now.astimezone(UTC)) if day == days - 1 else scheduled
