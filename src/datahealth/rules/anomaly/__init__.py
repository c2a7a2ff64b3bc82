"""Volume and metric anomalies: robust z-scores over each dataset's own history. Pure, no I/O.

`stats` holds the robust statistics (plain math), `detector` the judge (models, seasonality, bands,
judgements) and `metrics` which metrics are judged and the findings they raise. The names below are the
package's interface for the rest of datahealth.
"""

from datahealth.rules.anomaly.detector import DetectorSettings, Floors, Judgement, Point, judge
from datahealth.rules.anomaly.metrics import (
    ColumnPoint,
    MetricJudgement,
    anomaly_finding,
    judge_column,
    judge_volume,
)

__all__ = [
    "ColumnPoint",
    "DetectorSettings",
    "Floors",
    "Judgement",
    "MetricJudgement",
    "Point",
    "anomaly_finding",
    "judge",
    "judge_column",
    "judge_volume",
]
