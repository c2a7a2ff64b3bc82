"""`evaluate` over synthetic results and history: one problem → one finding, isolation, statuses from incidents."""

from __future__ import annotations

import dataclasses
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from datahealth.config.models import DatasetConfig
from datahealth.core.results import (
    CheckOutcome,
    CheckResult,
    ColumnInfo,
    ColumnProfile,
    DatasetResult,
    ErrorKind,
    Observation,
    Profile,
    Status,
    StoredObservation,
)
from datahealth.rules import evaluate as evaluation_module
from datahealth.rules.evaluate import EvaluationHistory, evaluate, findings_for_result
from datahealth.rules.findings import FindingKind, Incident, IncidentEvent, IncidentStatus

T0 = datetime(2026, 10, 1, 7, 30, tzinfo=UTC)
DAY = timedelta(days=1)
COLUMNS = (ColumnInfo("id", "BIGINT", False), ColumnInfo("ts", "TIMESTAMP", True))


def dataset(name: str = "warehouse.orders", **extra: Any) -> DatasetConfig:
    return DatasetConfig.model_validate(
        {"name": name, "sla": {"warn_after": "30h", "error_after": "48h"}, **extra}
    )


def observation(
    name: str, at: datetime, rows: int, updated: datetime | None = None, **extra: Any
) -> Observation:
    return Observation(
        name,
        name.split(".")[0],
        at,
        at,
        row_count=rows,
        last_updated=updated or at - timedelta(hours=7),
        last_updated_method="column",
        columns=extra.pop("columns", COLUMNS),
        **extra,
    )


def stored(obs: Observation, number: int) -> StoredObservation:
    return StoredObservation(
        number,
        f"run-{number}",
        obs.dataset,
        obs.source,
        obs.as_of,
        Status.OK,
        obs.row_count,
        obs.last_updated,
        obs.freshness_lag_seconds,
        obs.columns,
        0,
        obs.error,
        None,
        {},
    )


def history_of(name: str, days: int, added: int = 1000, seed: int = 1, **extra: Any) -> EvaluationHistory:
    rng = random.Random(seed)
    total, rows = 0, []
    for d in range(days):
        total += int(added * rng.uniform(0.97, 1.03))
        rows.append(stored(observation(name, T0 + d * DAY, total), d))
    return EvaluationHistory(observations={name: rows}, baselines={name: COLUMNS}, **extra)


def test_clean_day_has_no_findings_and_an_ok_status() -> None:
    config = dataset()
    history = history_of(config.name, 20)
    today = T0 + 20 * DAY
    result = DatasetResult(
        observation(config.name, today, history.observations[config.name][-1].row_count + 1000)
    )
    verdict = evaluate([config], [result], history, as_of=today)
    assert (
        verdict.findings == []
        and verdict.statuses == {config.name: Status.OK}
        and verdict.health_score == 100.0
    )


def test_stale_table_is_one_freshness_finding_with_the_zero_volume_folded_in() -> None:
    config = dataset()
    history = history_of(config.name, 20)
    today = T0 + 20 * DAY
    last = history.observations[config.name][-1]
    result = DatasetResult(
        observation(config.name, today, last.row_count, updated=today - timedelta(hours=31))
    )
    verdict = evaluate([config], [result], history, as_of=today)
    assert [f.kind for f in verdict.findings] == [FindingKind.FRESHNESS]
    assert verdict.findings[0].severity == "warn" and verdict.statuses[config.name] == Status.WARN
    related = verdict.findings[0].details["related"]
    assert related[0]["subject"] == "volume" and "no new rows" in related[0]["title"]
    assert [c.event for c in verdict.changes] == [IncidentEvent.OPENED]


