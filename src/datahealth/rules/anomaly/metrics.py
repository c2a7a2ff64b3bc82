"""Which metrics the anomaly judge sees, how their series are built, and the findings it raises. Pure.

- **Volume** (`judge_volume`): rows added per period for append-style tables, else the row count itself.
  Rows added are counted over a fixed period (default a day) against the run closest to one period
  earlier, so a 15-minute tier and a daily tier learn the same series. "No new rows" where almost every
  comparable period had some is an anomaly even when the band includes zero; an emptied table is one
  without any training.
- **Columns** (`judge_column`): per column the null ratio and distinct count from profiles; for a
  whole-table profile of an append-style table, the null ratio and distinct values of the rows added.
- **Findings** (`anomaly_finding`): observed value, expected range and the history behind them.

Each metric has its own floor on the band's spread (`Floors`), so one extra row of a constant series
or a 0.1 % wobble of a null ratio is never an alert.
"""

from __future__ import annotations

import bisect
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from datahealth.core.durations import format_duration
from datahealth.rules.anomaly.detector import DetectorSettings, Floors, Judgement, Point, judge
from datahealth.rules.anomaly.significance import clip_to_domain
from datahealth.rules.anomaly.training import VOLUME
from datahealth.rules.findings import Finding, FindingKind

ROWS_FLOORS = Floors(absolute=1.0, relative=0.02)
LEVEL_FLOORS = Floors(absolute=1.0, relative=0.01)
RATIO_FLOORS = Floors(absolute=0.002, relative=0.05)
DISTINCT_FLOORS = Floors(absolute=1.0, relative=0.02)
ZERO_VOLUME_SHARE = 0.75  # "no rows" is an anomaly when at least this share of comparable periods had rows
HISTORY_IN_DETAILS = 60  # training points kept in a finding's details


@dataclass(frozen=True)
class Pair:
    """A point and the point about one period before it (0.5 to 2 periods back)."""

    base_index: int
    index: int
    span: timedelta


def period_pairs(times: Sequence[datetime], period: timedelta) -> list[Pair | None]:
    """For each time (oldest first), the earlier time closest to one period before it, if any is near."""
    pairs: list[Pair | None] = []
    for index, at in enumerate(times):
        target = at - period
        position = bisect.bisect_left(times, target, 0, index)
        best: Pair | None = None
        for candidate in (position - 1, position):
            if not 0 <= candidate < index:
                continue
            span = at - times[candidate]
            if period / 2 <= span <= period * 2 and (
                best is None or abs(span - period) < abs(best.span - period)
            ):
                best = Pair(candidate, index, span)
        pairs.append(best)
    return pairs


def per_period(points: Sequence[Point], period: timedelta) -> list[Point | None]:
    """The change over about one period before each point, scaled to exactly one period."""
    pairs = period_pairs([p.at for p in points], period)
    return [
        None
        if pair is None
        else Point(
            points[pair.index].at,
            (points[pair.index].value - points[pair.base_index].value) * (period / pair.span),
        )
        for pair in pairs
    ]


def is_accumulating(values: Sequence[float]) -> bool:
    """An append-style series: it grows, and (almost) never shrinks between runs."""
    steps = [b - a for a, b in zip(values, values[1:], strict=False) if b != a]
    if not steps or values[-1] <= values[0]:
        return False
    return sum(1 for s in steps if s > 0) / len(steps) >= 0.9


@dataclass(frozen=True)
class MetricJudgement:
    """A judged metric of one dataset: `subject` is its stable part of the finding's fingerprint."""

    subject: str
    metric: str
    column: str | None
    judgement: Judgement
    period: timedelta | None = None
    zero_volume: bool = False
    note: str = ""
    report_only: str = ""  # why an anomalous metric is not worth an alert (practical significance)
    follows_rows: bool = False  # an anomalous distinct count whose distinct values per row are as usual


