"""Typed config values: holidays and samples are parsed once, when the YAML loads, and bad ones are
reported like every other config mistake (file, line, key, fix)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from datahealth.config import load_project
from datahealth.config.models import DatasetConfig, FreshnessSla
from datahealth.config.values import HolidayCalendar, SampleSpec
from tests.config.test_loader import MINIMAL_SOURCES, issues_of, write


def test_holidays_and_sample_load_as_parsed_values(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        MINIMAL_SOURCES
        + """
datasets:
  wh.orders:
    sla:
      warn_after: 30h
      holidays: ["2026-12-24..2026-12-26", "01-01", 2026-05-01]   # the last one unquoted: a YAML date
    profile: {sample: 10%}
  wh.customers:
    profile: {sample: 5000 rows}
  wh.events:
    profile: {sample: 250000}
""",
    )
    project = load_project(tmp_path, environ={})
    orders = project.dataset("wh.orders")
    assert orders.sla is not None
    assert orders.sla.holidays == HolidayCalendar(
        frozenset({date(2026, 5, 1)}), frozenset({(1, 1)}), ((date(2026, 12, 24), date(2026, 12, 26)),)
    )
    assert date(2027, 1, 1) in orders.sla.holidays and date(2026, 12, 27) not in orders.sla.holidays
    assert orders.profile.sample == SampleSpec(percent=10.0)
    assert project.dataset("wh.customers").profile.sample == SampleSpec(rows=5000)
    assert project.dataset("wh.events").profile.sample == SampleSpec(rows=250_000)
    assert project.dataset("wh.events").sla is None


def test_defaults_are_an_empty_calendar_and_no_sample() -> None:
    assert FreshnessSla().holidays == HolidayCalendar() and not FreshnessSla().holidays
    assert DatasetConfig(name="w.t").profile.sample is None


def test_parsed_values_pass_through_the_models_unchanged() -> None:
    calendar = HolidayCalendar.parse(["12-25"])
    assert FreshnessSla(holidays=calendar).holidays is calendar
    spec = SampleSpec(rows=7)
    assert DatasetConfig(name="w.t", profile={"sample": spec}).profile.sample is spec


def test_bad_holiday_names_the_entry_file_line_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.yaml",
        MINIMAL_SOURCES + 'datasets:\n  wh.orders:\n    sla:\n      holidays: ["2026-12-24", "christmas"]\n',
    )
    [issue] = issues_of(tmp_path)
    assert (issue.file, issue.key, issue.line) == (path, "datasets.wh.orders.sla.holidays", 9)
    assert "holiday 'christmas' is not a date" in issue.message and "12-25 (every year)" in issue.message


def test_holidays_must_be_a_list(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.yaml",
        MINIMAL_SOURCES + "datasets:\n  wh.orders:\n    sla:\n      holidays: 2026-12-24\n",
    )
    [issue] = issues_of(tmp_path)
    assert issue.key == "datasets.wh.orders.sla.holidays" and issue.line == 9
    assert "valid list" in issue.message and "write a list" in issue.fix


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ten", "neither a percentage such as '10%' nor a row count"),
        ("150%", "at most 100%"),
        ("0", "at least 1 row"),
        ("yes", "not True"),
    ],
)
def test_bad_sample_names_file_line_and_key(tmp_path: Path, value: str, message: str) -> None:
    path = write(
        tmp_path,
        "a.yaml",
        MINIMAL_SOURCES + f"datasets:\n  wh.orders:\n    profile:\n      sample: {value}\n",
    )
    [issue] = issues_of(tmp_path)
    assert (issue.file, issue.key, issue.line) == (path, "datasets.wh.orders.profile.sample", 9)
    assert message in issue.message
