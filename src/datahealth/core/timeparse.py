"""Parses the `--as-of` time users give: ISO dates or datetimes, naive meaning UTC."""

from __future__ import annotations

from datetime import UTC, datetime

from datahealth.core.results import utc_now


def parse_as_of(value: str | datetime | None) -> datetime:
    """`None` → now; `2026-10-05` → that day 00:00 UTC; `2026-10-05T07:00` → UTC; offsets are honoured."""
    if value is None or value == "":
        return utc_now()
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    text = value.strip().replace(" ", "T")
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"--as-of {value!r} is not an ISO date or datetime such as 2026-10-05 or 2026-10-05T07:00Z"
        ) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
