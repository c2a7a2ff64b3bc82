"""Counted nouns read right: "1 dataset", "2 datasets", "0 checks"."""

from __future__ import annotations

from datahealth.core.wording import plural


def test_one_is_singular_everything_else_plural() -> None:
    assert plural(1, "dataset") == "1 dataset"
    assert plural(0, "check") == "0 checks"
    assert plural(2, "run") == "2 runs"
    assert plural(1_500, "row") == "1,500 rows"
    assert plural(3, "query") == "3 queries" and plural(2, "index", "indexes") == "2 indexes"
