from datetime import timedelta

import pytest

from datahealth.core.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("26h", timedelta(hours=26)),
        ("1d12h", timedelta(days=1, hours=12)),
        ("2w", timedelta(weeks=2)),
        (90, timedelta(seconds=90)),
        ("1.5h", timedelta(minutes=90)),
        ("250ms", timedelta(milliseconds=250)),
    ],
)
def test_parse_duration(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("bad", ["soon", "5", "h", "-3h", "", True, "1h x"])
def test_parse_duration_rejects_non_durations(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_format_duration_is_compact() -> None:
    assert format_duration(timedelta(days=2, hours=3)) == "2d 3h"
    assert format_duration(45 * 60) == "45m"
    assert format_duration(12) == "12s"
    assert format_duration(None) == "-"
