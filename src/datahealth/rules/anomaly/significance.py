"""Practical significance of column-metric anomalies, and bands clipped to each metric's domain. Pure.

On real data a column metric is often statistically unusual and practically meaningless: a daily window
of 70 rows moves a null ratio from 1.3 % to 1.5 % with one row, a low-cardinality column has 10 distinct
values instead of 8. The detector's band says "unusual"; `significant` adds "and big enough to matter":
the change must reach a minimum absolute AND relative effect for its metric kind
(`anomaly.significance` in config), in a window of enough rows (a null-ratio change must also touch
enough rows, so a small window needs a bigger change), on a column with enough distinct values. Which kinds alert at all is `significance.alert_on`; the others are report-only findings.
"""

from __future__ import annotations

import dataclasses

from datahealth.config.models import SignificanceConfig
from datahealth.rules.anomaly.detector import Judgement

NEAR_UNIQUE = 0.5  # distinct values per row above which a column's distinct count is a row count
RATIO_METRICS = ("null_ratio", "null_ratio_added")
DISTINCT_METRICS = ("distinct_count", "distinct_added")


def clip_to_domain(metric: str, judgement: Judgement) -> Judgement:
    """The band within what the metric can be: 0–100 % for ratios, never below 0 for counts."""
    high_limit = 1.0 if metric in RATIO_METRICS else None
    low = None if judgement.low is None else max(judgement.low, 0.0)
    high = judgement.high
    if high is not None and high_limit is not None:
        high = min(high, high_limit)
    expected = judgement.expected
    if expected is not None:
        expected = max(expected, 0.0) if high_limit is None else min(max(expected, 0.0), high_limit)
    return dataclasses.replace(judgement, low=low, high=high, expected=expected)


def significant(
    metric: str, judgement: Judgement, config: SignificanceConfig, rows: int | None
) -> tuple[bool, str]:
    """Whether an anomalous column metric is a change worth an alert, and why not when it is not."""
    if metric not in config.alert_on:
        return False, f"{metric} anomalies only show in the report (anomaly.significance.alert_on)"
    if rows is not None and rows < config.min_rows:
        return False, f"only {rows} rows profiled (anomaly.significance.min_rows: {config.min_rows})"
    expected = judgement.expected or 0.0
    effect = abs(judgement.observed - expected)
    if metric in RATIO_METRICS:
        size = config.null_ratio
        unit = lambda v: f"{v:.1%}"  # noqa: E731
        if rows is not None and effect * rows < config.min_affected_rows:
            return (
                False,
                f"changed by {unit(effect)} of {rows} rows, fewer than min_affected_rows"
                f" {config.min_affected_rows}",
            )
    else:
        size = config.distinct_count
        unit = lambda v: f"{v:,.0f}"  # noqa: E731
        if metric == "distinct_count" and max(judgement.observed, expected) < config.min_cardinality:
            return False, f"fewer than {config.min_cardinality} distinct values (min_cardinality)"
        if judgement.direction == "spike" and rows and judgement.observed >= NEAR_UNIQUE * rows:
            return (
                False,
                "a near-unique column (an id, a timestamp) has more values because there are more rows",
            )
    if effect < size.min_absolute:
        return False, f"changed by {unit(effect)}, less than min_absolute {unit(size.min_absolute)}"
    if expected > 0 and effect / expected < size.min_relative:
        return (
            False,
            f"changed by {effect / expected:.0%} of expected, less than min_relative {size.min_relative:.0%}",
        )
    return True, ""
