"""Freshness rules: age limits, cron schedules in a time zone (weekends, DST change days), holidays, fallback."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from datahealth.config.models import FreshnessSla
from datahealth.config.values import HolidayCalendar
from datahealth.rules.freshness import (
    Schedule,
    evaluate_freshness,
    freshness_finding,
    last_change_from_history,
    load_due,
)

BERLIN = ZoneInfo("Europe/Berlin")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def sla(**kwargs: object) -> FreshnessSla:
    return FreshnessSla.model_validate(kwargs)


def test_age_limits_warn_then_error() -> None:
    rule = sla(warn_after="30h", error_after="48h")
    updated = utc(2026, 10, 5, 0, 0)
    assert evaluate_freshness(rule, updated, "column", utc(2026, 10, 6, 5, 0)).level == "ok"
    warn = evaluate_freshness(rule, updated, "column", utc(2026, 10, 6, 7, 0))
    assert (warn.level, warn.limit, warn.lag_seconds) == ("warn", "warn_after", 31 * 3600)
    error = evaluate_freshness(rule, updated, "column", utc(2026, 10, 7, 1, 0))
    assert (error.level, error.limit, error.limit_seconds) == ("error", "error_after", 48 * 3600)


def test_no_sla_or_unknown_update_gives_no_breach() -> None:
    assert evaluate_freshness(None, utc(2020, 1, 1), "column", utc(2026, 1, 1)).level == "ok"
    unknown = evaluate_freshness(sla(error_after="1h"), None, None, utc(2026, 1, 1))
    assert unknown.level == "unknown" and not unknown.breached and "unknown" in unknown.note


def test_weekday_schedule_is_not_stale_on_sunday() -> None:
    """Loads Mon–Fri by 06:00 Berlin; Friday's load is the newest data all weekend and that is fine."""
    rule = sla(
        error_after="2d", expected_by={"cron": "0 6 * * 1-5", "timezone": "Europe/Berlin", "grace": "1h"}
    )
    friday_load = datetime(2026, 10, 16, 5, 30, tzinfo=BERLIN)
    sunday_noon = datetime(2026, 10, 18, 12, 0, tzinfo=BERLIN)
    verdict = evaluate_freshness(rule, friday_load, "file_mtime", sunday_noon)
    assert verdict.level == "ok" and verdict.lag_seconds and verdict.lag_seconds > 2 * 86400
    assert verdict.next_deadline == datetime(2026, 10, 19, 6, 0, tzinfo=BERLIN)
    # Monday's load does not come: late once Monday 06:00 + 1h grace has passed, not before.
    assert (
        evaluate_freshness(
            rule, friday_load, "file_mtime", datetime(2026, 10, 19, 6, 59, tzinfo=BERLIN)
        ).level
        == "ok"
    )
    late = evaluate_freshness(rule, friday_load, "file_mtime", datetime(2026, 10, 19, 7, 30, tzinfo=BERLIN))
    assert late.level == "error" and late.missed_deadline == datetime(2026, 10, 19, 6, 0, tzinfo=BERLIN)


def test_schedule_breach_is_a_warning_until_error_after() -> None:
    rule = sla(error_after="48h", expected_by={"cron": "0 6 * * *", "timezone": "UTC"})
    updated = utc(2026, 10, 5, 23, 59)  # yesterday's activity, loaded on the 6th
    assert evaluate_freshness(rule, updated, "column", utc(2026, 10, 6, 7, 30)).level == "ok"
    missed = evaluate_freshness(rule, updated, "column", utc(2026, 10, 7, 7, 30))
    assert (missed.level, missed.limit) == ("warn", "expected_by")
    assert missed.missed_deadline == utc(2026, 10, 7, 6, 0)
    assert evaluate_freshness(rule, updated, "column", utc(2026, 10, 8, 7, 30)).level == "error"


@pytest.mark.parametrize(
    ("day", "utc_hour"),
    [
        ((2026, 3, 28), 5),
        ((2026, 3, 29), 4),
        ((2026, 3, 30), 4),  # spring forward on the 29th
        ((2026, 10, 24), 4),
        ((2026, 10, 25), 5),
        ((2026, 10, 26), 5),  # fall back on the 25th
    ],
)
def test_deadlines_keep_local_time_across_dst(day: tuple[int, int, int], utc_hour: int) -> None:
    schedule = Schedule("0 6 * * *", "Europe/Berlin")
    tick = schedule.next_after(utc(*day, 0, 0))
    assert tick == utc(*day, utc_hour, 0)
    assert tick is not None and tick.astimezone(BERLIN).hour == 6


