"""Hive partition values in file paths (`event_date=2026-12-02/`): freshness and pruning without reads.

A dataset with `partition_column` names a hive partition holding a date. Its newest partition says how
far the data reaches (a complete `event_date=2026-12-02` means data up to 2026-12-03 00:00 UTC), so a
missing or late partition shows up in freshness with the partition named; `partition_window` keeps
partitions older than the window from being read at all (footers, profiles and checks alike).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from datahealth.sources.lakes.stores import LakeFile


def partition_value(url: str, column: str) -> str | None:
    """The value of `column=` in the file's path, or None when the path has no such partition."""
    marker = f"{column}="
    for part in url.split("/"):
        if part.startswith(marker):
            return part[len(marker) :]
    return None


def partition_date(url: str, column: str) -> date | None:
    value = partition_value(url, column)
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def within_window(files: Sequence[LakeFile], column: str, since: date) -> list[LakeFile]:
    """Files whose partition date is on or after `since` (files outside any dated partition are kept)."""
    kept = []
    for file in files:
        day = partition_date(file.url, column)
        if day is None or day >= since:
            kept.append(file)
    return kept


def newest_partition(files: Sequence[LakeFile], column: str) -> date | None:
    days = [d for d in (partition_date(f.url, column) for f in files) if d is not None]
    return max(days) if days else None


def partition_freshness(
    files: Sequence[LakeFile], column: str, as_of: datetime
) -> tuple[datetime | None, str]:
    """(the instant the newest partition's data reaches, how that reads): the end of its day, in UTC.

    The method text names the newest partition and, when days are missing up to the run's day, the
    first missing one, so a late-partition finding says which partition is absent.
    """
    newest = newest_partition(files, column)
    if newest is None:
        return None, f"partition {column} (no dated partition found)"
    reaches = datetime(newest.year, newest.month, newest.day, tzinfo=UTC) + timedelta(days=1)
    text = f"partition {column}={newest.isoformat()}"
    expected = as_of.astimezone(UTC).date() - timedelta(days=1)
    if newest < expected:
        text += f"; {column}={(newest + timedelta(days=1)).isoformat()} absent"
    return reaches, text