def judge_volume(
    history: Sequence[Point], current: Point, settings: DetectorSettings, load_due: bool = True
) -> MetricJudgement | None:
    """Rows added per period for append-style tables, else the row count itself; plus zero volume.

    `history` is the row count of earlier successful runs. `load_due=False` (an `expected_by` schedule had
    no deadline in the period) means fewer or no new rows are expected: drops are not judged then.
    """
    settings = settings.about(VOLUME)
    series = sorted([p for p in history if p.at < current.at], key=lambda p: p.at) + [current]
    window = [p for p in series if p.at >= current.at - settings.training_window]
    if len(series) >= 2 and current.value == 0 and series[-2].value > 0:
        return MetricJudgement(
            "volume",
            "row_count",
            None,
            Judgement(
                "anomaly",
                0.0,
                series[-2].value,
                None,
                None,
                None,
                "previous run",
                direction="drop",
                training=tuple(series[:-1][-HISTORY_IN_DETAILS:]),
                note=f"the table is empty; the previous run counted {series[-2].value:,.0f} rows",
            ),
        )
    if not is_accumulating([p.value for p in window]):
        level = settings.with_floors(LEVEL_FLOORS)
        judgement = judge(series[:-1], current, level)
        return MetricJudgement("volume", "row_count", None, _gate(judgement, load_due))
    deltas = per_period(series, settings.period)
    added = deltas[-1]
    if added is None:
        return None  # no run about one period earlier: nothing comparable this time
    rows = settings.with_floors(ROWS_FLOORS)
    training = [d for d in deltas[:-1] if d is not None]
    judgement = judge(training, added, rows)
    if judgement.verdict == "normal" and added.value <= 0 and load_due and settings.direction != "spike":
        comparable = list(judgement.basis) or list(judgement.training)
        if comparable and sum(1 for p in comparable if p.value > 0) / len(comparable) >= ZERO_VOLUME_SHARE:
            judgement = dataclasses.replace(judgement, verdict="anomaly", direction="drop")
            return MetricJudgement("volume", "rows_added", None, judgement, settings.period, zero_volume=True)
    return MetricJudgement("volume", "rows_added", None, _gate(judgement, load_due), settings.period)


def _gate(judgement: Judgement, load_due: bool) -> Judgement:
    """No load was due in the period: a drop is expected, so it is not an anomaly."""
    if load_due or judgement.direction != "drop":
        return judgement
    return dataclasses.replace(
        judgement,
        verdict="normal",
        direction=None,
        note=judgement.note + "; no load was due in the period (expected_by)",
    )


@dataclass(frozen=True)
class ColumnPoint:
    """One column's profile at one run (from the `profiles` table or this run's profile)."""

    at: datetime
    row_count: int | None
    null_count: int | None
    null_ratio: float | None
    distinct_count: int | None
    windowed: bool = False


def judge_column(
    column: str, history: Sequence[ColumnPoint], current: ColumnPoint, settings: DetectorSettings
) -> list[MetricJudgement]:
    """Null ratio and distinct count of one column.

    A windowed profile (only recent rows) is judged as it is. A whole-table profile of an append-style
    table changes little when one day's rows go bad, so it is judged on the rows added in the period:
    nulls added / rows added, and distinct values added when the distinct count accumulates.
    """
    points = sorted(
        [
            p
            for p in history
            if p.at < current.at
            and p.windowed == current.windowed
            and not (p.windowed and p.row_count == 0)  # an empty window says nothing about its columns
        ],
        key=lambda p: p.at,
    ) + [current]
    window = [p for p in points if p.at >= current.at - settings.training_window]
    rows = [float(p.row_count) for p in window if p.row_count is not None]
    incremental = not current.windowed and len(rows) == len(window) and is_accumulating(rows)
    results: list[MetricJudgement] = []
    ratio_settings = settings.about(f"column.{column}.null_ratio").with_floors(RATIO_FLOORS)
    if incremental:
        series = _added_null_ratio(points, settings.period)
        if series and series[-1] is not None:
            training = [p for p in series[:-1] if p is not None]
            results.append(
                MetricJudgement(
                    f"column.{column}.null_ratio",
                    "null_ratio_added",
                    column,
                    judge(training, series[-1], ratio_settings),
                    settings.period,
                )
            )
    elif current.null_ratio is not None:
        training = [Point(p.at, p.null_ratio) for p in points[:-1] if p.null_ratio is not None]
        results.append(
            MetricJudgement(
                f"column.{column}.null_ratio",
                "null_ratio",
                column,
                judge(training, Point(current.at, current.null_ratio), ratio_settings),
            )
        )
    if current.distinct_count is not None:
        distinct = [Point(p.at, float(p.distinct_count)) for p in points if p.distinct_count is not None]
        distinct_settings = settings.about(f"column.{column}.distinct_count").with_floors(DISTINCT_FLOORS)
        if distinct[-1].at != current.at:
            return results
        if incremental and is_accumulating(
            [p.value for p in distinct if p.at >= current.at - settings.training_window]
        ):
            deltas = per_period(distinct, settings.period)
            if deltas[-1] is not None:
                training = [d for d in deltas[:-1] if d is not None]
                results.append(
                    MetricJudgement(
                        f"column.{column}.distinct_count",
                        "distinct_added",
                        column,
                        judge(training, deltas[-1], distinct_settings),
                        settings.period,
                    )
                )
        else:
            judgement = judge(distinct[:-1], distinct[-1], distinct_settings)
            results.append(
                MetricJudgement(
                    f"column.{column}.distinct_count",
                    "distinct_count",
                    column,
                    judgement,
                    follows_rows=judgement.is_anomaly
                    and _follows_rows(points, distinct_settings.with_floors(RATIO_FLOORS)),
                )
            )
    return results


