"""Practical significance of column anomalies and bands clipped to the metric's domain."""

from __future__ import annotations

from datahealth.config.models import EffectSize, SignificanceConfig
from datahealth.rules.anomaly.detector import Judgement
from datahealth.rules.anomaly.metrics import MetricJudgement, anomaly_finding
from datahealth.rules.anomaly.significance import clip_to_domain, significant

DEFAULTS = SignificanceConfig()


def spike(observed: float, expected: float, low: float = 0.0, high: float = 0.0) -> Judgement:
    return Judgement("anomaly", observed, expected, low, high, 9.0, "none", direction="spike")


def test_statistically_unusual_but_small_changes_are_report_only() -> None:
    assert significant("null_ratio", spike(0.015, 0.013), DEFAULTS, 700)[0] is False
    assert significant("distinct_count", spike(10, 8), DEFAULTS, 700)[0] is False  # 8 → 10 values
    assert significant("null_ratio", spike(0.30, 0.01), DEFAULTS, 700) == (True, "")
    assert significant("distinct_count", spike(1, 5), DEFAULTS, 700) == (True, "")  # a category collapsed


def test_small_windows_low_cardinality_and_report_only_kinds() -> None:
    assert "min_rows" in significant("null_ratio", spike(0.5, 0.01), DEFAULTS, 15)[1]
    assert "min_cardinality" in significant("distinct_count", spike(3, 1), DEFAULTS, 700)[1]
    assert "report" in significant("distinct_added", spike(900, 100), DEFAULTS, 700)[1]


def test_the_thresholds_are_tunable() -> None:
    strict = SignificanceConfig(
        null_ratio=EffectSize(min_absolute=0.001, min_relative=0.1), min_affected_rows=1
    )
    assert significant("null_ratio", spike(0.015, 0.013), strict, 700) == (True, "")


def test_bands_are_clipped_to_the_metric_domain() -> None:
    clipped = clip_to_domain("null_ratio", spike(0.9, 0.93, 0.522, 1.339))
    assert (clipped.low, clipped.high) == (0.522, 1.0)
    counts = clip_to_domain("distinct_count", spike(40, 3, -12, 18))
    assert (counts.low, counts.high) == (0.0, 18)
    item = MetricJudgement("column.x.null_ratio", "null_ratio", "x", spike(0.9, 0.93, 0.522, 1.339))
    finding = anomaly_finding("wh.t", item, "warn")
    assert finding.expected == "52.2%–100.0%" and finding.details["expected_range"] == [0.522, 1.0]


def test_a_near_unique_column_growing_with_the_rows_is_volume_not_a_new_alert() -> None:
    busy_day = spike(105, 60)
    assert "near-unique" in significant("distinct_count", busy_day, DEFAULTS, 110)[1]
    collapsed = Judgement("anomaly", 1, 50, 40, 60, -9.0, "none", direction="drop")
    assert significant("distinct_count", collapsed, DEFAULTS, 58) == (True, "")  # one value for every row


def test_a_small_window_needs_a_change_touching_enough_rows() -> None:
    assert significant("null_ratio", spike(0.40, 0.0), DEFAULTS, 37) == (True, "")  # 15 rows of 37
    few = significant("null_ratio", spike(0.08, 0.0), DEFAULTS, 37)  # 3 rows of 37
    assert few[0] is False and "min_affected_rows" in few[1]
    assert significant("null_ratio", spike(0.08, 0.0), DEFAULTS, 700) == (True, "")  # 56 rows
    lenient = SignificanceConfig(min_affected_rows=2)
    assert significant("null_ratio", spike(0.08, 0.0), lenient, 37) == (True, "")
