"""Runs inside a metric's own incidents are left out of its training data, within limits."""

from __future__ import annotations

import random
from datetime import timedelta

from datahealth.rules.anomaly.detector import Point
from datahealth.rules.anomaly.metrics import ColumnPoint, judge_column, judge_volume
from datahealth.rules.anomaly.training import Span, incident_spans, leave_out
from datahealth.rules.findings import Incident, IncidentStatus
from tests.rules.anomaly.series import ROWS, START

DAY = timedelta(days=1)


def _points(n: int) -> list[Point]:
    return [Point(START + d * DAY, float(d)) for d in range(n)]


def _incident(dataset: str, kind: str, subject: str, opened: int, resolved: int | None) -> Incident:
    at = START + opened * DAY
    return Incident(
        id=opened,
        fingerprint=f"{dataset}:{kind}:{subject}",
        dataset=dataset,
        kind=kind,
        subject=subject,
        severity="warn",
        status=IncidentStatus.OPEN if resolved is None else IncidentStatus.RESOLVED,
        title="t",
        message="",
        opened_at=at,
        updated_at=at,
        last_seen_at=at,
        resolved_at=None if resolved is None else START + resolved * DAY,
    )


def test_runs_inside_a_span_are_left_out_until_it_resolves() -> None:
    spans = [Span("volume", START + 3 * DAY, START + 5 * DAY)]  # runs 3 and 4; resolved at run 5
    kept = leave_out(_points(10), spans, keep_at_least=3, max_share=0.5)
    assert [p.value for p in kept] == [0, 1, 2, 5, 6, 7, 8, 9]
    still_open = leave_out(_points(10), [Span("volume", START + 8 * DAY)], keep_at_least=3, max_share=0.5)
    assert [p.value for p in still_open] == [0, 1, 2, 3, 4, 5, 6, 7]


def test_a_long_incident_becomes_the_new_normal_shortest_spans_first() -> None:
    short = Span("volume", START + 1 * DAY, START + 2 * DAY)
    long = Span("volume", START + 3 * DAY)  # open for 7 of 10 runs: more than half the window
    kept = leave_out(_points(10), [long, short], keep_at_least=3, max_share=0.5)
    assert [p.value for p in kept] == [0, 2, 3, 4, 5, 6, 7, 8, 9]
    too_few = leave_out(_points(4), [short], keep_at_least=4, max_share=1.0)
    assert len(too_few) == 4  # never below the minimum training runs


def test_incident_spans_of_one_dataset_freshness_counts_as_volume() -> None:
    spans = incident_spans(
        [
            _incident("wh.a", "anomaly", "column.x.null_ratio", 2, 4),
            _incident("wh.a", "freshness", "sla", 5, None),
            _incident("wh.a", "check", "x.missing", 6, 7),
            _incident("wh.b", "anomaly", "volume", 1, 2),
        ],
        "wh.a",
    )
    assert spans == (
        Span("column.x.null_ratio", START + 2 * DAY, START + 4 * DAY),
        Span("volume", START + 5 * DAY, None),
    )


def _table_with_faults(fault_days: set[int], days: int = 40) -> list[Point]:
    """An append-style table adding ~100 rows a day, with a quarter (or four times) of them on fault days."""
    rng, total, points = random.Random(3), 1_000.0, []
    for d in range(days):
        added = 100 * rng.uniform(0.9, 1.1)
        total += added * ((0.25 if d % 2 else 4.0) if d in fault_days else 1.0)
        points.append(Point(START + d * DAY, total))
    return points


def test_a_drop_after_earlier_faults_is_found_once_their_runs_are_not_learnt() -> None:
    faults = set(range(13, 40, 3))  # nine faults in the 28-day window: a third of the training data
    history = _table_with_faults(faults)
    current = Point(history[-1].at + DAY, history[-1].value + 40)  # 40 rows instead of about 100
    learnt_from_faults = judge_volume(history, current, ROWS)
    assert learnt_from_faults is not None and not learnt_from_faults.judgement.is_anomaly
    spans = [Span("volume", START + d * DAY, START + (d + 1) * DAY) for d in faults]
    cleaned = judge_volume(history, current, ROWS.excluding(spans))
    assert cleaned is not None and cleaned.judgement.is_anomaly and cleaned.judgement.direction == "drop"
    other_metric = judge_volume(history, current, ROWS.excluding([Span("column.x.null_ratio", START, None)]))
    assert other_metric is not None and not other_metric.judgement.is_anomaly  # only its own incidents


def _id_column(days: int, distinct_per_row: float) -> list[ColumnPoint]:
    """A windowed profile of an order id: ~0.43 distinct values per row, busy Fridays and weekends."""
    rng, points = random.Random(5), []
    for d in range(days):
        at = START + d * DAY
        rows = int(200 * (1.5 if at.weekday() >= 4 else 1.0) * rng.uniform(0.8, 1.2))
        points.append(ColumnPoint(at, rows, 0, 0.0, round(rows * distinct_per_row), windowed=True))
    return points


def test_a_distinct_count_that_moves_with_the_rows_is_marked_as_following_them() -> None:
    history = _id_column(35, 0.43)
    at = history[-1].at + DAY
    busy = ColumnPoint(at, 700, 0, 0.0, 301, windowed=True)  # a very busy day: 0.43 per row, as usual
    (_, distinct) = judge_column("order_id", history, busy, ROWS)
    assert distinct.judgement.is_anomaly and distinct.follows_rows
    shifted = ColumnPoint(at, 200, 0, 0.0, 1, windowed=True)  # one value for every row
    (_, stuck) = judge_column("order_id", history, shifted, ROWS)
    assert stuck.judgement.is_anomaly and not stuck.follows_rows
