"""Freshness: how old a dataset's newest data is, and whether that breaks its SLA.

Pure functions, no I/O. The last-updated time itself is measured by the sources (pushed-down `max` of the
timestamp column, the newest lake file, or the user's `loaded_at_query`); when none of those exists this
module falls back to the history store's row counts ("the last run that saw the count change").

Two kinds of SLA, usable together:
- age limits (`warn_after`, `error_after`): lag = as-of time minus last update, not counting holidays;
- a schedule (`expected_by`: cron + time zone + grace): every tick is a deadline by which there must be
  data newer than the tick before it. Days without a tick expect nothing, so a table loaded on weekdays
  is not stale on Sunday. With a schedule the schedule decides *whether* data is late; the age limits
  then decide how bad (late and older than `error_after` → error, otherwise warn).
Ticks are computed on the local wall clock and converted afterwards, so "06:00 Europe/Berlin" stays 06:00
through daylight-saving changes and a tick in the repeated autumn hour counts once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from datahealth.config.models import ExpectedBy, FreshnessSla
from datahealth.config.values import HolidayCalendar
from datahealth.core.durations import format_duration
from datahealth.rules.findings import Finding, FindingKind

Level = Literal["ok", "warn", "error", "unknown"]
_MAX_TICKS = 5000  # a schedule search gives up after this many ticks (e.g. '0 0 29 2 *' on holidays)


class Schedule:
    """The deadlines of an `expected_by` schedule, as UTC instants, holidays skipped."""

    def __init__(
        self,
        cron: str,
        timezone: str = "UTC",
        grace: timedelta = timedelta(0),
        holidays: HolidayCalendar | None = None,
    ) -> None:
        self.cron = cron
        self.tz = ZoneInfo(timezone)
        self.grace = grace
        self.holidays = holidays or HolidayCalendar()

    @classmethod
    def from_config(cls, expected_by: ExpectedBy, holidays: HolidayCalendar | None = None) -> Schedule:
        return cls(expected_by.cron, expected_by.timezone, expected_by.grace, holidays)

    def ticks_after(self, instant: datetime) -> Iterator[datetime]:
        """Deadlines strictly after `instant`, oldest first (one per local wall-clock time)."""
        from croniter import CroniterBadDateError, croniter

        local = instant.astimezone(self.tz).replace(tzinfo=None) - timedelta(hours=2)  # DST-safe start
        iterator = croniter(self.cron, local)
        for _ in range(_MAX_TICKS):
            try:
                wall: datetime = iterator.get_next(datetime)
            except CroniterBadDateError:
                return
            if wall.date() in self.holidays:
                continue
            tick = wall.replace(tzinfo=self.tz).astimezone(UTC)  # fold=0: the first of a repeated hour
            if tick > instant:
                yield tick

    def next_after(self, instant: datetime) -> datetime | None:
        return next(self.ticks_after(instant), None)

    def missed_deadline(self, last_updated: datetime, as_of: datetime) -> datetime | None:
        """The first deadline (plus grace) passed by `as_of` without data newer than the tick before it.

        Data updated at `last_updated` satisfies the first tick after it; the second tick after it is the
        first one it cannot satisfy. None when that deadline (plus grace) is still ahead.
        """
        ticks = self.ticks_after(last_updated)
        next(ticks, None)
        second = next(ticks, None)
        if second is None or second + self.grace >= as_of:
            return None
        return second


@dataclass(frozen=True)
class FreshnessVerdict:
    """What the SLA says about a dataset's lag at one as-of time."""

    level: Level
    lag_seconds: float | None
    last_updated: datetime | None
    method: str | None
    effective_lag_seconds: float | None = None  # the lag minus holidays: what the age limits judge
    limit: str | None = None  # the rule that broke: warn_after | error_after | expected_by
    limit_seconds: float | None = None
    missed_deadline: datetime | None = None
    next_deadline: datetime | None = None
    note: str = ""

    @property
    def breached(self) -> bool:
        return self.level in ("warn", "error")

    def expected_text(self) -> str:
        """The SLA side of the message, e.g. `< 1d 6h` or `data by 2026-10-26 07:00 UTC (schedule)`."""
        if self.limit == "expected_by" and self.missed_deadline is not None:
            return f"new data by {self.missed_deadline:%Y-%m-%d %H:%M} UTC"
        if self.limit_seconds is not None:
            return f"< {format_duration(self.limit_seconds)}"
        return ""


