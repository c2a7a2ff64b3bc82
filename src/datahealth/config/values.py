"""Typed values in config, parsed once when the configuration loads: holiday calendars and samples.

Models validate with these parsers, and the rules and profiler use the parsed objects, so a value's
accepted forms and its error message live in one place.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_YEARLY = re.compile(r"^(\d{2})-(\d{2})$")
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")
_ROWS = re.compile(r"^\s*(\d+)\s*(?:rows?)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class HolidayCalendar:
    """Days on which no load is expected: fixed dates, yearly month-days and inclusive date ranges."""

    dates: frozenset[date] = frozenset()
    yearly: frozenset[tuple[int, int]] = frozenset()
    ranges: tuple[tuple[date, date], ...] = ()

    @classmethod
    def parse(cls, entries: Sequence[str]) -> HolidayCalendar:
        """`2026-12-24`, `12-25` (every year) or `2026-12-24..2026-12-31`; a bad entry raises ValueError."""
        dates: set[date] = set()
        yearly: set[tuple[int, int]] = set()
        ranges: list[tuple[date, date]] = []
        for raw in entries:
            entry = str(raw).strip()
            try:
                if ".." in entry:
                    first, last = (date.fromisoformat(part.strip()) for part in entry.split("..", 1))
                    if last < first:
                        raise ValueError("range ends before it starts")
                    ranges.append((first, last))
                elif match := _YEARLY.match(entry):
                    month, day = int(match.group(1)), int(match.group(2))
                    date(2024, month, day)  # a leap year accepts 02-29
                    yearly.add((month, day))
                else:
                    dates.add(date.fromisoformat(entry))
            except ValueError as exc:
                raise ValueError(
                    f"holiday {entry!r} is not a date: use 2026-12-24, 12-25 (every year) "
                    f"or 2026-12-24..2026-12-31 ({exc})"
                ) from None
        return cls(frozenset(dates), frozenset(yearly), tuple(ranges))

    def __bool__(self) -> bool:
        return bool(self.dates or self.yearly or self.ranges)

    def __contains__(self, day: object) -> bool:
        if not isinstance(day, date):
            return False
        if day in self.dates or (day.month, day.day) in self.yearly:
            return True
        return any(first <= day <= last for first, last in self.ranges)

    def overlap_seconds(self, start: datetime, end: datetime, tz: ZoneInfo) -> float:
        """Seconds of [start, end) that fall on holidays in `tz` (whole local days, DST-correct)."""
        if not self or end <= start:
            return 0.0
        total = 0.0
        day = start.astimezone(tz).date()
        last = end.astimezone(tz).date()
        while day <= last:
            if day in self:
                day_start = datetime.combine(day, time(0), tz).astimezone(UTC)
                day_end = datetime.combine(day + timedelta(days=1), time(0), tz).astimezone(UTC)
                overlap = (min(end, day_end) - max(start, day_start)).total_seconds()
                total += max(0.0, overlap)
            day += timedelta(days=1)
        return total


@dataclass(frozen=True)
class SampleSpec:
    """What the dataset's config asks for: a percentage of rows or a number of rows."""

    percent: float | None = None
    rows: int | None = None

    @property
    def label(self) -> str:
        return f"{decimal_text(self.percent)}%" if self.percent is not None else f"{self.rows} rows"


def parse_sample(value: str | int | None) -> SampleSpec | None:
    """`'10%'` → 10 percent, `5000` or `'5000 rows'` → 5000 rows; anything else is a ValueError saying why."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError(
            f"sample must be a percentage such as '10%' or a row count such as 100000, not {value!r}"
        )
    if isinstance(value, int):
        if value < 1:
            raise ValueError(f"sample must be at least 1 row, got {value}")
        return SampleSpec(rows=value)
    percent = _PERCENT.match(value)
    if percent:
        amount = float(percent.group(1))
        if not 0 < amount <= 100:
            raise ValueError(f"sample percentage must be above 0% and at most 100%, got {value!r}")
        return SampleSpec(percent=amount)
    rows = _ROWS.match(value)
    if rows and int(rows.group(1)) >= 1:
        return SampleSpec(rows=int(rows.group(1)))
    raise ValueError(f"sample {value!r} is neither a percentage such as '10%' nor a row count such as 100000")


def decimal_text(value: float | None) -> str:
    """A plain decimal numeral (never exponent notation, which not every SQL parser accepts)."""
    text = format(float(value or 0), "f").rstrip("0").rstrip(".")
    return text or "0"
