"""`datahealth profile`: values shown as in the report: numbers rounded, timestamps in full."""

from __future__ import annotations

from datahealth.cli.profile_cmd import _cell, _number


def test_profile_values_are_rounded_and_timestamps_shown_in_full() -> None:
    assert _number(127.51916666666666) == "127.5" and _number(3) == "3"
    assert _cell("2026-10-10T05:00:00+00:00") == "2026-10-10 05:00:00 UTC"
    assert _cell("2026-10-10 05:00:00.250000") == "2026-10-10 05:00:00.25"
    assert _cell("2026-10-10T05:00:00+02:00") == "2026-10-10 05:00:00+0200"
    assert _cell("x" * 40).endswith("…") and _cell("2026 was a year") == "2026 was a year"