def evaluate_freshness(
    sla: FreshnessSla | None, last_updated: datetime | None, method: str | None, as_of: datetime
) -> FreshnessVerdict:
    """Judge the lag at `as_of` against the SLA (no SLA or no known last update: nothing to judge)."""
    lag = None if last_updated is None else (as_of - last_updated).total_seconds()
    if sla is None:
        return FreshnessVerdict("ok", lag, last_updated, method)
    if last_updated is None or lag is None:
        return FreshnessVerdict(
            "unknown",
            None,
            None,
            method,
            note="freshness unknown: no timestamp_column, file times, loaded_at_query or "
            "row-count change in history",
        )
    holidays = sla.holidays
    tz = ZoneInfo(sla.expected_by.timezone) if sla.expected_by else ZoneInfo("UTC")
    effective = lag - holidays.overlap_seconds(last_updated, as_of, tz) if lag > 0 else lag
    note = "newest data is in the future (time zone of the timestamp column?)" if lag < 0 else ""
    if sla.expected_by is not None:
        schedule = Schedule.from_config(sla.expected_by, holidays)
        missed = schedule.missed_deadline(last_updated, as_of)
        upcoming = schedule.next_after(as_of)
        if missed is None:
            return FreshnessVerdict(
                "ok", lag, last_updated, method, effective, next_deadline=upcoming, note=note
            )
        error_after = sla.error_after.total_seconds() if sla.error_after else None
        if error_after is None or effective > error_after:
            return FreshnessVerdict(
                "error",
                lag,
                last_updated,
                method,
                effective,
                "error_after" if error_after is not None else "expected_by",
                error_after,
                missed,
                upcoming,
                note,
            )
        return FreshnessVerdict(
            "warn", lag, last_updated, method, effective, "expected_by", None, missed, upcoming, note
        )
    if sla.error_after is not None and effective > sla.error_after.total_seconds():
        return FreshnessVerdict(
            "error",
            lag,
            last_updated,
            method,
            effective,
            "error_after",
            sla.error_after.total_seconds(),
            note=note,
        )
    if sla.warn_after is not None and effective > sla.warn_after.total_seconds():
        return FreshnessVerdict(
            "warn",
            lag,
            last_updated,
            method,
            effective,
            "warn_after",
            sla.warn_after.total_seconds(),
            note=note,
        )
    return FreshnessVerdict("ok", lag, last_updated, method, effective, note=note)


def last_change_from_history(
    row_count: int | None, as_of: datetime, history: Sequence[tuple[datetime, int | None]]
) -> datetime | None:
    """When the row count last changed, from earlier runs (oldest first): the fallback last-updated time.

    For tables with no timestamp column, file times or `loaded_at_query`. The answer is the first run
    that saw the current count (the change happened before it), so the lag is never overstated. None when
    history never saw a different count (we cannot tell how old the data is).
    """
    if row_count is None:
        return None
    since = as_of
    for at, count in reversed([(at, count) for at, count in history if at < as_of and count is not None]):
        if count != row_count:
            return since
        since = at
    return None


def load_due(sla: FreshnessSla | None, start: datetime, end: datetime) -> bool:
    """Whether an `expected_by` deadline (plus grace) fell in (start, end]; always True without a schedule.

    Volume rules use it: when no load was due (a weekday table over the weekend, a holiday), fewer or no
    new rows are expected and a drop is not an anomaly.
    """
    if sla is None or sla.expected_by is None:
        return True
    schedule = Schedule.from_config(sla.expected_by, sla.holidays)
    tick = schedule.next_after(start - schedule.grace)
    return tick is not None and tick + schedule.grace <= end


def _readable(method: str) -> str:
    """`file_mtime` → `file mtime`; a method naming a partition (`event_date=2026-12-02`) is kept as is."""
    return method if "=" in method else method.replace("_", " ")


def freshness_finding(dataset: str, verdict: FreshnessVerdict, severity: str) -> Finding:
    """The SLA-breach finding: how old the newest data is, and which part of the SLA that breaks."""
    lag = format_duration(verdict.lag_seconds)
    newest = (
        f"newest data {verdict.last_updated:%Y-%m-%d %H:%M} UTC"
        if verdict.last_updated
        else "newest data unknown"
    )
    method = f" (from {_readable(verdict.method)})" if verdict.method else ""
    if verdict.missed_deadline is not None:
        title = (
            f"{dataset} is late: no new data for the {verdict.missed_deadline:%a %Y-%m-%d %H:%M} UTC deadline"
        )
    elif verdict.last_updated is not None:
        # an incident keeps the title it opened with, so the title names no age that the clock makes untrue
        title = f"{dataset} is stale: no new data since {verdict.last_updated:%Y-%m-%d %H:%M} UTC"
    else:
        title = f"{dataset} is stale"
    message = f"{newest}{method}, {lag} old; SLA {verdict.limit}: {verdict.expected_text()}"
    if (
        verdict.effective_lag_seconds is not None
        and verdict.lag_seconds is not None
        and verdict.effective_lag_seconds < verdict.lag_seconds
    ):
        message += f" (holidays not counted: {format_duration(verdict.effective_lag_seconds)})"
    details = {
        "lag_seconds": verdict.lag_seconds,
        "effective_lag_seconds": verdict.effective_lag_seconds,
        "limit": verdict.limit,
        "limit_seconds": verdict.limit_seconds,
        "last_updated": verdict.last_updated.isoformat() if verdict.last_updated else None,
        "last_updated_method": verdict.method,
        "missed_deadline": verdict.missed_deadline.isoformat() if verdict.missed_deadline else None,
        "next_deadline": verdict.next_deadline.isoformat() if verdict.next_deadline else None,
        "change_key": verdict.level,
    }
    return Finding(
        dataset,
        FindingKind.FRESHNESS,
        "sla",
        severity,
        title,
        message,
        observed=lag,
        expected=verdict.expected_text(),
        details=details,
    )
