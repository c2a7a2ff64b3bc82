"""Counted nouns read right: "1 dataset", "2 datasets", "0 checks"."""

from __future__ import annotations

from datahealth.core.wording import plural


def test_one_is_singular_everything_else_plural() -> None:
    assert plural(1, "dataset") == "1 dataset"
    assert plural(0, "check") == "0 checks"
    assert plural(2, "run") == "2 runs"
    assert plural(1_500, "row") == "1,500 rows"
    assert plural(3, "query") == "3 queries" and plural(2, "index", "indexes") == "2 indexes"


def test_numbers_read_the_same_in_the_report_and_the_terminal() -> None:
    from datahealth.core.wording import format_number

    assert format_number(1234567) == "1,234,567" and format_number(42.0) == "42"
    assert format_number(127.51916666666666) == "127.5" and format_number(1234.5678) == "1,234.6"
    assert format_number(0.012345) == "0.0123" and format_number(None) == "-"