def test_schema_change_swallows_the_soda_schema_check() -> None:
    config = dataset("lake.clicks")
    history = history_of(config.name, 3)
    today = T0 + 3 * DAY
    drifted = (
        ColumnInfo("id", "VARCHAR", None),
        ColumnInfo("ts", "TIMESTAMP", None),
        ColumnInfo("exp", "VARCHAR", None),
    )
    schema_check = CheckResult(
        config.name, "schema", "schema", CheckOutcome.FAIL, origin="generated", message="1 type mismatch"
    )
    other_check = CheckResult(
        config.name, "id.missing", "missing", CheckOutcome.FAIL, column="id", observed_value=3
    )
    obs = observation(
        config.name,
        today,
        history.observations[config.name][-1].row_count + 1000,
        columns=drifted,
        details={"files_with_other_schema": ["event_date=2026-10-03/part-0.parquet"]},
    )
    verdict = evaluate(
        [config], [DatasetResult(obs, checks=[schema_check, other_check])], history, as_of=today
    )
    kinds = sorted((f.kind.value, f.subject) for f in verdict.findings)
    assert kinds == [("check", "id.missing"), ("schema_change", "schema")]
    schema = next(f for f in verdict.findings if f.kind == FindingKind.SCHEMA_CHANGE)
    assert schema.details["soda_schema_check"][0]["message"] == "1 type mismatch"
    assert schema.details["files_with_other_schema"] == ["event_date=2026-10-03/part-0.parquet"]
    assert (
        "in 1 file unlike the rest: event_date=2026-10-03/part-0.parquet; rewrite them to revert"
        in schema.message
    )
    assert [c["kind"] for c in schema.details["changes"]] == ["type_changed", "column_added"]


def test_volume_anomaly_swallows_the_generated_row_count_check() -> None:
    config = dataset()
    history = history_of(config.name, 20)
    today = T0 + 20 * DAY
    bounds = CheckResult(config.name, "row_count", "row_count", CheckOutcome.FAIL, origin="generated")
    obs = observation(config.name, today, history.observations[config.name][-1].row_count + 5000)
    verdict = evaluate([config], [DatasetResult(obs, checks=[bounds])], history, as_of=today)
    assert [(f.kind, f.subject) for f in verdict.findings] == [(FindingKind.ANOMALY, "volume")]
    assert verdict.findings[0].details["direction"] == "spike"
    assert verdict.findings[0].details["related"][0]["kind"] == "check"


def test_unreachable_dataset_is_an_error_and_a_vanished_table_a_schema_change() -> None:
    config, gone = dataset(), dataset("warehouse.legacy")
    history = history_of(config.name, 3)
    history = dataclasses.replace(history, baselines={**history.baselines, gone.name: COLUMNS})
    today = T0 + 3 * DAY
    down = Observation(
        config.name, "warehouse", today, today, error="connection refused", error_kind=ErrorKind.UNREACHABLE
    )
    missing = Observation(
        gone.name, "warehouse", today, today, error="no table", error_kind=ErrorKind.MISSING
    )
    verdict = evaluate([config, gone], [DatasetResult(down), DatasetResult(missing)], history, as_of=today)
    by_dataset = {f.dataset: f for f in verdict.findings}
    assert by_dataset[config.name].kind == FindingKind.ERROR and by_dataset[config.name].subject == "observe"
    assert by_dataset[gone.name].title == "warehouse.legacy: the table disappeared"
    assert verdict.statuses == {config.name: Status.UNKNOWN, gone.name: Status.FAIL}


def test_one_dataset_failing_to_evaluate_does_not_lose_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    broken, fine = dataset("warehouse.broken"), dataset("warehouse.fine")
    original = evaluation_module._schema

    def explode(config: DatasetConfig, *args: Any) -> Any:
        if config.name == broken.name:
            raise ZeroDivisionError("boom")
        return original(config, *args)

    monkeypatch.setattr(evaluation_module, "_schema", explode)
    today = T0 + 10 * DAY
    stale = observation(fine.name, today, 10, updated=today - 3 * DAY)
    verdict = evaluate(
        [broken, fine],
        [DatasetResult(observation(broken.name, today, 10)), DatasetResult(stale)],
        EvaluationHistory(),
        as_of=today,
    )
    assert verdict.statuses == {broken.name: Status.UNKNOWN, fine.name: Status.FAIL}
    error = next(f for f in verdict.findings if f.dataset == broken.name)
    assert error.subject == "evaluation" and "ZeroDivisionError: boom" in error.message


