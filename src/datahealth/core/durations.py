"""Human durations in config (`15m`, `26h`, `1d12h`, `90s`, `2w`) parsed into timedeltas."""

from __future__ import annotations

import re
from datetime import timedelta

_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|w|d|h|m|s)")
_UNITS = {"w": 604800.0, "d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(value: object) -> timedelta:
    """Parse `value` (a timedelta, a number of seconds, or text like `1h30m`) into a timedelta.

    Raises ValueError with the accepted forms when the text is not a duration.
    """
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 15m, 26h or 1d, not a boolean")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return timedelta(seconds=float(value))
    text = str(value).strip().lower().replace(" ", "")
    if not text:
        raise ValueError("expected a duration such as 15m, 26h or 1d, got an empty value")
    position, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(text):
        raise ValueError(
            f"{value!r} is not a duration; use a number and a unit (w, d, h, m, s), e.g. 15m, 26h, 1d12h"
        )
    return timedelta(seconds=total)


def format_duration(delta: timedelta | float | None) -> str:
    """Render a duration compactly for people (`2d 3h`, `45m`, `12s`)."""
    if delta is None:
        return "-"
    seconds = delta.total_seconds() if isinstance(delta, timedelta) else float(delta)
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    if seconds < 60:
        return f"{sign}{seconds:.0f}s"
    minutes, _ = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    if days:
        return f"{sign}{days}d {hours}h" if hours else f"{sign}{days}d"
    if hours:
        return f"{sign}{hours}h {minutes}m" if minutes else f"{sign}{hours}h"
    return f"{sign}{minutes}m"
