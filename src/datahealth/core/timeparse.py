"""Parses the `--as-of` time users give: ISO dates or datetimes, naive meaning UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from datahealth.core.results import utc_now

# Windows and lookbacks are subtracted from the as-of time: a year near 1 or 9999 overflows datetime.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def parse_as_of(value: str | datetime | None) -> datetime:
    """`None` → now; `2026-10-05` → that day 00:00 UTC; `2026-10-05T07:00` → UTC; offsets are honoured."""
    if value is None or value == "":
        return utc_now()
    if isinstance(value, datetime):
        return _in_range(value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC), value)
    text = value.strip().replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
        parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (ValueError, OverflowError):
        raise ValueError(
            f"--as-of {value!r} is not an ISO date or datetime such as 2026-10-05 or 2026-10-05T07:00Z"
        ) from None
    return _in_range(parsed, value)


def _in_range(parsed: datetime, given: object) -> datetime:
    if not EARLIEST <= parsed < LATEST:
        raise ValueError(
            f"--as-of {given!s} is out of range: give a time from {EARLIEST:%Y-%m-%d} to before {LATEST:%Y-%m-%d}"
        )
    return parsed