def test_check_incident_stays_open_through_a_metadata_only_run() -> None:
    config = dataset()
    today = T0 + DAY
    failing = CheckResult(config.name, "id.duplicate", "duplicate", CheckOutcome.FAIL, observed_value=2)
    first = evaluate(
        [config],
        [DatasetResult(observation(config.name, today, 10), checks=[failing])],
        EvaluationHistory(),
        as_of=today,
    )
    opened = [dataclasses.replace(c.incident, id=1) for c in first.changes]
    metadata_run = evaluate(
        [config],
        [DatasetResult(observation(config.name, today + timedelta(minutes=15), 10))],
        EvaluationHistory(open_incidents=opened),
        as_of=today + timedelta(minutes=15),
        checks_ran=False,
    )
    assert metadata_run.changes == [] and metadata_run.statuses[config.name] == Status.FAIL
    daily_run = evaluate(
        [config],
        [DatasetResult(observation(config.name, today + DAY, 10))],
        EvaluationHistory(open_incidents=opened),
        as_of=today + DAY,
    )
    assert [c.event for c in daily_run.changes] == [IncidentEvent.RESOLVED]
    assert daily_run.statuses[config.name] == Status.OK


def test_suppressed_findings_raise_no_incident() -> None:
    config = dataset(suppress=["check:*.duplicate"])
    failing = CheckResult(config.name, "id.duplicate", "duplicate", CheckOutcome.FAIL)
    verdict = evaluate(
        [config],
        [DatasetResult(observation(config.name, T0, 10), checks=[failing])],
        EvaluationHistory(),
        as_of=T0,
    )
    assert verdict.findings == [] and "suppressed by config: check:id.duplicate" in verdict.notes[config.name]


def test_windowed_profile_null_spike_and_learning_notes() -> None:
    config = dataset(profile={"window": "1d"})
    name = config.name
    points = {
        "customer_id": [
            evaluation_module.ColumnPoint(T0 + d * DAY, 1000, 0, 0.0, 900, True) for d in range(10)
        ]
    }
    history = dataclasses.replace(history_of(name, 10), profiles={name: points})
    today = T0 + 10 * DAY
    profile = Profile(
        name,
        (
            ColumnProfile(
                "customer_id", "BIGINT", {"null_count": 80, "null_ratio": 0.08, "distinct_count": 880}
            ),
        ),
        row_count=1000,
        window_start=today - DAY,
        window_end=today,
    )
    obs = observation(name, today, history.observations[name][-1].row_count + 1000)
    verdict = evaluate([config], [DatasetResult(obs, profile=profile)], history, as_of=today)
    assert [(f.subject, f.details["metric"]) for f in verdict.findings] == [
        ("column.customer_id.null_ratio", "null_ratio")
    ]
    assert verdict.findings[0].observed == "8.0%"
    young = evaluate(
        [config],
        [DatasetResult(observation(name, T0 + 2 * DAY, 2000))],
        history_of(name, 2),
        as_of=T0 + 2 * DAY,
    )
    assert any("learning" in note for note in young.notes[name])


def test_findings_for_result_needs_no_history() -> None:
    config = dataset()
    failing = CheckResult(config.name, "amount.invalid", "invalid", CheckOutcome.WARN, observed_value=1.5)
    findings = findings_for_result(config, DatasetResult(observation(config.name, T0, 5), checks=[failing]))
    assert [(f.kind, f.severity, f.observed) for f in findings] == [(FindingKind.CHECK, "warn", "1.5")]