def _follows_rows(points: Sequence[ColumnPoint], settings: DetectorSettings) -> bool:
    """Whether the distinct count moved with the row count: distinct values per row as usual.

    An id or a timestamp has about one value per order, so a busy day has more of them; a column that
    suddenly holds one value (or a new id scheme) changes its values per row and still alerts.
    """
    ratios = [
        Point(p.at, p.distinct_count / p.row_count)
        for p in points
        if p.distinct_count is not None and p.row_count
    ]
    if not ratios or ratios[-1].at != points[-1].at:
        return False
    return judge(ratios[:-1], ratios[-1], settings).verdict == "normal"


def _added_null_ratio(points: Sequence[ColumnPoint], period: timedelta) -> list[Point | None]:
    """Nulls added / rows added over about one period before each point (None without new rows)."""
    pairs = period_pairs([p.at for p in points], period)
    series: list[Point | None] = []
    for pair in pairs:
        if pair is None:
            series.append(None)
            continue
        now, base = points[pair.index], points[pair.base_index]
        if None in (now.row_count, base.row_count, now.null_count, base.null_count):
            series.append(None)
            continue
        added = int(now.row_count or 0) - int(base.row_count or 0)
        nulls = int(now.null_count or 0) - int(base.null_count or 0)
        series.append(Point(now.at, nulls / added) if added > 0 else None)
    return series


# --- findings ---------------------------------------------------------------------------------------

_METRIC_TEXT = {
    "rows_added": "rows added",
    "row_count": "row count",
    "null_ratio": "null ratio",
    "null_ratio_added": "null ratio of new rows",
    "distinct_count": "distinct count",
    "distinct_added": "distinct values added",
}


def format_value(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    if metric.startswith("null_ratio"):
        return f"{value:.1%}" if abs(value) >= 0.001 or value == 0 else f"{value:.3%}"
    return f"{value:,.0f}" if abs(value) >= 100 or float(value).is_integer() else f"{value:,.1f}"


def anomaly_finding(dataset: str, item: MetricJudgement, severity: str) -> Finding:
    """The finding for an anomalous metric: observed, expected range and the history behind them."""
    j = clip_to_domain(item.metric, item.judgement)
    what = _METRIC_TEXT.get(item.metric, item.metric)
    period = f" in the last {format_duration(item.period)}" if item.period else ""
    observed = format_value(item.metric, j.observed)
    if j.low is not None and j.high is not None:
        expected = f"{format_value(item.metric, j.low)}–{format_value(item.metric, j.high)}"
    else:
        expected = f"about {format_value(item.metric, j.expected)}"
    where = f"{dataset}.{item.column}" if item.column else dataset
    if item.zero_volume:
        title = f"{dataset}: no new rows{period} (usually {format_value(item.metric, j.expected)})"
    elif item.metric == "rows_added" and j.observed == 0:
        title = f"{dataset}: no new rows{period} (expected {expected})"
    elif item.metric == "rows_added" and j.observed < 0:
        title = f"{dataset}: {format_value(item.metric, -j.observed)} rows removed{period} (expected {expected} added)"
    elif item.metric == "row_count" and j.observed == 0:
        title = f"{dataset}: the table is empty"
    else:
        title = f"{where}: {what} {observed}{period} is a {j.direction} (expected {expected})"
    details: dict[str, Any] = {
        "metric": item.metric,
        "column": item.column,
        "direction": j.direction,
        "observed": j.observed,
        "expected": j.expected,
        "low": j.low,
        "high": j.high,
        "score": None if j.score is None else round(j.score, 2),
        "model": j.model,
        "trend_per_day": j.trend_per_day,
        "zero_volume": item.zero_volume,
        "period_seconds": item.period.total_seconds() if item.period else None,
        "training_runs": len(j.training),
        "history": [[p.at.isoformat(), p.value] for p in j.training[-HISTORY_IN_DETAILS:]],
        "basis": [[p.at.isoformat(), p.value] for p in j.basis[-HISTORY_IN_DETAILS:]],
        "change_key": f"{item.metric}:{j.direction}",
    }
    if j.low is not None and j.high is not None:
        details["expected_range"] = [j.low, j.high]
    if item.report_only:
        details["report_only"] = item.report_only
    return Finding(
        dataset,
        FindingKind.ANOMALY,
        item.subject,
        severity,
        title,
        j.note,
        observed=observed,
        expected=expected,
        details=details,
    )