def test_a_tick_in_the_repeated_autumn_hour_counts_once() -> None:
    schedule = Schedule("30 2 * * *", "Europe/Berlin")
    ticks = list(zip(range(3), schedule.ticks_after(utc(2026, 10, 24, 12, 0)), strict=False))
    assert [t for _, t in ticks] == [
        utc(2026, 10, 25, 0, 30),
        utc(2026, 10, 26, 1, 30),
        utc(2026, 10, 27, 1, 30),
    ]
    # data from 02:00 CEST before the change is not "late" an hour later just because 02:30 happens twice
    rule = sla(expected_by={"cron": "30 2 * * *", "timezone": "Europe/Berlin"})
    before = datetime(2026, 10, 25, 2, 0, tzinfo=BERLIN)
    assert (
        evaluate_freshness(rule, before, "column", datetime(2026, 10, 25, 9, 0, tzinfo=BERLIN)).level == "ok"
    )


def test_a_tick_in_the_skipped_spring_hour_moves_after_the_gap() -> None:
    tick = Schedule("30 2 * * *", "Europe/Berlin").next_after(utc(2026, 3, 28, 12, 0))
    assert tick == utc(2026, 3, 29, 1, 30)  # 03:30 CEST: the gap's wall time read with the old offset


def test_holidays_skip_deadlines_and_do_not_count_towards_age() -> None:
    rule = sla(
        error_after="30h", expected_by={"cron": "0 6 * * 1-5", "timezone": "UTC"}, holidays=["2026-12-25"]
    )
    thursday_load = utc(2026, 12, 24, 5, 0)
    # Friday 25th is a holiday: no deadline, so Friday evening is fine
    assert evaluate_freshness(rule, thursday_load, "column", utc(2026, 12, 25, 20, 0)).level == "ok"
    ages = sla(error_after="30h", holidays=["12-25"])  # yearly form
    verdict = evaluate_freshness(ages, utc(2026, 12, 24, 12, 0), "column", utc(2026, 12, 26, 12, 0))
    assert verdict.level == "ok" and verdict.effective_lag_seconds == 24 * 3600
    assert (
        evaluate_freshness(ages, utc(2026, 12, 24, 12, 0), "column", utc(2026, 12, 27, 0, 0)).level == "error"
    )


def test_holiday_calendar_forms_and_errors() -> None:
    calendar = HolidayCalendar.parse(["2026-12-24", "01-01", "2026-12-28..2026-12-30"])
    assert all(
        d in calendar for d in (utc(2026, 12, 24).date(), utc(2027, 1, 1).date(), utc(2026, 12, 29).date())
    )
    assert utc(2026, 12, 27).date() not in calendar
    with pytest.raises(ValueError, match="'2026-13-01' is not a date"):
        HolidayCalendar.parse(["2026-13-01"])
    with pytest.raises(ValidationError, match="not a date"):
        sla(holidays=["christmas"])


def test_invalid_schedule_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="not a valid cron"):
        sla(expected_by={"cron": "every day"})
    with pytest.raises(ValidationError, match="IANA time zone"):
        sla(expected_by={"cron": "0 6 * * *", "timezone": "Mars/Olympus"})


def test_load_due_only_when_a_deadline_falls_in_the_period() -> None:
    rule = sla(expected_by={"cron": "0 6 * * 1-5", "timezone": "UTC", "grace": "1h"})
    saturday = utc(2026, 10, 17, 7, 30)
    assert not load_due(rule, saturday - timedelta(days=1), saturday)
    monday = utc(2026, 10, 19, 7, 30)
    assert load_due(rule, monday - timedelta(days=1), monday)
    assert load_due(None, saturday - timedelta(days=1), saturday)


def test_last_change_from_history() -> None:
    history = [(utc(2026, 10, d, 7), count) for d, count in ((1, 10), (2, 20), (3, 20), (4, 20))]
    assert last_change_from_history(20, utc(2026, 10, 5, 7), history) == utc(2026, 10, 2, 7)
    assert last_change_from_history(25, utc(2026, 10, 5, 7), history) == utc(2026, 10, 5, 7)
    assert last_change_from_history(10, utc(2026, 10, 2, 0), history[:1]) is None  # never saw a change


def test_finding_names_the_deadline_and_the_lag() -> None:
    rule = sla(expected_by={"cron": "0 6 * * *", "timezone": "UTC"})
    verdict = evaluate_freshness(rule, utc(2026, 10, 5, 23), "column", utc(2026, 10, 7, 8))
    finding = freshness_finding("warehouse.orders", verdict, "error")
    assert finding.fingerprint == "warehouse.orders|freshness|sla"
    assert "2026-10-07 06:00" in finding.title and finding.observed == "1d 9h"
    assert finding.details["missed_deadline"] == "2026-10-07T06:00:00+00:00"


def test_a_stale_title_names_the_newest_data_not_an_age_the_clock_makes_untrue() -> None:
    # an incident keeps its opening title while later runs see the lag grow; the age is in the message
    verdict = evaluate_freshness(
        sla(warn_after="30h"), utc(2026, 10, 5, 23, 58), "column", utc(2026, 10, 7, 7)
    )
    finding = freshness_finding("warehouse.purchases", verdict, "warn")
    assert finding.title == "warehouse.purchases is stale: no new data since 2026-10-05 23:58 UTC"
    assert "1d 7h old" in finding.message and "ago" not in finding.title