def test_the_volume_detectors_range_is_handed_on_as_a_row_count() -> None:
    """What the report draws as the expected band: the detector's range, on the row-count scale."""
    config = dataset()
    history = history_of(config.name, 20)
    today = T0 + 20 * DAY
    before = history.observations[config.name][-1].row_count or 0
    normal = evaluate(
        [config], [DatasetResult(observation(config.name, today, before + 1000))], history, as_of=today
    )
    low, high = normal.expected_rows[config.name]
    assert (
        normal.findings == [] and before < low < before + 1000 < high < before + 2000
    )  # rows added, shifted
    spike = evaluate(
        [config], [DatasetResult(observation(config.name, today, before + 5000))], history, as_of=today
    )
    assert spike.expected_rows[config.name] == (low, high) and spike.findings[0].kind == FindingKind.ANOMALY
    learning = evaluate(
        [config],
        [DatasetResult(observation(config.name, T0 + 3 * DAY, 4000))],
        history_of(config.name, 3),
        as_of=T0 + 3 * DAY,
    )
    assert learning.expected_rows == {}


def _faulty_history(name: str, faults: set[int], days: int = 40) -> EvaluationHistory:
    """~1,000 rows a day, with a quarter or four times as many on fault days."""
    rng = random.Random(4)
    total, rows = 0, []
    for d in range(days):
        added = 1000 * rng.uniform(0.9, 1.1) * ((0.25 if d % 2 else 4.0) if d in faults else 1.0)
        total += int(added)
        rows.append(stored(observation(name, T0 + d * DAY, total), d))
    return EvaluationHistory(observations={name: rows}, baselines={name: COLUMNS})


def _volume_incident(name: str, day: int) -> Incident:
    at = T0 + day * DAY
    return Incident(
        day, f"{name}:volume", name, "anomaly", "volume", "warn", IncidentStatus.RESOLVED, "t", "",
        at, at, at, resolved_at=at + DAY,
    )  # fmt: skip


@pytest.mark.parametrize("exclude", [True, False])
def test_runs_of_earlier_volume_incidents_are_not_training_data(exclude: bool) -> None:
    config = dataset(anomaly={"exclude_incident_runs": exclude})
    faults = set(range(13, 40, 3))
    history = dataclasses.replace(
        _faulty_history(config.name, faults),
        active_incidents=[_volume_incident(config.name, d) for d in faults],
    )
    today = T0 + 40 * DAY
    obs = observation(config.name, today, history.observations[config.name][-1].row_count + 400)
    verdict = evaluate([config], [DatasetResult(obs)], history, as_of=today)
    assert [(f.subject, f.details["direction"]) for f in verdict.findings] == (
        [("volume", "drop")] if exclude else []
    )


@pytest.mark.parametrize("follows_rows_report_only", [True, False])
def test_a_distinct_count_moving_with_the_rows_is_report_only(follows_rows_report_only: bool) -> None:
    config = dataset(
        profile={"window": "1d"},
        anomaly={"significance": {"distinct_follows_rows": follows_rows_report_only}},
    )
    name = config.name
    rng = random.Random(6)
    sizes = [int(200 * rng.uniform(0.8, 1.2)) for _ in range(20)]
    points = {
        "order_id": [
            evaluation_module.ColumnPoint(T0 + d * DAY, n, 0, 0.0, round(0.43 * n), True)
            for d, n in enumerate(sizes)
        ]
    }
    history = dataclasses.replace(history_of(name, 20), profiles={name: points})
    today = T0 + 20 * DAY
    stats = {"null_count": 0, "null_ratio": 0.0, "distinct_count": 258}  # 600 rows, 0.43 per row
    profile = Profile(
        name, (ColumnProfile("order_id", "VARCHAR", stats),), row_count=600, window_start=today - DAY
    )
    obs = observation(name, today, history.observations[name][-1].row_count + 1000)
    verdict = evaluate([config], [DatasetResult(obs, profile=profile)], history, as_of=today)
    (finding,) = [f for f in verdict.findings if f.subject == "column.order_id.distinct_count"]
    assert bool(finding.details.get("report_only")) is follows_rows_report_only
